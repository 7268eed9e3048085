"""Business hours in Pacific/Auckland, with New Zealand (Canterbury) public holidays.

A ticket is due by close of business on the next business day after the day it arrives:
a question sent on Friday (or over the weekend) is due at 17:00 on Monday, unless Monday
is a public holiday, and so on.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache

import holidays

from assistant.clock import NZ, to_local

OPEN = time(8, 30)
CLOSE = time(17, 0)
REGION = "CAN"  # Canterbury: its anniversary day is a holiday for our practices


@cache
def _holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("NZ", subdiv=REGION, years=year)


def holiday_name(day: date) -> str | None:
    name = _holidays(day.year).get(day)
    return str(name) if name else None


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def next_business_day(day: date) -> date:
    """The first business day strictly after ``day``."""
    day += timedelta(days=1)
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def is_business_time(moment: datetime) -> bool:
    local = to_local(moment)
    return is_business_day(local.date()) and OPEN <= local.time() < CLOSE


def due_at(received: datetime, *, business_days: int = 1) -> datetime:
    """Close of business on the ``business_days``-th business day after ``received`` (UTC)."""
    day = to_local(received).date()
    for _ in range(max(business_days, 1)):
        day = next_business_day(day)
    return datetime.combine(day, CLOSE, tzinfo=NZ).astimezone(UTC)


def is_overdue(due: datetime, now: datetime) -> bool:
    if due.tzinfo is None:
        due = due.replace(tzinfo=UTC)
    return now > due
