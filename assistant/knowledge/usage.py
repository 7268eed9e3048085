"""Recording and counting how knowledge entries are used."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from assistant.clock import utcnow
from assistant.knowledge.models import USAGE_KINDS, KnowledgeUsage


class UnknownUsageKind(ValueError):
    pass


def record_usage(
    session: Session,
    *,
    entry_id: str,
    kind: str,
    at: datetime | None = None,
) -> KnowledgeUsage:
    """Record one use of an entry: "answered", "helpful", "unhelpful" or "handoff" (added to
    the caller's transaction; written with its next flush or commit)."""
    if kind not in USAGE_KINDS:
        raise UnknownUsageKind(f"unknown usage kind {kind!r}; use one of {', '.join(USAGE_KINDS)}")
    event = KnowledgeUsage(entry_id=entry_id, kind=kind, at=at or utcnow())
    session.add(event)
    return event


def usage_counts(session: Session) -> dict[str, dict[str, int]]:
    """{entry_id: {kind: count}} for every entry with at least one event."""
    rows = session.exec(
        select(
            KnowledgeUsage.entry_id, KnowledgeUsage.kind, sa.func.count(col(KnowledgeUsage.id))
        ).group_by(col(KnowledgeUsage.entry_id), col(KnowledgeUsage.kind))
    ).all()
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(USAGE_KINDS, 0))
    for entry_id, kind, number in rows:
        counts[entry_id][kind] = int(number)
    return dict(counts)
