"""Dates in every language: month and weekday names in the reader's language, never English
where the language has names of its own (CLDR's, or ours where CLDR has none)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from babel import Locale
from babel.dates import format_date as babel_format_date
from sqlmodel import Session

from assistant import i18n
from assistant.i18n import CALENDAR_NAMES, LANGUAGES, format_date, format_datetime, use_locale
from tests import factories
from tests.chat_data import UNKNOWN
from tests.conftest import Client
from tests.html import parse

SAMOAN_MONTHS = [
    "Ianuari",
    "Fepuari",
    "Mati",
    "Aperila",
    "Me",
    "Iuni",
    "Iulai",
    "Aokuso",
    "Setema",
    "Oketopa",
    "Novema",
    "Tesema",
]
EN = Locale.parse("en_WS")
ENGLISH_NAMES = {
    name
    for names in (
        EN.months["format"]["wide"],
        EN.months["format"]["abbreviated"],
        EN.days["format"]["wide"],
        EN.days["format"]["abbreviated"],
    )
    for name in names.values()
}


@pytest.mark.parametrize(("month", "name"), list(enumerate(SAMOAN_MONTHS, start=1)))
def test_samoan_dates_carry_samoan_month_names(month: int, name: str) -> None:
    day = date(2026, month, 3)
    with use_locale("sm"):
        assert format_date(day) == f"3 {name} 2026"
        assert format_date(day, "long") == f"3 {name} 2026"
        assert format_date(day, "short") == f"03/{month:02d}/2026"


@pytest.mark.parametrize("fmt", ["short", "medium", "long", "full"])
def test_no_english_month_or_day_name_on_a_samoan_date(fmt: str) -> None:
    with use_locale("sm"):
        shown = [
            format_datetime(datetime(2026, month, day, 1, 0, tzinfo=UTC), fmt)
            for month in range(1, 13)
            for day in range(1, 8)
        ]
    words = {word.strip(",.") for text in shown for word in text.split()}
    assert not words & ENGLISH_NAMES


def test_samoan_full_date_names_the_weekday() -> None:
    # FIXED_NOW's day: Tuesday 24 November 2026.
    with use_locale("sm"):
        assert format_date(date(2026, 11, 24), "full") == "Aso Lua, 24 Novema 2026"
        assert format_date(date(2026, 11, 28), "full") == "Aso To'ona'i, 28 Novema 2026"
        assert format_date(date(2026, 11, 29), "full") == "Aso Sā, 29 Novema 2026"


def test_samoan_datetimes_are_new_zealand_time_with_samoan_names() -> None:
    # 11:30 UTC on 30 November is 00:30 on 1 December in Auckland (daylight time).
    moment = datetime(2026, 11, 30, 11, 30, tzinfo=UTC)
    with use_locale("sm"):
        assert format_date(moment) == "1 Tesema 2026"
        assert format_datetime(moment, "long").startswith("1 Tesema 2026")
        assert "12:30" in format_datetime(moment, "short")


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("to", "24 Nōvema 2026"),  # CLDR's Tongan
        ("mi", "24 Noema 2026"),  # CLDR's Māori
        ("en", "24 November 2026"),
    ],
)
def test_languages_cldr_knows_keep_cldr_names(lang: str, expected: str) -> None:
    with use_locale(lang):
        assert format_date(date(2026, 11, 24), "long") == expected


def test_every_language_has_month_names_of_its_own() -> None:
    english = dict(Locale.parse("en").months["format"]["wide"])
    for lang in LANGUAGES:
        if lang == "en":
            continue
        names = dict(i18n.babel_locale(lang).months["format"]["wide"])
        assert len(names) == 12, lang
        assert names != english, f"{lang} dates would show English month names"


def test_our_names_do_not_leak_into_the_locale_they_borrow_patterns_from() -> None:
    with use_locale("sm"):
        format_date(date(2026, 3, 3), "full")
    assert babel_format_date(date(2026, 3, 3), "full", locale="en_WS") == "Tuesday, 3 March 2026"


def test_calendar_names_are_complete() -> None:
    for lang, names in CALENDAR_NAMES.items():
        assert len(names.months) == 12 and len(set(names.months)) == 12, lang
        assert len(names.weekdays) == 7 and len(set(names.weekdays)) == 7, lang
        narrow = [names.narrow_weekday(day) for day in names.weekdays]
        assert all(len(letter) == 1 for letter in narrow), lang


def _ask_the_pho(client: Client) -> None:
    """Send an unanswerable question to the liaison team: a ticket asked now (FIXED_NOW)."""
    asked = client.post("/chat/ask", data={"q": UNKNOWN})
    message_id = asked.headers["location"].rsplit("#m-", 1)[1]
    sent = client.post("/chat/handoff", data={"question": UNKNOWN, "message_id": message_id})
    assert sent.status_code == 303


@pytest.mark.parametrize(
    ("lang", "shown"),
    [
        ("sm", "24 Novema 2026"),
        ("to", "24 Nōv 2026"),
    ],
)
def test_samoan_and_tongan_pages_show_dates_in_their_language(
    client: Client, session: Session, login: Any, lang: str, shown: str
) -> None:
    user = factories.user(session, locale=lang, name="Sina Tala")
    login(user)
    _ask_the_pho(client)
    page = parse(client.get("/chat").text)
    asked = page.find("li.question-item").find("div.muted").text()
    assert "Sina Tala" in asked
    assert shown in asked
    assert not {word.strip(".,") for word in asked.split()} & ENGLISH_NAMES
