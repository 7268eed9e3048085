"""The PCW inbox: who sees which referral, and what a PCW does with one.

Visibility: a referral with an agency belongs to that agency's PCWs; one without (every
referral that comes in by SMS, where we know no agency) sits in the shared PCW team queue
that every PCW sees. Coordinators and admins see everything. A PCW claims a referral before
texting the person or changing its status, so two workers never ring the same person;
anyone who can see a referral may add a note.

The functions only add and flush: the caller (the request) commits.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from sqlalchemy import or_, update
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from assistant import audit
from assistant.clock import utcnow
from assistant.contacts.awaiting import await_worker_reply
from assistant.contacts.optout import is_opted_out
from assistant.errors import Conflict, Invalid, NotFound
from assistant.i18n import _
from assistant.outbox.models import OutboxMessage
from assistant.outbox.queue import enqueue_sms
from assistant.paging import Page, fetch
from assistant.pcw.models import FollowUpTask, NoteKind, Referral, ReferralNote, ReferralStatus
from assistant.pcw.tasks import REPLY_KIND, create_task
from assistant.people.models import Role, User

Show = Literal["open", "mine", "closed", "all"]
SHOW_CHOICES: tuple[Show, ...] = ("open", "mine", "closed", "all")
CLOSED = (ReferralStatus.enrolled, ReferralStatus.unreachable)
SMS_MAX = 480
NOTE_MAX = 4000


class NotClaimed(Conflict):
    pass


class ClaimedByOther(Conflict):
    pass


def sees_everything(user: User) -> bool:
    return user.role in (Role.coordinator, Role.admin)


def _visible(stmt: SelectOfScalar[Referral], user: User) -> SelectOfScalar[Referral]:
    if sees_everything(user):
        return stmt
    return stmt.where(
        or_(col(Referral.agency_id).is_(None), col(Referral.agency_id) == user.agency_id)
    )


def list_referrals(session: Session, *, user: User, show: Show = "open") -> list[Referral]:
    """The first page of ``page_of_referrals``."""
    return page_of_referrals(session, user=user, show=show).items


def page_of_referrals(
    session: Session, *, user: User, show: Show = "open", page: int = 1
) -> Page[Referral]:
    """Urgent first, then the longest waiting; closed ones most recent first."""
    stmt = _visible(select(Referral), user)
    if show == "open":
        stmt = stmt.where(col(Referral.status).not_in(CLOSED)).order_by(
            col(Referral.urgent).desc(), col(Referral.created_at), col(Referral.id)
        )
    elif show == "mine":
        stmt = stmt.where(
            Referral.claimed_by_id == user.id, col(Referral.status).not_in(CLOSED)
        ).order_by(col(Referral.urgent).desc(), col(Referral.created_at), col(Referral.id))
    elif show == "closed":
        stmt = stmt.where(col(Referral.status).in_(CLOSED)).order_by(
            col(Referral.updated_at).desc(), col(Referral.id).desc()
        )
    else:
        stmt = stmt.order_by(
            col(Referral.urgent).desc(), col(Referral.created_at).desc(), col(Referral.id).desc()
        )
    audit.record(
        session, actor_id=user.id, action="viewed", entity="referral", entity_id="list", show=show
    )
    return fetch(session, stmt, number=page)


def get_referral(
    session: Session, *, user: User, referral_id: int, audit_view: bool = True
) -> Referral:
    """One referral the user may see (NotFound otherwise, so ids reveal nothing)."""
    stmt = _visible(select(Referral).where(Referral.id == referral_id), user)
    referral = session.exec(stmt).first()
    if referral is None:
        raise NotFound(_("We could not find that referral."))
    if audit_view:
        audit.record(
            session, actor_id=user.id, action="viewed", entity="referral", entity_id=referral_id
        )
        session.refresh(referral)
    return referral


def notes_for(session: Session, *, referral_id: int) -> list[ReferralNote]:
    stmt = (
        select(ReferralNote)
        .where(ReferralNote.referral_id == referral_id)
        .order_by(col(ReferralNote.created_at), col(ReferralNote.id))
    )
    return list(session.exec(stmt))


def messages_for(session: Session, *, referral_id: int) -> list[OutboxMessage]:
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.referral_id == referral_id)
        .order_by(col(OutboxMessage.created_at), col(OutboxMessage.id))
    )
    return list(session.exec(stmt))


def claim_referral(session: Session, *, user: User, referral_id: int) -> Referral:
    """Take a referral; refused when someone else has it (two claims at once: one wins)."""
    referral = get_referral(session, user=user, referral_id=referral_id, audit_view=False)
    if referral.claimed_by_id == user.id:
        return referral
    now = utcnow()
    result = session.exec(
        update(Referral)
        .where(col(Referral.id) == referral_id, col(Referral.claimed_by_id).is_(None))
        .values(claimed_by_id=user.id, claimed_at=now, updated_at=now)
    )
    if not result.rowcount:
        session.refresh(referral)  # who holds it now (the caller rolls back)
        raise ClaimedByOther(
            _("%(name)s has already claimed this referral.", name=_holder(session, referral))
        )
    session.add(ReferralNote(referral_id=referral_id, author_id=user.id, kind=NoteKind.claim))
    _audit(session, user=user, action="claimed", referral_id=referral_id)
    session.flush()
    session.refresh(referral)
    return referral


def release_referral(session: Session, *, user: User, referral_id: int) -> Referral:
    """Give a claimed referral back to the queue (the holder, or a coordinator)."""
    referral = _for_action(session, user=user, referral_id=referral_id)
    referral.claimed_by_id = None
    referral.claimed_at = None
    referral.updated_at = utcnow()
    session.add(referral)
    _audit(session, user=user, action="released", referral_id=referral_id)
    session.flush()
    return referral


def add_note(session: Session, *, user: User, referral_id: int, body: str) -> ReferralNote:
    get_referral(session, user=user, referral_id=referral_id, audit_view=False)
    text = body.strip()
    if not text:
        raise Invalid(_("Write a note first."))
    if len(text) > NOTE_MAX:
        raise Invalid(_("Keep the note under %(n)s characters.", n=NOTE_MAX))
    note = ReferralNote(referral_id=referral_id, author_id=user.id, kind=NoteKind.note, body=text)
    session.add(note)
    _touch(session, referral_id)
    _audit(session, user=user, action="note-added", referral_id=referral_id)
    session.flush()
    return note


def send_sms(session: Session, *, user: User, referral_id: int, body: str) -> OutboxMessage:
    """Queue a text to the person; the outbox worker sends it."""
    referral = _for_action(session, user=user, referral_id=referral_id)
    text = body.strip()
    if not referral.phone:
        raise Invalid(_("This referral has no mobile number."))
    if not text:
        raise Invalid(_("Write the message first."))
    if len(text) > SMS_MAX:
        raise Invalid(_("Keep the message under %(n)s characters.", n=SMS_MAX))
    if is_opted_out(session, phone=referral.phone):
        raise Invalid(_("This person has asked for no more texts (STOP)."))
    message = enqueue_sms(
        session,
        to=referral.phone,
        body=text,
        purpose="pcw-reply",
        referral_id=referral_id,
        created_by_id=user.id,
    )
    # Their next texts answer this one: they go to the worker, not to the guide's menu.
    await_worker_reply(
        session,
        phone=referral.phone,
        referral_id=referral_id,
        worker_id=user.id,
        at=message.created_at,
        language=referral.language,
    )
    # Texting them answers what they texted back: its task is done.
    for task in session.exec(
        select(FollowUpTask).where(
            FollowUpTask.referral_id == referral_id,
            FollowUpTask.kind == REPLY_KIND,
            col(FollowUpTask.done).is_(False),
        )
    ):
        task.done, task.done_at, task.done_by_id = True, utcnow(), user.id
        session.add(task)
    session.add(
        ReferralNote(referral_id=referral_id, author_id=user.id, kind=NoteKind.sms, body=text)
    )
    _touch(session, referral_id)
    audit.record(
        session,
        actor_id=user.id,
        action="sms-queued",
        entity="referral",
        entity_id=referral_id,
        outbox_id=message.id,
    )
    session.flush()
    return message


def set_status(session: Session, *, user: User, referral_id: int, status: str) -> Referral:
    """Contacted, enrolled, could not reach (or open again)."""
    try:
        new = ReferralStatus(status)
    except ValueError:
        raise Invalid(_("Choose one of the listed outcomes.")) from None
    referral = _for_action(session, user=user, referral_id=referral_id)
    if referral.status == new:
        return referral
    old = referral.status
    now = utcnow()
    referral.status = new
    referral.updated_at = now
    referral.closed_at = now if new in CLOSED else None
    session.add(referral)
    session.add(
        ReferralNote(referral_id=referral_id, author_id=user.id, kind=NoteKind.status, body=new)
    )
    audit.record(
        session,
        actor_id=user.id,
        action="status-changed",
        entity="referral",
        entity_id=referral_id,
        old=old,
        new=new.value,
    )
    session.flush()
    return referral


def tasks_for(session: Session, *, referral_id: int) -> list[FollowUpTask]:
    stmt = (
        select(FollowUpTask)
        .where(FollowUpTask.referral_id == referral_id)
        .order_by(col(FollowUpTask.done), col(FollowUpTask.due), col(FollowUpTask.id))
    )
    return list(session.exec(stmt))


def add_follow_up(
    session: Session, *, user: User, referral_id: int, title: str, due: str | dt.date | None
) -> FollowUpTask:
    """A task in the task list of whoever holds the referral (the team's, if nobody)."""
    referral = _for_action(session, user=user, referral_id=referral_id)
    text = title.strip()
    if not text:
        raise Invalid(_("Say what needs doing."))
    if isinstance(due, str):
        try:
            due = dt.date.fromisoformat(due.strip())
        except ValueError:
            due = None
    if due is None:
        raise Invalid(_("Choose a due date."))
    assignee = user.id if user.role == Role.pcw else referral.claimed_by_id
    task = create_task(
        session,
        assignee_id=assignee,
        agency_id=referral.agency_id,
        title=text,
        kind="follow-up",
        due=due,
        source_ref=f"referral:{referral_id}",
        referral_id=referral_id,
    )
    audit.record(
        session,
        actor_id=user.id,
        action="task-added",
        entity="referral",
        entity_id=referral_id,
        task_id=task.id,
    )
    session.flush()
    return task


def _for_action(session: Session, *, user: User, referral_id: int) -> Referral:
    referral = get_referral(session, user=user, referral_id=referral_id, audit_view=False)
    if referral.claimed_by_id == user.id or sees_everything(user):
        return referral
    if referral.claimed_by_id is None:
        raise NotClaimed(_("Claim this referral before you act on it."))
    raise ClaimedByOther(
        _("%(name)s has already claimed this referral.", name=_holder(session, referral))
    )


def _holder(session: Session, referral: Referral) -> str:
    holder = session.get(User, referral.claimed_by_id) if referral.claimed_by_id else None
    return holder.name if holder else _("Someone else")


def _audit(session: Session, *, user: User, action: str, referral_id: int) -> None:
    """Record a change to a referral in the session's transaction (committed by the caller)."""
    audit.record(
        session,
        actor_id=user.id,
        action=action,
        entity="referral",
        entity_id=referral_id,
    )


def _touch(session: Session, referral_id: int) -> None:
    session.exec(
        update(Referral).where(col(Referral.id) == referral_id).values(updated_at=utcnow())
    )
