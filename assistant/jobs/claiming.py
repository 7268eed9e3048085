"""Claiming rows of a queue table for one worker pass, shared by the SMS and email outboxes.

A queue table has ``id``, ``status``, ``next_attempt_at``, ``claim_token``, ``claimed_at``,
``attempts`` and ``updated_at``. A pass marks up to ``batch_size`` due rows as its own with a
fresh token; every later change to a claimed row names that token and the sending status, so a
row another worker has taken back (a stale claim) is never written by the first one.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

ATTEMPTS_TO_PICK = 5  # without row locks (SQLite) another worker may win the rows: pick again


def claim_due(
    engine: Engine,
    table: Any,
    *,
    queued: str,
    sending: str,
    now: datetime,
    batch_size: int,
    **values: object,
) -> str | None:
    """Claim the due rows; their claim token (None when nothing is due). ``values`` are set on
    each claimed row besides the claim itself."""
    token = uuid.uuid4().hex
    due = (
        select(table.id)
        .where(table.status == queued, col(table.next_attempt_at) <= now)
        .order_by(col(table.next_attempt_at), col(table.id))
        .limit(batch_size)
    )
    if engine.dialect.name == "postgresql":
        # Rows another worker is claiming right now are skipped, not waited for.
        due = due.with_for_update(skip_locked=True)
    with Session(engine) as session:
        for _ in range(ATTEMPTS_TO_PICK):
            ids = list(session.exec(due))
            if not ids:
                session.commit()
                return None
            # The status guard makes the claim safe even without row locks.
            result = session.exec(
                update(table)
                .where(col(table.id).in_(ids), col(table.status) == queued)
                .values(
                    status=sending,
                    claim_token=token,
                    claimed_at=now,
                    attempts=col(table.attempts) + 1,
                    updated_at=now,
                    **values,
                )
            )
            session.commit()
            if result.rowcount:
                return token
    return token


def update_claimed(
    engine: Engine, table: Any, *, row_id: int, token: str, sending: str, **values: object
) -> int:
    """Change one claimed row, only if it is still this claim's; the rows changed (0 or 1)."""
    stmt = (
        update(table)
        .where(col(table.id) == row_id, col(table.claim_token) == token, table.status == sending)
        .values(**values)
    )
    with Session(engine) as session:
        result = session.exec(stmt)
        session.commit()
        return int(result.rowcount)
