"""Emails about tickets: a new question in someone's queue, an overdue one, a reply.

Each is queued in the transaction that stores the event (assistant.notify.queue), once per
event and recipient, for the people who have not turned that kind off; the worker writes and
sends it. The emails carry a link, never the question or the reply itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from assistant.clock import to_local, utcnow
from assistant.notify.models import EmailKind
from assistant.notify.queue import Outgoing, enqueue_emails
from assistant.people.cover import is_available
from assistant.people.models import Role, TeamKind, User
from assistant.support.models import Ticket, TicketEvent

# Who works each queue: the inverse of tickets.ROLE_TEAMS (a test keeps the two in step).
QUEUE_ROLES: dict[str, Role] = {
    TeamKind.liaison.value: Role.liaison,
    TeamKind.coordination.value: Role.coordinator,
    TeamKind.mso.value: Role.mso,
}


def _reachable(user: User | None) -> bool:
    """Here to read an email: active, not away today (an away with an end date ends by itself)."""
    return is_available(user, to_local(utcnow()).date()) and bool(user and user.email)


def queue_members(session: Session, *, team: str) -> list[User]:
    """The people working a team's queue who are here to read an email."""
    role = QUEUE_ROLES.get(team)
    if role is None:
        return []
    stmt = select(User).where(User.role == role, col(User.active).is_(True)).order_by(col(User.id))
    return [u for u in session.exec(stmt) if _reachable(u)]


def _queue(
    session: Session,
    *,
    ticket: Ticket,
    kind: EmailKind,
    event_key: str,
    recipients: Iterable[User],
    path: str,
) -> int:
    people = {u.id: u for u in recipients if u.id is not None and _reachable(u)}
    # The practice's name is read when the email is written (``notify.worker``).
    params = {"ticket_id": ticket.id, "path": path, "practice_id": ticket.practice_id}
    outgoing = [
        Outgoing(
            to=user.email,
            user_id=user_id,
            kind=kind,
            dedupe_key=f"{kind.value}:{event_key}:{user_id}",
            params=params,
        )
        for user_id, user in people.items()
    ]
    return enqueue_emails(session, outgoing)  # not to those who turned this kind off


def new_ticket(session: Session, *, ticket: Ticket, assignee: User | None = None) -> int:
    """The person the question was routed to, or everyone working its team's queue.
    ``assignee``: that person, when the caller has them already (routing read them)."""
    if assignee is None or assignee.id != ticket.assignee_id:
        assignee = session.get(User, ticket.assignee_id) if ticket.assignee_id is not None else None
    recipients = [assignee] if assignee is not None else queue_members(session, team=ticket.team)
    return _queue(
        session,
        ticket=ticket,
        kind=EmailKind.ticket_new,
        event_key=f"ticket{ticket.id}",
        recipients=[u for u in recipients if u is not None],
        path=f"/inbox/tickets/{ticket.id}",
    )


def overdue(
    session: Session, *, ticket: Ticket, event: TicketEvent, previous_id: int | None
) -> int:
    """The team whose queue the overdue question moved to, and whoever held it before."""
    recipients = queue_members(session, team=ticket.team)
    previous = session.get(User, previous_id) if previous_id is not None else None
    if previous is not None:
        recipients.append(previous)
    return _queue(
        session,
        ticket=ticket,
        kind=EmailKind.ticket_overdue,
        event_key=f"event{event.id}",
        recipients=recipients,
        path=f"/inbox/tickets/{ticket.id}",
    )


def replied(session: Session, *, ticket: Ticket, event: TicketEvent) -> int:
    """The person who asked."""
    asker = session.get(User, ticket.asker_id)
    if asker is None or asker.id == event.author_id:
        return 0
    return _queue(
        session,
        ticket=ticket,
        kind=EmailKind.ticket_reply,
        event_key=f"event{event.id}",
        recipients=[asker],
        path=f"/chat/questions/{ticket.id}",
    )
