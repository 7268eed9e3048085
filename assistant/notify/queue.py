"""Putting emails in the outbox, inside the caller's transaction."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from assistant.clock import utcnow
from assistant.notify.models import EmailKind, EmailStatus, QueuedEmail


def enqueue_email(
    session: Session,
    *,
    to: str,
    kind: EmailKind,
    dedupe_key: str,
    user_id: int | None = None,
    params: dict[str, Any] | None = None,
    sensitive: bool = False,
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> QueuedEmail:
    """Queue one email; only flushed, so it is stored with the event that caused it, or not at
    all. The same ``dedupe_key`` again returns the email already queued."""
    existing = session.exec(select(QueuedEmail).where(QueuedEmail.dedupe_key == dedupe_key)).first()
    if existing is not None:
        return existing
    now = now or utcnow()
    email = QueuedEmail(
        user_id=user_id,
        to=to.strip(),
        kind=kind.value,
        params=json.dumps(params or {}, sort_keys=True),
        sensitive=sensitive,
        dedupe_key=dedupe_key[:120],
        message_id=f"<{uuid.uuid4().hex}@pho-assistant>",
        status=EmailStatus.queued,
        next_attempt_at=now,
        expires_at=expires_at,
        created_at=now,
        updated_at=now,
    )
    session.add(email)
    session.flush()
    return email
