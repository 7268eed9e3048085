"""Usage events per knowledge entry: answered, helpful, unhelpful, followed by a hand-off."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from assistant.clock import utcnow

USAGE_KINDS: tuple[str, ...] = ("answered", "helpful", "unhelpful", "handoff")


class KnowledgeUsage(SQLModel, table=True):
    __tablename__ = "knowledge_usage"

    id: int | None = Field(default=None, primary_key=True)
    entry_id: str = Field(max_length=80, index=True)
    kind: str = Field(sa_type=sa.String(20))
    at: datetime = Field(default_factory=utcnow, index=True)
