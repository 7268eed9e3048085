"""Tickets: creating (routed, with a due time) and changing them, each change an event.

Every function here only adds and flushes: the caller (a request, a CLI command, a worker step)
owns the transaction and commits it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

import sqlalchemy as sa
from sqlmodel import Session, col, select

from assistant import audit
from assistant.clock import to_local, utcnow
from assistant.db import add_inserted, build, hold_as_flushed, insert_values
from assistant.errors import Conflict, Invalid
from assistant.i18n import _
from assistant.people.models import Role, TeamKind, User
from assistant.support import business_hours, notifications
from assistant.support.models import EventKind, KnowledgeDraft, Ticket, TicketEvent, TicketStatus
from assistant.support.routing import TEAM_QUEUES, route, topic_team

ENTITY = "ticket"
ROLE_TEAMS: dict[Role, str] = {
    Role.liaison: TeamKind.liaison.value,
    Role.coordinator: TeamKind.coordination.value,
    Role.mso: TeamKind.mso.value,
}


_TICKETS = Ticket.metadata.tables["support_ticket"]
_EVENTS = TicketEvent.metadata.tables["support_ticket_event"]
_INSERT_EVENT = sa.insert(_EVENTS)
_FIRST_EVENT_COLUMNS = ("kind", "author_id", "body", "to_team", "to_user_id", "created_at")
# Takes the ticket row's lock (PostgreSQL) or the database's write lock (SQLite) before the
# ticket is read again: a second copy of a request waits here until the first has committed.
_HOLD_TICKET = (
    sa.update(_TICKETS)
    .where(_TICKETS.c.id == sa.bindparam("ticket_id"))
    .values(updated_at=_TICKETS.c.updated_at)
)
# The same reply by the same person on the same ticket within this time is one reply sent twice
# (a double click, a form sent again after a slow answer), not a second reply.
SAME_REPLY_WINDOW = timedelta(minutes=10)


@cache
def _insert_with_first_event() -> sa.Select[tuple[int]]:
    """PostgreSQL: a new ticket and its first event in one statement (data-modifying WITHs),
    returning the ticket's id. The ticket's values are bound by column name, the event's as
    ``event_<column>``."""
    columns = [c for c in _TICKETS.c if c.name != "id"]
    ticket = (
        sa.insert(_TICKETS)
        .values({c.name: sa.bindparam(c.name, type_=c.type) for c in columns})
        .returning(_TICKETS.c.id)
        .cte("new_ticket")
    )
    event_values = sa.select(
        ticket.c.id,
        *(sa.bindparam(f"event_{n}", type_=_EVENTS.c[n].type) for n in _FIRST_EVENT_COLUMNS),
    )
    first_event = (
        sa.insert(_EVENTS)
        .from_select(["ticket_id", *_FIRST_EVENT_COLUMNS], event_values)
        .cte("first_event")
    )
    return sa.select(ticket.c.id).add_cte(first_event)


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
    """Store a question for the PHO, routed to a person or queue, with its due time.

    Only flushed: the caller's transaction holds it (a form submission and its ticket, or a
    chat hand-off and its note, stored together or neither), and the caller commits.
    """
    question = question.strip()
    if not question:
        raise Invalid(_("Please write your question."))
    now = now or utcnow()
    where = route(
        session,
        practice_id=practice_id,
        owning_team=topic_team(topic_id),
        today=to_local(now).date(),
    )
    ticket = build(
        Ticket,
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
    # The first event: nothing in this request reads it back.
    first_event = {
        "kind": EventKind.created.value,
        "author_id": asker_id,
        "body": "",
        "to_team": where.team.value,
        "to_user_id": where.assignee_id,
        "created_at": now,
    }
    conn = session.connection()
    if conn.dialect.name == "postgresql":  # both in one statement
        params = insert_values(ticket) | {f"event_{k}": v for k, v in first_event.items()}
        ticket_id = conn.execute(_insert_with_first_event(), params).scalar_one()
        hold_as_flushed(session, ticket, {"id": ticket_id})
    else:
        add_inserted(session, ticket)  # later changes in this session (a demo reply) flush
        conn.execute(_INSERT_EVENT, {"ticket_id": ticket.id} | first_event)
    assert ticket.id is not None
    audit.record(
        session,
        actor_id=asker_id,
        action="created",
        entity=ENTITY,
        entity_id=ticket.id,
        team=where.team.value,
        assignee_id=where.assignee_id,
        reason=where.reason.value,
        topic=topic_id,
    )
    notifications.new_ticket(session, ticket=ticket, assignee=where.assignee)
    session.flush()
    return ticket


def _event(
    session: Session,
    ticket: Ticket,
    kind: EventKind,
    *,
    actor_id: int | None,
    now: datetime,
    body: str = "",
    to_team: str | None = None,
    to_user_id: int | None = None,
) -> TicketEvent:
    assert ticket.id is not None
    event = TicketEvent(
        ticket_id=ticket.id,
        kind=kind,
        author_id=actor_id,
        body=body,
        to_team=to_team,
        to_user_id=to_user_id,
        created_at=now,
    )
    ticket.updated_at = now
    session.add(ticket)
    session.add(event)
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        action=kind.value,
        entity=ENTITY,
        entity_id=ticket.id,
        event_id=event.id,
    )
    return event


def _text(body: str, limit: int = 8000) -> str:
    body = body.strip()
    if not body:
        raise Invalid(_("Please write something first."))
    if len(body) > limit:
        raise Invalid(_("That is too long: please keep it under %(n)s characters.", n=limit))
    return body


def reply(
    session: Session,
    *,
    ticket: Ticket,
    author: User,
    body: str,
    now: datetime | None = None,
    and_resolve: bool = False,
) -> TicketEvent:
    """A reply the practice sees in its chat (and, with ``and_resolve``, the question marked
    resolved in the same transaction). The same reply sent again by its author within
    ``SAME_REPLY_WINDOW`` is the reply already stored: no second event, no second email."""
    now = now or utcnow()
    text = _text(body)
    _hold(session, ticket)
    event = _same_reply(session, ticket=ticket, author=author, body=text, now=now)
    if event is None:
        event = _event(session, ticket, EventKind.reply, actor_id=author.id, now=now, body=text)
        notifications.replied(session, ticket=ticket, event=event)
    if and_resolve and ticket.status == TicketStatus.open:
        ticket.status, ticket.resolved_at = TicketStatus.resolved, now
        _event(session, ticket, EventKind.resolved, actor_id=author.id, now=now)
    session.flush()
    return event


def _hold(session: Session, ticket: Ticket) -> None:
    """Lock the ticket for the rest of the transaction and read it again as it now stands
    (what this transaction changed is flushed first, so nothing of it is lost)."""
    session.flush()
    session.execute(_HOLD_TICKET, {"ticket_id": ticket.id})
    session.refresh(ticket)


def _same_reply(
    session: Session, *, ticket: Ticket, author: User, body: str, now: datetime
) -> TicketEvent | None:
    """The author's reply with this text on this ticket within ``SAME_REPLY_WINDOW``, if any."""
    stmt = (
        select(TicketEvent)
        .where(
            TicketEvent.ticket_id == ticket.id,
            TicketEvent.kind == EventKind.reply,
            TicketEvent.author_id == author.id,
            TicketEvent.body == body,
            col(TicketEvent.created_at) >= now - SAME_REPLY_WINDOW,
        )
        .order_by(col(TicketEvent.id).desc())
        .limit(1)
    )
    return session.exec(stmt).first()


