"""Periods typed as query-string dates (a report's or an export's "from" and "to").

Text that is not a date, a day out of range or a start after the end raise ``BadPeriod``, a
4xx with a message in the person's language: a report or an export is never quietly empty or
unfiltered because of a typo.
"""

from __future__ import annotations

from datetime import date

from assistant.errors import Invalid
from assistant.i18n import _

EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)


class BadPeriod(Invalid):
    """Dates that cannot filter anything: not dates, out of range, or the wrong way round."""


def day_from_text(text: str | None) -> date | None:
    """The day in ``text`` (year-month-day), or None when it is empty."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise BadPeriod(_("Enter dates as year-month-day, for example 2026-11-24.")) from None
    if not EARLIEST <= day <= LATEST:
        raise BadPeriod(
            _(
                "Choose dates between %(start)s and %(end)s.",
                start=EARLIEST.isoformat(),
                end=LATEST.isoformat(),
            )
        )
    return day


def check_order(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and start > end:
        raise BadPeriod(_("The start date is after the end date."))


def parse_period(*, since: str | None, until: str | None) -> tuple[date | None, date | None]:
    """The first and last day, from query-string text; a day left out leaves that end open."""
    start, end = day_from_text(since), day_from_text(until)
    check_order(start, end)
    return start, end
