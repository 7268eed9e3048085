"""What each person may see: the inbox views for PHO staff, and a practice's own questions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import sqlalchemy as sa
from sqlmodel import Session, col, select

from assistant import audit
from assistant.clock import utcnow
from assistant.errors import Forbidden, NotFound
from assistant.paging import Page, fetch
from assistant.people.models import Practice, Role, User
from assistant.support.business_hours import is_overdue as past
from assistant.support.models import EventKind, KnowledgeDraft, Ticket, TicketEvent, TicketStatus
from assistant.support.tickets import ENTITY, ROLE_TEAMS, team_of

View = Literal["mine", "team", "overdue", "resolved"]
VIEWS: tuple[View, ...] = ("mine", "team", "overdue", "resolved")
INBOX_ROLES = (Role.liaison, Role.coordinator, Role.mso, Role.admin)
# What the practice sees of a ticket's history: never notes or internal routing.
PRACTICE_EVENTS = (
    EventKind.created,
    EventKind.reply,
    EventKind.followup,
    EventKind.resolved,
    EventKind.reopened,
)


@dataclass(frozen=True)
class TicketRow:
    ticket: Ticket
    practice_name: str
    asker_name: str
    assignee_name: str | None
    overdue: bool
    unread: int = 0


def can_view(user: User, ticket: Ticket) -> bool:
    if user.role == Role.admin:
        return True
    if user.role == Role.practice_staff:
        return user.practice_id is not None and ticket.practice_id == user.practice_id
    if user.role in ROLE_TEAMS:
        return ticket.assignee_id == user.id or ticket.team == ROLE_TEAMS[user.role]
    return False


def can_change(user: User, ticket: Ticket) -> bool:
    return user.role in INBOX_ROLES and can_view(user, ticket)


def get_ticket(session: Session, *, user: User, ticket_id: int, audit_view: bool = True) -> Ticket:
    """The ticket if ``user`` may see it (the view is audited); NotFound / Forbidden otherwise."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound()
    if not can_view(user, ticket):
        raise Forbidden()
    if audit_view:
        audit.record(session, actor_id=user.id, action="viewed", entity=ENTITY, entity_id=ticket_id)
    return ticket


def _rows(session: Session, tickets: list[Ticket], now: datetime) -> list[TicketRow]:
    people_ids = {t.asker_id for t in tickets} | {t.assignee_id for t in tickets if t.assignee_id}
    practice_ids = {t.practice_id for t in tickets}
    people = {u.id: u.name for u in session.exec(select(User).where(col(User.id).in_(people_ids)))}
    practices = {
        p.id: p.name
        for p in session.exec(select(Practice).where(col(Practice.id).in_(practice_ids)))
    }
    return [
        TicketRow(
            ticket=t,
            practice_name=practices.get(t.practice_id, ""),
            asker_name=people.get(t.asker_id, ""),
            assignee_name=people.get(t.assignee_id) if t.assignee_id else None,
            overdue=is_overdue(t, now),
        )
        for t in tickets
    ]


def is_overdue(ticket: Ticket, now: datetime) -> bool:
    return ticket.status == TicketStatus.open and past(ticket.due_at, now)


@dataclass(frozen=True)
class Filters:
    """A search over the tickets a user may see: words (in the question, its detail, the
    practice's or the asker's name), a team, a topic and a status. Empty: no search."""

    words: str = ""
    team: str = ""
    topic: str = ""
    status: str = ""  # "open", "resolved" or "" for both

    @property
    def active(self) -> bool:
        return bool(self.words.strip() or self.team or self.topic or self.status)


def inbox(
    session: Session,
    *,
    user: User,
    view: View,
    now: datetime | None = None,
    filters: Filters | None = None,
    page: int = 1,
) -> Page[TicketRow]:
    """One inbox view, or a search when ``filters`` are set. Reading changes nothing: overdue
    tickets are escalated by the worker's schedule (``assistant.schedule``)."""
    now = now or utcnow()
    stmt = select(Ticket)
    team = team_of(user)
    scope = _scope(team)
    if filters is not None and filters.active:
        return _search(session, user=user, filters=filters, now=now, page=page)
    if view == "mine":
        stmt = stmt.where(Ticket.assignee_id == user.id, Ticket.status == TicketStatus.open)
    elif view == "team":
        stmt = stmt.where(scope, Ticket.status == TicketStatus.open)
    elif view == "overdue":
        stmt = stmt.where(
            sa.or_(scope, col(Ticket.assignee_id) == user.id),
            Ticket.status == TicketStatus.open,
            col(Ticket.due_at) < now,
        )
    else:
        stmt = stmt.where(
            sa.or_(scope, col(Ticket.assignee_id) == user.id),
            Ticket.status == TicketStatus.resolved,
        )
    if view == "resolved":
        stmt = stmt.order_by(col(Ticket.resolved_at).desc(), col(Ticket.id).desc())
    else:
        stmt = stmt.order_by(col(Ticket.due_at), col(Ticket.id))
    found = fetch(session, stmt, number=page)
    return Page(_rows(session, found.items, now), found.number, found.has_next)


