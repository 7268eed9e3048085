"""Putting emails in the outbox, inside the caller's transaction."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from assistant.clock import utcnow
from assistant.db import insert_or_skip
from assistant.notify.models import EmailKind, EmailStatus, QueuedEmail


@dataclass(frozen=True)
class Outgoing:
    """One email to queue: to whom, what kind, and the key that makes it once only."""

    to: str
    kind: EmailKind
    dedupe_key: str
    user_id: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    sensitive: bool = False
    expires_at: datetime | None = None


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
    outgoing = Outgoing(
        to=to,
        kind=kind,
        dedupe_key=dedupe_key,
        user_id=user_id,
        params=params or {},
        sensitive=sensitive,
        expires_at=expires_at,
    )
    email = QueuedEmail(**_row(outgoing, now or utcnow()))
    session.add(email)
    session.flush()
    return email


def enqueue_emails(
    session: Session, outgoing: Sequence[Outgoing], *, now: datetime | None = None
) -> int:
    """Queue several emails in the caller's transaction, in one statement: an email whose key
    is queued already (or is being queued by another transaction) is skipped. How many were
    new."""
    now = now or utcnow()
    rows: dict[str, dict[str, Any]] = {}
    for o in outgoing:
        if o.dedupe_key[:120] not in rows:
            rows[o.dedupe_key[:120]] = _row(o, now)
    if not rows:
        return 0
    # The rows as parameters of one plain statement (its SQL compiled once, not for every
    # list; no object in the session: nothing in the request reads them back).
    conn = session.connection()
    insert = insert_or_skip(conn.dialect.name, QueuedEmail, ("dedupe_key",))
    return len(conn.execute(insert.returning(col(QueuedEmail.id)), list(rows.values())).all())


def _row(o: Outgoing, now: datetime) -> dict[str, Any]:
    return {
        "user_id": o.user_id,
        "to": o.to.strip(),
        "kind": o.kind.value,
        "params": json.dumps(o.params, sort_keys=True),
        "sensitive": o.sensitive,
        "dedupe_key": o.dedupe_key[:120],
        "message_id": f"<{uuid.uuid4().hex}@pho-assistant>",
        "status": EmailStatus.queued,
        "next_attempt_at": now,
        "expires_at": o.expires_at,
        "created_at": now,
        "updated_at": now,
    }
