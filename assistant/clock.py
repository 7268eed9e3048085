"""Time helpers. Timestamps are timezone-aware UTC (SQLModel's UTCDateTime stores them)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

NZ = ZoneInfo("Pacific/Auckland")


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_local(ts: datetime, tz: ZoneInfo = NZ) -> datetime:
    """A timestamp as an aware local time (naive values are taken as UTC)."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(tz)
