"""Languages: negotiation, complete and current catalogs, right-to-left, Babel formatting."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlmodel import Session

from assistant import i18n, i18n_tools
from assistant.i18n import LANGUAGES, format_date, format_datetime, format_number, use_locale
from assistant.people.models import Role
from tests import factories
from tests.conftest import Client


@pytest.mark.parametrize(
    ("user_pref", "cookie", "accept", "expected"),
    [
        (None, None, None, "en"),
        (None, None, "", "en"),
        ("sm", "ar", "hi", "sm"),  # the user's saved preference wins
        (None, "ar", "hi", "ar"),  # then an explicit choice
        (None, None, "hi-IN,hi;q=0.9,en;q=0.8", "hi"),  # then the browser
        ("xx", "yy", "mi", "mi"),  # unknown choices are ignored
        (None, None, "fr-FR, de;q=0.9", "en"),
        (None, None, "fr;q=0.9, to;q=0.8", "to"),
        (None, None, "en;q=0.1, ar;q=0.9", "ar"),  # by weight, not position
        (None, None, "ar;q=0", "en"),  # q=0 means not wanted
        (None, None, "zh-CN", "zh_Hans"),
        (None, None, "zh-Hans", "zh_Hans"),
        (None, None, "zh-Hans-CN", "zh_Hans"),
        (None, None, "zh", "zh_Hans"),
        (None, None, "zh-TW", "en"),  # Traditional Chinese is not offered: English
        (None, None, "zh-Hant, sm;q=0.5", "sm"),
        (None, None, "zh-HK", "en"),
        (None, None, "mi-NZ", "mi"),
        (None, None, "SM", "sm"),
        (None, "zh_Hans", None, "zh_Hans"),
    ],
)
def test_locale_negotiation(
    user_pref: str | None, cookie: str | None, accept: str | None, expected: str
) -> None:
    assert i18n.negotiate(user_pref=user_pref, cookie=cookie, accept_language=accept) == expected


def test_request_locale_comes_from_user_then_cookie_then_header(
    client: Client, session: Session, login: Any
) -> None:
    page = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert 'lang="zh-Hans"' in page.text
    client.cookies.set(i18n.LOCALE_COOKIE, "to")
    assert 'lang="to"' in client.get("/login", headers={"Accept-Language": "hi"}).text
    user = factories.user(session, locale="hi")
    login(user)
    assert 'lang="hi"' in client.get("/", headers={"Accept-Language": "ar"}).text


def test_a_route_that_reads_the_sign_in_itself_speaks_the_users_language(
    client: Client, session: Session, login: Any
) -> None:
    """The chat's ask and the submissions API read the signed-in user in their own thread: the
    user's own language still comes before the cookie, on the page and on a refusal."""
    client.cookies.set(i18n.LOCALE_COOKIE, "to")
    login(factories.user(session, Role.practice_staff, locale="hi"))
    empty = client.post("/chat/ask", data={"q": "  "})
    assert empty.status_code == 422
    assert 'lang="hi"' in empty.text
    with i18n.use_locale("hi"):
        assert i18n.gettext("Please type a question.") in empty.text

    client.cookies.clear()
    client.cookies.set(i18n.LOCALE_COOKIE, "to")
    login(factories.user(session, Role.liaison, locale="ar"))
    refused = client.post("/chat/ask", data={"q": "flu vaccine"})
    assert refused.status_code == 403
    assert 'lang="ar"' in refused.text and 'dir="rtl"' in refused.text


def test_a_page_for_an_unknown_address_speaks_the_visitors_language(client: Client) -> None:
    client.cookies.set(i18n.LOCALE_COOKIE, "sm")
    missing = client.get("/no/such/page", headers={"Accept-Language": "hi"})
    assert missing.status_code == 404
    assert 'lang="sm"' in missing.text
    with i18n.use_locale("sm"):
        assert i18n.gettext("We could not find that page.") in missing.text


