"""Putting emails in the outbox, inside the caller's transaction."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.dml import Insert
from sqlmodel import Session, select

from assistant.clock import utcnow
from assistant.db import conflict_insert
from assistant.notify.models import EmailKind, EmailStatus, NotificationPreference, QueuedEmail


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
    """Queue several emails in the caller's transaction, one statement each (most events have
    one recipient): an email whose key is queued already (or is being queued by another
    transaction) is skipped, and so is one whose recipient turned its kind off
    (``/account/notifications``), asked in the same statement. How many were queued."""
    now = now or utcnow()
    rows: dict[str, dict[str, Any]] = {}
    for o in outgoing:
        if o.dedupe_key[:120] not in rows:
            rows[o.dedupe_key[:120]] = _row(o, now)
    if not rows:
        return 0
    # A plain statement built once (no object in the session: nothing in the request reads
    # the rows back). INSERT ... SELECT cannot return rows for several at once: one each.
    conn = session.connection()
    insert = _insert_unless_turned_off(conn.dialect.name)
    return sum(len(conn.execute(insert, row).all()) for row in rows.values())


_EMAILS = QueuedEmail.metadata.tables["email_outbox"]
_PREFERENCES = NotificationPreference.metadata.tables["notify_preference"]


@cache
def _insert_unless_turned_off(dialect: str) -> Insert:
    """``INSERT INTO email_outbox (...) SELECT <the row> WHERE NOT EXISTS (<its recipient
    turned its kind off>) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id``, built once for
    each database."""
    row = {name: sa.bindparam(name, type_=_EMAILS.c[name].type) for name in _ROW_COLUMNS}
    turned_off = sa.select(_PREFERENCES.c.user_id).where(
        _PREFERENCES.c.user_id == row["user_id"],
        _PREFERENCES.c.kind == row["kind"],
        _PREFERENCES.c.enabled.is_(False),
    )
    wanted = sa.select(*row.values()).where(~sa.exists(turned_off))
    insert = conflict_insert(dialect, _EMAILS).from_select(list(row), wanted)
    return insert.on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(_EMAILS.c.id)


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


# The columns ``_row`` gives, in its order (for the INSERT ... SELECT).
_ROW_COLUMNS = tuple(_row(Outgoing(to="", kind=EmailKind.ticket_new, dedupe_key=""), utcnow()))