def follow_up(
    session: Session, *, ticket: Ticket, author: User, body: str, now: datetime | None = None
) -> TicketEvent:
    """The practice adds to its question; a resolved question opens again with a new due time."""
    now = now or utcnow()
    event = _event(
        session, ticket, EventKind.followup, actor_id=author.id, now=now, body=_text(body, 4000)
    )
    if ticket.status == TicketStatus.resolved:
        ticket.status, ticket.resolved_at = TicketStatus.open, None
        ticket.due_at, ticket.escalated_at = business_hours.due_at(now), None
        _event(session, ticket, EventKind.reopened, actor_id=author.id, now=now)
    session.flush()
    return event


def add_note(
    session: Session, *, ticket: Ticket, author: User, body: str, now: datetime | None = None
) -> TicketEvent:
    """An internal note: for the PHO's staff only, never shown to the practice."""
    event = _event(
        session, ticket, EventKind.note, actor_id=author.id, now=now or utcnow(), body=_text(body)
    )
    session.flush()
    return event


def reassign(
    session: Session,
    *,
    ticket: Ticket,
    actor: User,
    to_user_id: int | None = None,
    to_team: str | None = None,
    now: datetime | None = None,
) -> TicketEvent:
    """Give the ticket to a person (in their team's queue) or to a team's queue."""
    if to_user_id is not None:
        person = session.get(User, to_user_id)
        team = team_of(person) if person is not None else None
        if person is None or not person.active or team is None:
            raise Invalid(_("Choose a person who works in the inbox."))
        ticket.assignee_id, ticket.team = person.id, team
    elif to_team in {t.value for t in TEAM_QUEUES}:
        assert to_team is not None
        ticket.assignee_id, ticket.team = None, to_team
    else:
        raise Invalid(_("Choose a person or a team."))
    event = _event(
        session,
        ticket,
        EventKind.assigned,
        actor_id=actor.id,
        now=now or utcnow(),
        to_team=ticket.team,
        to_user_id=ticket.assignee_id,
    )
    session.flush()
    return event