def test_every_msgid_is_translated_in_every_catalog() -> None:
    gaps = i18n_tools.missing()
    report = "\n".join(f"{lang}: {mid!r}" for lang, ids in gaps.items() for mid in ids[:20])
    assert not gaps, (
        "Untranslated messages (write them into a JSON file and run "
        "`python -m assistant i18n fill FILE`):\n" + report
    )


def test_catalogs_are_current_with_code_and_templates() -> None:
    problems = i18n_tools.stale()
    assert not problems, "Run `python -m assistant i18n update`:\n" + "\n".join(problems[:40])


def test_catalogs_keep_placeholders() -> None:
    """A translation must use the same %(name)s placeholders as its msgid."""
    import re

    from babel.messages.pofile import read_po

    pattern = re.compile(r"%\(\w+\)[sd]")
    bad = []
    for lang in LANGUAGES:
        with i18n_tools.po_path(lang).open("rb") as fp:
            catalog = read_po(fp, locale=lang)
        for message in catalog:
            if not message.id or not message.string:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            wanted = set(pattern.findall(ids[-1])) - {"%(num)d"}
            for text in strings:
                if text and set(pattern.findall(text)) - {"%(num)d"} != wanted:
                    bad.append(f"{lang}: {ids[0]!r} -> {text!r}")
    assert not bad, "\n".join(bad[:40])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_pages_render_in_every_language_with_the_right_direction(client: Client, lang: str) -> None:
    client.cookies.set(i18n.LOCALE_COOKIE, lang)
    page = client.get("/login")
    assert page.status_code == 200
    assert f'lang="{i18n.html_lang(lang)}"' in page.text
    assert f'dir="{"rtl" if lang == "ar" else "ltr"}"' in page.text


def test_arabic_page_is_right_to_left_and_translated(client: Client) -> None:
    client.cookies.set(i18n.LOCALE_COOKIE, "ar")
    page = client.get("/login")
    assert '<html lang="ar" dir="rtl">' in page.text
    with use_locale("ar"):
        assert i18n._("Sign in") in page.text
        assert i18n._("Sign in") != "Sign in"


def test_gettext_follows_the_current_locale() -> None:
    with use_locale("mi"):
        assert i18n._("Sign in") != "Sign in"
    assert i18n._("Sign in") == "Sign in"


@pytest.mark.parametrize(
    ("lang", "expected"),
    [(lang, "1,234.5") for lang in LANGUAGES],
)
def test_numbers_are_formatted_with_babel(lang: str, expected: str) -> None:
    from babel.numbers import format_decimal

    with use_locale(lang):
        assert format_number(1234.5) == format_decimal(1234.5, locale=i18n.babel_locale(lang))
        assert format_number(1234.5).replace("\u066c", ",").replace("\u066b", ".") == expected


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "3 Mar 2026"),  # New Zealand English
        ("mi", "3 Māe 2026"),
        ("sm", "3 Mati 2026"),  # CLDR has no Samoan: its month names from our own table
        ("to", "3 Maʻa 2026"),
        ("zh_Hans", "2026年3月3日"),
        ("hi", "3 मार्च 2026"),
        ("ar", "2026"),
    ],
)
def test_dates_are_formatted_with_babel(lang: str, expected: str) -> None:
    with use_locale(lang):
        assert expected in format_date(date(2026, 3, 3))


def test_datetimes_are_shown_in_new_zealand_time() -> None:
    # 23:30 UTC on 2 March is 12:30 on 3 March in Auckland (daylight time).
    moment = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
    with use_locale("en"):
        assert format_date(moment) == "3 Mar 2026"
        assert "12:30" in format_datetime(moment)


def test_plural_forms_follow_the_language() -> None:
    with use_locale("en"):
        one = i18n.ngettext(
            "Too many failed sign-in attempts. Try again in %(num)d minute.",
            "Too many failed sign-in attempts. Try again in %(num)d minutes.",
            1,
        )
        many = i18n.ngettext(
            "Too many failed sign-in attempts. Try again in %(num)d minute.",
            "Too many failed sign-in attempts. Try again in %(num)d minutes.",
            5,
        )
    assert one.endswith("1 minute.") and many.endswith("5 minutes.")
