"""Due times: business hours in Pacific/Auckland, weekends and NZ (Canterbury) public holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from assistant.clock import NZ
from assistant.support.business_hours import (
    due_at,
    holiday_name,
    is_business_day,
    is_business_time,
    is_overdue,
)


def nz(*args: int) -> datetime:
    return datetime(*args, tzinfo=NZ)


@pytest.mark.parametrize(
    ("received", "due", "why"),
    [
        (nz(2026, 11, 23, 10, 0), nz(2026, 11, 24, 17, 0), "Monday: due Tuesday"),
        (nz(2026, 11, 23, 7, 0), nz(2026, 11, 24, 17, 0), "before opening: still next day"),
        (nz(2026, 11, 26, 16, 59), nz(2026, 11, 27, 17, 0), "Thursday: due Friday"),
        (nz(2026, 11, 27, 10, 0), nz(2026, 11, 30, 17, 0), "Friday: over the weekend"),
        (nz(2026, 11, 27, 20, 0), nz(2026, 11, 30, 17, 0), "Friday evening: Monday"),
        (nz(2026, 11, 28, 9, 0), nz(2026, 11, 30, 17, 0), "Saturday: Monday"),
        (nz(2026, 11, 29, 23, 59), nz(2026, 11, 30, 17, 0), "Sunday night: Monday"),
        (nz(2026, 2, 5, 10, 0), nz(2026, 2, 9, 17, 0), "Waitangi Day Friday, then weekend"),
        (nz(2026, 4, 2, 10, 0), nz(2026, 4, 7, 17, 0), "Easter: Good Friday to Easter Monday"),
        (nz(2026, 10, 23, 15, 0), nz(2026, 10, 27, 17, 0), "weekend, then Labour Day"),
        (nz(2026, 11, 12, 10, 0), nz(2026, 11, 16, 17, 0), "Canterbury Anniversary Day"),
        (nz(2026, 12, 24, 10, 0), nz(2026, 12, 29, 17, 0), "Christmas, weekend, Boxing observed"),
        (nz(2026, 12, 31, 12, 0), nz(2027, 1, 5, 17, 0), "New Year, day after, weekend"),
        (nz(2026, 9, 25, 10, 0), nz(2026, 9, 28, 17, 0), "daylight saving starts on Sunday"),
    ],
)
def test_due_by_close_of_the_next_business_day(received: datetime, due: datetime, why: str) -> None:
    got = due_at(received.astimezone(UTC))
    assert got.tzinfo is not None
    assert got.astimezone(NZ) == due, why


def test_received_time_is_read_in_new_zealand_time() -> None:
    # Sunday 22:00 UTC is Monday 11:00 in Auckland (daylight time): due Tuesday.
    assert due_at(datetime(2026, 11, 22, 22, 0, tzinfo=UTC)).astimezone(NZ) == nz(
        2026, 11, 24, 17, 0
    )


def test_two_business_days() -> None:
    assert due_at(nz(2026, 11, 26, 10, 0), business_days=2).astimezone(NZ) == nz(
        2026, 11, 30, 17, 0
    )


@pytest.mark.parametrize(
    ("day", "business", "holiday"),
    [
        (date(2026, 11, 13), False, "Canterbury Anniversary Day"),
        (date(2026, 6, 1), False, "King's Birthday"),
        (date(2026, 7, 10), False, "Matariki"),
        (date(2026, 4, 27), False, "Anzac Day (observed)"),
        (date(2026, 11, 14), False, None),  # Saturday
        (date(2026, 11, 16), True, None),
    ],
)
def test_business_days_and_holidays(day: date, business: bool, holiday: str | None) -> None:
    assert is_business_day(day) is business
    assert holiday_name(day) == holiday


@pytest.mark.parametrize(
    ("moment", "open_now"),
    [
        (nz(2026, 11, 23, 8, 29), False),
        (nz(2026, 11, 23, 8, 30), True),
        (nz(2026, 11, 23, 16, 59), True),
        (nz(2026, 11, 23, 17, 0), False),
        (nz(2026, 11, 28, 11, 0), False),
        (nz(2026, 11, 13, 11, 0), False),
    ],
)
def test_business_time(moment: datetime, open_now: bool) -> None:
    assert is_business_time(moment.astimezone(UTC)) is open_now


def test_overdue_only_after_the_due_time() -> None:
    due = nz(2026, 11, 24, 17, 0).astimezone(UTC)
    assert not is_overdue(due, due)
    assert is_overdue(due, nz(2026, 11, 24, 17, 1).astimezone(UTC))
    assert is_overdue(due.replace(tzinfo=None), nz(2026, 11, 25, 9, 0).astimezone(UTC))
