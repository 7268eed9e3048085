"""Time helpers. Timestamps are timezone-aware UTC (SQLModel's UTCDateTime stores them)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

NZ = ZoneInfo("Pacific/Auckland")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(ts: datetime) -> datetime:
    """A stored timestamp as an aware one (SQLite gives them back naive: they are UTC)."""
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


def to_local(ts: datetime, tz: ZoneInfo = NZ) -> datetime:
    """A timestamp as an aware local time (naive values are taken as UTC)."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(tz)
