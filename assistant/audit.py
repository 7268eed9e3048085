"""The audit trail: who created, changed or viewed personal records."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

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


def record(
    session: Session,
    *,
    actor_id: int | None,
    action: str,
    entity: str,
    entity_id: object,
    **detail: Any,
) -> AuditEvent:
    """Record one audit event. Detail values must not carry personal data."""
    event = AuditEvent(
        actor_id=actor_id,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        detail=json.dumps(detail, default=str, sort_keys=True) if detail else "",
    )
    session.add(event)  # stored with the caller's transaction: the entry point commits
    return event


def events_for(session: Session, entity: str, entity_id: object) -> list[AuditEvent]:
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.entity == entity, AuditEvent.entity_id == str(entity_id))
        .order_by(col(AuditEvent.id))
    )
    return list(session.exec(stmt))
