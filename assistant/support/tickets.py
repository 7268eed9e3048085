"""Tickets: creating (routed, with a due time) and changing them, each change an event."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from assistant import audit
from assistant.clock import utcnow
from assistant.errors import Invalid
from assistant.i18n import _
from assistant.support import business_hours
from assistant.support.models import EventKind, Ticket, TicketEvent
from assistant.support.routing import route, topic_team

ENTITY = "ticket"


def create_ticket(
    session: Session,
    *,
    practice_id: int,
    asker_id: int,
    question: str,
    detail: str = "",
    transcript: str = "",
    topic_id: str | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Store a question for the PHO, routed to a person or queue, with its due time."""
    question = question.strip()
    if not question:
        raise Invalid(_("Please write your question."))
    now = now or utcnow()
    where = route(session, practice_id=practice_id, owning_team=topic_team(topic_id))
    ticket = Ticket(
        practice_id=practice_id,
        asker_id=asker_id,
        question=question[:2000],
        detail=detail.strip()[:4000],
        transcript=transcript,
        topic_id=topic_id or None,
        team=where.team.value,
        assignee_id=where.assignee_id,
        route_reason=where.reason.value,
        due_at=business_hours.due_at(now),
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    session.flush()
    assert ticket.id is not None
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            kind=EventKind.created,
            author_id=asker_id,
            to_team=where.team.value,
            to_user_id=where.assignee_id,
            created_at=now,
        )
    )
    audit.record(
        session,
        actor_id=asker_id,
        action="created",
        entity=ENTITY,
        entity_id=ticket.id,
        commit=False,
        team=where.team.value,
        assignee_id=where.assignee_id,
        reason=where.reason.value,
        topic=topic_id,
    )
    session.commit()
    session.refresh(ticket)
    return ticket