def _search(
    session: Session, *, user: User, filters: Filters, now: datetime, page: int
) -> Page[TicketRow]:
    team = team_of(user)
    stmt = select(Ticket).where(sa.or_(_scope(team), col(Ticket.assignee_id) == user.id))
    if filters.team:
        stmt = stmt.where(Ticket.team == filters.team)
    if filters.topic:
        stmt = stmt.where(Ticket.topic_id == filters.topic)
    if filters.status in (TicketStatus.open, TicketStatus.resolved):
        stmt = stmt.where(Ticket.status == filters.status)
    for word in filters.words.split()[:8]:
        like = f"%{_escape_like(word[:60])}%"
        practices = select(Practice.id).where(col(Practice.name).ilike(like, escape="\\"))
        people = select(User.id).where(col(User.name).ilike(like, escape="\\"))
        stmt = stmt.where(
            sa.or_(
                col(Ticket.question).ilike(like, escape="\\"),
                col(Ticket.detail).ilike(like, escape="\\"),
                col(Ticket.practice_id).in_(practices),
                col(Ticket.asker_id).in_(people),
                col(Ticket.assignee_id).in_(people),
            )
        )
    stmt = stmt.order_by(col(Ticket.created_at).desc(), col(Ticket.id).desc())
    found = fetch(session, stmt, number=page)
    return Page(_rows(session, found.items, now), found.number, found.has_next)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _scope(team: str | None) -> sa.ColumnElement[bool]:
    """A team's tickets; every ticket for an admin (no team of their own)."""
    return col(Ticket.team) == team if team is not None else sa.true()


def view_counts(session: Session, *, user: User, now: datetime | None = None) -> dict[str, int]:
    now = now or utcnow()
    team = team_of(user)
    scope = _scope(team)
    is_open = col(Ticket.status) == TicketStatus.open
    mine = col(Ticket.assignee_id) == user.id

    def count(*where: sa.ColumnElement[bool]) -> int:
        stmt = select(sa.func.count()).select_from(Ticket).where(*where)
        return int(session.exec(stmt).one())

    return {
        "mine": count(is_open, mine),
        "team": count(is_open, scope),
        "overdue": count(is_open, sa.or_(scope, mine), col(Ticket.due_at) < now),
    }


def events(session: Session, *, ticket: Ticket, for_practice: bool) -> list[TicketEvent]:
    stmt = select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
    if for_practice:
        stmt = stmt.where(col(TicketEvent.kind).in_([k.value for k in PRACTICE_EVENTS]))
    return list(session.exec(stmt.order_by(col(TicketEvent.id))))


def practice_tickets(
    session: Session, *, user: User, now: datetime | None = None, limit: int = 50
) -> list[TicketRow]:
    """The questions of the user's practice, newest first, with the user's unread replies."""
    if user.practice_id is None:
        return []
    stmt = (
        select(Ticket)
        .where(Ticket.practice_id == user.practice_id)
        .order_by(col(Ticket.created_at).desc(), col(Ticket.id).desc())
        .limit(limit)
    )
    rows = _rows(session, list(session.exec(stmt)), now or utcnow())
    unread = _unread_by_ticket(session, user=user)
    return [
        TicketRow(
            r.ticket,
            r.practice_name,
            r.asker_name,
            r.assignee_name,
            r.overdue,
            unread.get(r.ticket.id or 0, 0),
        )
        for r in rows
    ]


def _unread_by_ticket(session: Session, *, user: User) -> dict[int, int]:
    stmt = (
        select(TicketEvent.ticket_id, sa.func.count())
        .join(Ticket, col(Ticket.id) == col(TicketEvent.ticket_id))
        .where(
            Ticket.asker_id == user.id,
            TicketEvent.kind == EventKind.reply,
            col(TicketEvent.read_at).is_(None),
        )
        .group_by(col(TicketEvent.ticket_id))
    )
    return {int(ticket_id): int(n) for ticket_id, n in session.exec(stmt)}


def unread_reply_count(session: Session, user: User) -> int:
    """Replies to this user's questions they have not opened yet (the badge in the nav).

    One COUNT query, and none at all for anyone but practice staff.
    """
    if user.role != Role.practice_staff or user.id is None:
        return 0
    stmt = (
        select(sa.func.count())
        .select_from(TicketEvent)
        .join(Ticket, col(Ticket.id) == col(TicketEvent.ticket_id))
        .where(
            Ticket.asker_id == user.id,
            TicketEvent.kind == EventKind.reply,
            col(TicketEvent.read_at).is_(None),
        )
    )
    return int(session.exec(stmt).one())


def assignable_people(session: Session) -> list[User]:
    stmt = (
        select(User)
        .where(col(User.role).in_(list(ROLE_TEAMS)), User.active == True)  # noqa: E712
        .order_by(col(User.name))
    )
    return list(session.exec(stmt))


def latest_replies(session: Session, *, ticket_ids: list[int]) -> dict[int, TicketEvent]:
    """The newest reply on each ticket (what the practice is waiting for)."""
    if not ticket_ids:
        return {}
    stmt = (
        select(TicketEvent)
        .where(col(TicketEvent.ticket_id).in_(ticket_ids), TicketEvent.kind == EventKind.reply)
        .order_by(col(TicketEvent.id))
    )
    return {event.ticket_id: event for event in session.exec(stmt)}


def drafted_events(session: Session, *, ticket: Ticket) -> set[int]:
    stmt = select(KnowledgeDraft.event_id).where(KnowledgeDraft.ticket_id == ticket.id)
    return {event_id for event_id in session.exec(stmt) if event_id is not None}


def names(session: Session, *, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    stmt = select(User).where(col(User.id).in_(user_ids))
    return {u.id: u.name for u in session.exec(stmt) if u.id is not None}
