"""Referrals to the PCW team: creating them, and the inbox's actions on them."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, col, select

from assistant.clock import to_local, utcnow
from assistant.contacts.phone import mask_phone
from assistant.pcw.models import FollowUpTask, Referral, ReferralSource, ReferralStatus
from assistant.pcw.tasks import REPLY_KIND, URGENT_KIND, create_task
from assistant.people.models import User

BARRIERS = (
    "cost",
    "transport",
    "language",
    "isolation",
    "housing",
    "food",
    "safety",
    "system-knowledge",
    "anxiety",
    "cultural",
    "enrolment",
    "phone-internet",
)


def create_referral(
    session: Session,
    *,
    source: str,
    phone: str | None,
    language: str,
    transcript: str,
    barriers: list[str],
    reason: str,
    urgent: bool = False,
    contact_name: str | None = None,
    agency_id: int | None = None,
) -> Referral:
    """A new referral in the PCW inbox, in the caller's transaction (flushed, not committed).

    An urgent one (a safety message) also puts a task due today in the task list of every PCW
    who can see the referral.
    """
    ReferralSource(source)  # raises ValueError for an unknown source
    now = utcnow()
    referral = Referral(
        source=source,
        phone=phone or None,
        contact_name=contact_name or None,
        language=language,
        transcript=transcript,
        barriers=sorted(set(barriers)),
        reason=reason[:500],
        urgent=urgent,
        status=ReferralStatus.open,
        agency_id=agency_id,
        created_at=now,
        updated_at=now,
    )
    session.add(referral)
    if urgent:
        session.flush()
        create_task(
            session,
            assignee_id=None,
            agency_id=agency_id,
            title="Urgent referral",  # shown translated, by its kind
            kind=URGENT_KIND,
            due=to_local(now).date(),
            source_ref=f"referral:{referral.id}",
            referral_id=referral.id,
        )
    session.flush()
    return referral


def reply_received(
    session: Session, *, referral_id: int, worker_id: int | None, now: dt.datetime
) -> None:
    """The person texted back after a community worker texted them about ``referral_id``: the
    worker who texted (or, when they no longer work here, any worker who can see the
    referral) gets a task due today to read and answer it, one open task per referral however
    many texts come. The texts themselves show on the referral."""
    referral = session.get(Referral, referral_id)
    if referral is None:
        return
    referral.updated_at = now
    session.add(referral)
    waiting = session.exec(
        select(FollowUpTask.id).where(
            FollowUpTask.referral_id == referral_id,
            FollowUpTask.kind == REPLY_KIND,
            col(FollowUpTask.done).is_(False),
        )
    ).first()
    if waiting is not None:
        session.flush()
        return
    worker = session.get(User, worker_id) if worker_id is not None else None
    create_task(
        session,
        assignee_id=worker.id if worker is not None and worker.active else None,
        agency_id=referral.agency_id,
        # Shown translated, by its kind, with this name in it.
        title=referral.contact_name or mask_phone(referral.phone or ""),
        kind=REPLY_KIND,
        due=to_local(now).date(),
        source_ref=f"referral:{referral_id}",
        referral_id=referral_id,
    )