def resolve(
    session: Session, *, ticket: Ticket, actor: User, now: datetime | None = None
) -> TicketEvent:
    if ticket.status == TicketStatus.resolved:
        raise Conflict(_("This question is already resolved."))
    now = now or utcnow()
    ticket.status, ticket.resolved_at = TicketStatus.resolved, now
    event = _event(session, ticket, EventKind.resolved, actor_id=actor.id, now=now)
    session.flush()
    return event


def reopen(
    session: Session, *, ticket: Ticket, actor: User, now: datetime | None = None
) -> TicketEvent:
    """Open a resolved ticket again, with a fresh due time."""
    if ticket.status == TicketStatus.open:
        raise Conflict(_("This question is already open."))
    now = now or utcnow()
    ticket.status, ticket.resolved_at = TicketStatus.open, None
    ticket.due_at, ticket.escalated_at = business_hours.due_at(now), None
    event = _event(session, ticket, EventKind.reopened, actor_id=actor.id, now=now)
    session.flush()
    return event


def escalate_overdue(session: Session, *, now: datetime | None = None) -> list[Ticket]:
    """Move open, overdue tickets held by a person into their team's queue (once per ticket).

    Safe to run from any process at any time: the state is in the rows, and a ticket that has
    been escalated is not escalated again until it is reopened. The caller commits (the claims
    and their events are stored together).
    """
    now = now or utcnow()
    stmt = select(Ticket).where(
        Ticket.status == TicketStatus.open,
        col(Ticket.due_at) < now,
        col(Ticket.escalated_at).is_(None),
    )
    changed = []
    for ticket in list(session.exec(stmt)):
        # Claim the row first, so two processes running this never escalate a ticket twice.
        claimed = session.connection().execute(
            sa.update(Ticket)
            .where(col(Ticket.id) == ticket.id, col(Ticket.escalated_at).is_(None))
            .values(escalated_at=now, assignee_id=None)
        )
        if claimed.rowcount != 1:
            continue
        previous = ticket.assignee_id
        session.refresh(ticket)
        event = _event(
            session,
            ticket,
            EventKind.escalated,
            actor_id=None,
            now=now,
            to_team=ticket.team,
            to_user_id=previous,
        )
        notifications.overdue(session, ticket=ticket, event=event, previous_id=previous)
        changed.append(ticket)
    session.flush()
    return changed


def save_draft(
    session: Session,
    *,
    ticket: Ticket,
    event: TicketEvent,
    author: User,
    title: str = "",
    now: datetime | None = None,
) -> KnowledgeDraft:
    """Keep a reply as a draft knowledge entry for review (never served until published)."""
    if event.ticket_id != ticket.id or event.kind != EventKind.reply:
        raise Invalid(_("Only a reply can be saved as a draft answer."))
    assert ticket.id is not None
    saved = session.exec(select(KnowledgeDraft).where(KnowledgeDraft.event_id == event.id)).first()
    if saved is not None:  # asked again (a reply sent twice with the box ticked): kept once
        return saved
    draft = KnowledgeDraft(
        ticket_id=ticket.id,
        event_id=event.id,
        title=(title.strip() or ticket.question)[:200],
        body_markdown=event.body,
        topic_id=ticket.topic_id,
        author_id=author.id,
        created_at=now or utcnow(),
    )
    session.add(draft)
    session.flush()
    audit.record(
        session,
        actor_id=author.id,
        action="drafted",
        entity=ENTITY,
        entity_id=ticket.id,
        draft_id=draft.id,
    )
    session.flush()
    return draft


def mark_replies_read(
    session: Session, *, ticket: Ticket, reader: User, now: datetime | None = None
) -> int:
    """The asker has seen the replies on their ticket; returns how many were new. Flushed: the
    caller commits."""
    if reader.id != ticket.asker_id:
        return 0
    stmt = select(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id,
        TicketEvent.kind == EventKind.reply,
        col(TicketEvent.read_at).is_(None),
    )
    events = list(session.exec(stmt))
    for event in events:
        event.read_at = now or utcnow()
        session.add(event)
    session.flush()
    return len(events)


def team_of(user: User) -> str | None:
    """The queue a PHO staff member works from (admins: none of their own)."""
    return ROLE_TEAMS.get(user.role)
