"""A practice's "taking new patients" listing: kept current by its practice manager.

The SMS guide lists a practice only when its status was confirmed in the last
``FRESH_DAYS`` days, and says how recent the confirmation is.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from assistant import audit
from assistant.clock import as_utc, to_local
from assistant.errors import Forbidden
from assistant.people.models import Practice, Role, User

FRESH_DAYS = 30


def fresh_since(now: datetime) -> datetime:
    """The oldest confirmation still current at ``now``."""
    return now - timedelta(days=FRESH_DAYS)


def is_current(practice: Practice, now: datetime) -> bool:
    confirmed = practice.accepting_confirmed_at
    return confirmed is not None and as_utc(confirmed) >= fresh_since(now)


def days_since_confirmed(practice: Practice, now: datetime) -> int | None:
    """Whole New Zealand calendar days since the last confirmation (0: today)."""
    confirmed = practice.accepting_confirmed_at
    if confirmed is None:
        return None
    return max((to_local(now).date() - to_local(as_utc(confirmed)).date()).days, 0)


def can_update(user: User, practice: Practice) -> bool:
    """The practice's own managers, and PHO admins."""
    if user.role == Role.admin:
        return True
    return (
        user.role == Role.practice_staff
        and user.practice_manager
        and user.practice_id is not None
        and user.practice_id == practice.id
    )


def confirm_listing(
    session: Session,
    *,
    user: User,
    practice: Practice,
    accepting: bool,
    fee_notes: str,
    now: datetime,
) -> Practice:
    """Set (or confirm unchanged) whether the practice takes new patients and its fee note;
    either way the listing counts as confirmed ``now``. Flushes; the caller commits."""
    if not can_update(user, practice):
        raise Forbidden()
    changed = sorted(
        name
        for name, before, after in (
            ("accepting_new_patients", practice.accepting_new_patients, accepting),
            ("fee_notes", practice.fee_notes, fee_notes),
        )
        if before != after
    )
    practice.accepting_new_patients = accepting
    practice.fee_notes = fee_notes.strip()[:500]
    practice.accepting_confirmed_at = now
    practice.accepting_confirmed_by_id = user.id
    session.add(practice)
    audit.record(
        session,
        actor_id=user.id,
        action="confirmed",
        entity="practice_listing",
        entity_id=practice.id,
        changed=changed,
        accepting=accepting,
    )
    session.flush()
    return practice
