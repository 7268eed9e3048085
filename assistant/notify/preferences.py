"""Which emails each person wants: every kind is on until the person turns it off."""

from __future__ import annotations

from collections.abc import Mapping

from sqlmodel import Session, select

from assistant import audit
from assistant.clock import utcnow
from assistant.notify.models import EmailKind, NotificationPreference
from assistant.people.models import Role

_QUEUE_ROLES = frozenset({Role.liaison, Role.coordinator, Role.mso})

# The kinds that can reach each role (the settings page offers only these).
KINDS_FOR_ROLE: dict[Role, tuple[EmailKind, ...]] = {
    Role.practice_staff: (EmailKind.ticket_reply, EmailKind.enrolment_new),
    **{role: (EmailKind.ticket_new, EmailKind.ticket_overdue) for role in _QUEUE_ROLES},
}


def kinds_for(role: Role) -> tuple[EmailKind, ...]:
    return KINDS_FOR_ROLE.get(role, ())


def preferences_for(session: Session, *, user_id: int, role: Role) -> dict[EmailKind, bool]:
    """Each kind the person can get, and whether it is on."""
    rows = session.exec(
        select(NotificationPreference).where(NotificationPreference.user_id == user_id)
    ).all()
    saved = {row.kind: row.enabled for row in rows}
    return {kind: saved.get(kind.value, True) for kind in kinds_for(role)}


def wants(session: Session, *, user_id: int, kind: EmailKind) -> bool:
    row = session.get(NotificationPreference, (user_id, kind.value))
    return row is None or row.enabled


def set_preferences(
    session: Session, *, user_id: int, role: Role, enabled: Mapping[EmailKind, bool]
) -> dict[EmailKind, bool]:
    """Save the person's choices for the kinds their role can get; flushed, not committed."""
    now = utcnow()
    current = preferences_for(session, user_id=user_id, role=role)
    changed: list[str] = []
    for kind in current:
        on = bool(enabled.get(kind, False))
        row = session.get(NotificationPreference, (user_id, kind.value))
        if row is None:
            row = NotificationPreference(user_id=user_id, kind=kind.value, enabled=on)
        elif row.enabled == on:
            continue
        row.enabled, row.updated_at = on, now
        session.add(row)
        if current[kind] != on:
            changed.append(f"{kind.value}={'on' if on else 'off'}")
    session.flush()
    if changed:
        audit.record(
            session,
            actor_id=user_id,
            action="changed",
            entity="notify_preference",
            entity_id=user_id,
            changes=changed,
        )
    return preferences_for(session, user_id=user_id, role=role)
