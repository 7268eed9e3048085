"""Referrals to the PCW team: creating them, and the inbox's actions on them."""

from __future__ import annotations

from sqlmodel import Session

from assistant.clock import to_local, utcnow
from assistant.pcw.models import Referral, ReferralSource, ReferralStatus
from assistant.pcw.tasks import URGENT_KIND, create_task

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
