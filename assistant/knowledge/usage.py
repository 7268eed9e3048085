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
    _check_kind(kind)
    event = KnowledgeUsage(entry_id=entry_id, kind=kind, at=at or utcnow())
    session.add(event)
    return event


def insert_usage(session: Session, *, entry_id: str, kind: str, at: datetime) -> None:
    """Record one use of an entry with a single INSERT, now, in the caller's transaction: for
    callers that write their rows as statements (no object for the session to flush)."""
    _check_kind(kind)
    session.connection().execute(_INSERT, {"entry_id": entry_id, "kind": kind, "at": at})


_INSERT = sa.insert(KnowledgeUsage.metadata.tables["knowledge_usage"])  # built once, compiled once
# The same row with its own parameter names (``usage_entry_id``, ``usage_kind``, ``usage_at``;
# ``usage_params`` gives them), to ride in another statement as a data-modifying WITH.
USAGE_ROW = _INSERT.values(
    entry_id=sa.bindparam("usage_entry_id"),
    kind=sa.bindparam("usage_kind"),
    at=sa.bindparam("usage_at"),
)


def usage_params(*, entry_id: str, kind: str, at: datetime) -> dict[str, object]:
    _check_kind(kind)
    return {"usage_entry_id": entry_id, "usage_kind": kind, "usage_at": at}


def _check_kind(kind: str) -> None:
    if kind not in USAGE_KINDS:
        raise UnknownUsageKind(f"unknown usage kind {kind!r}; use one of {', '.join(USAGE_KINDS)}")


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
