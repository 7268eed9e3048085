"""The audit trail: who created, changed or viewed personal records."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from assistant.clock import utcnow


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_id: int | None = Field(default=None, index=True)
    action: str = Field(max_length=40)  # created | changed | viewed | deleted | sent | ...
    entity: str = Field(max_length=60, index=True)
    entity_id: str = Field(max_length=80, index=True)
    detail: str = Field(default="")  # JSON; never personal data


_INSERT = sa.insert(AuditEvent.metadata.tables["audit_event"])


def record(
    session: Session,
    *,
    actor_id: int | None,
    action: str,
    entity: str,
    entity_id: object,
    **detail: Any,
) -> None:
    """Record one audit event, in the caller's transaction (the entry point commits). Detail
    values must not carry personal data.

    Written at once as a plain INSERT: an event is never read back or changed in the request
    that records it, so it needs no object in the session (nor a place in its next flush).
    Inside ``batched(session)``, written with the others when the block ends."""
    row = {
        "at": utcnow(),
        "actor_id": actor_id,
        "action": action,
        "entity": entity,
        "entity_id": str(entity_id),
        "detail": json.dumps(detail, default=str, sort_keys=True) if detail else "",
    }
    pending: list[dict[str, Any]] | None = session.info.get(_PENDING)
    if pending is not None:
        pending.append(row)
    else:
        session.connection().execute(_INSERT, row)


_PENDING = "audit_pending"


@contextmanager
def batched(session: Session) -> Iterator[None]:
    """The events recorded in this block are written together (one statement) when it ends
    without an error, in the same transaction; with an error, not at all (the caller's
    transaction is rolled back). For work that records several events at once (a form
    submission and the ticket it sets off)."""
    if _PENDING in session.info:  # inside another batch: that one writes them
        yield
        return
    pending: list[dict[str, Any]] = []
    session.info[_PENDING] = pending
    try:
        yield
    finally:
        del session.info[_PENDING]
    if pending:
        session.connection().execute(_INSERT, pending)


def events_for(session: Session, entity: str, entity_id: object) -> list[AuditEvent]:
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.entity == entity, AuditEvent.entity_id == str(entity_id))
        .order_by(col(AuditEvent.id))
    )
    return list(session.exec(stmt))
