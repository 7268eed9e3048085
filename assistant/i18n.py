"""Languages: catalogs, the current locale, negotiation and formatting.

The current locale lives in a context variable, set per request by middleware and per SMS
conversation by ``use_locale``; every gettext call (Python or Jinja) reads it.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date as _format_date
from babel.dates import format_datetime as _format_datetime
from babel.localedata import LocaleDataDict
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal as _format_decimal
from babel.support import LazyProxy, NullTranslations, Translations

from assistant.clock import to_local

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"

LANGUAGES: tuple[str, ...] = ("en", "mi", "sm", "to", "zh_Hans", "hi", "ar")
DEFAULT_LOCALE = "en"
RTL_LANGUAGES = frozenset({"ar"})
LOCALE_COOKIE = "lang"

# Each language's name in itself, for the language switcher and the SMS menu.
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "mi": "Te reo Māori",
    "sm": "Gagana Sāmoa",
    "to": "Lea faka-Tonga",
    "zh_Hans": "简体中文",
    "hi": "हिन्दी",
    "ar": "العربية",
}

# BCP 47 tags for the html lang attribute.
HTML_LANG = {"zh_Hans": "zh-Hans"}

_current: ContextVar[str] = ContextVar("locale", default=DEFAULT_LOCALE)


def current_locale() -> str:
    return _current.get()


def set_locale(lang: str) -> None:
    _current.set(lang if lang in LANGUAGES else DEFAULT_LOCALE)


@contextlib.contextmanager
def use_locale(lang: str) -> Iterator[None]:
    token = _current.set(lang if lang in LANGUAGES else DEFAULT_LOCALE)
    try:
        yield
    finally:
        _current.reset(token)


def text_direction(lang: str | None = None) -> str:
    return "rtl" if (lang or current_locale()) in RTL_LANGUAGES else "ltr"


def html_lang(lang: str | None = None) -> str:
    code = lang or current_locale()
    return HTML_LANG.get(code, code)


# Babel (CLDR) locales for formatting dates and numbers. CLDR has no Samoan data, so Samoan
# uses the patterns of English as written in Samoa, with Samoan names (CALENDAR_NAMES);
# English is New Zealand English.
BABEL_LOCALES = {"en": "en_NZ", "sm": "en_WS"}


@dataclass(frozen=True)
class CalendarNames:
    """Month and weekday names for a language CLDR has no data for."""

    months: tuple[str, ...]  # January to December
    weekdays: tuple[str, ...]  # Monday to Sunday, as Babel counts them

    def narrow_weekday(self, name: str) -> str:
        # "Aso Gafua" (Monday): the day's own word tells the days apart, not "Aso" (day).
        return name.split()[-1][0]


# The names as their speakers write them (with plain apostrophes). They are locale data, like
# CLDR's for the other languages, rather than catalog messages: Babel's formatters take them
# through the locale (see _NamedCalendarLocale), so every date pattern, skeleton and chart label
# on a Samoan screen uses them, and a correction here reaches all of them at once.
CALENDAR_NAMES: dict[str, CalendarNames] = {
    "sm": CalendarNames(
        months=(
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
        ),
        weekdays=(
            "Aso Gafua",
            "Aso Lua",
            "Aso Lulu",
            "Aso Tofi",
            "Aso Faraile",
            "Aso To'ona'i",
            "Aso Sā",
        ),
    ),
}


class _NamedCalendarLocale(Locale):
    """A CLDR locale (its date patterns, numbers, day periods) with another language's month
    and weekday names. Every Babel formatter reads names through ``months`` and ``days``."""

    def __init__(self, identifier: str, names: CalendarNames) -> None:
        base = Locale.parse(identifier)
        super().__init__(base.language, base.territory, base.script, base.variant)
        self.calendar_names = names

    @property
    def months(self) -> LocaleDataDict:
        # No agreed short forms: abbreviated months are the whole names.
        wide = dict(enumerate(self.calendar_names.months, start=1))
        narrow = {number: name[0] for number, name in wide.items()}
        return _by_context({"abbreviated": wide, "wide": wide, "narrow": narrow})

    @property
    def days(self) -> LocaleDataDict:
        names = self.calendar_names
        wide = dict(enumerate(names.weekdays))
        narrow = {day: names.narrow_weekday(name) for day, name in wide.items()}
        return _by_context({"abbreviated": wide, "short": wide, "wide": wide, "narrow": narrow})


def _by_context(widths: dict[str, dict[int, str]]) -> LocaleDataDict:
    return LocaleDataDict({"format": widths, "stand-alone": widths})


@cache
def _babel_locale(code: str) -> Locale:
    identifier = BABEL_LOCALES.get(code, code)
    names = CALENDAR_NAMES.get(code)
    return Locale.parse(identifier) if names is None else _NamedCalendarLocale(identifier, names)


def babel_locale(lang: str | None = None) -> Locale:
    return _babel_locale(lang or current_locale())


@cache
def translations(lang: str) -> NullTranslations:
    """The catalog for ``lang``: the compiled .mo, or the .po compiled in memory if newer."""
    if lang == DEFAULT_LOCALE and not (LOCALES_DIR / lang).exists():
        return NullTranslations()
    base = LOCALES_DIR / lang / "LC_MESSAGES"
    po, mo = base / f"{DOMAIN}.po", base / f"{DOMAIN}.mo"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fp:
            return Translations(fp, domain=DOMAIN)
    if po.exists():
        with po.open("rb") as fp:
            catalog = read_po(fp, locale=lang)
        buf = io.BytesIO()
        write_mo(buf, catalog)
        buf.seek(0)
        return Translations(buf, domain=DOMAIN)
    return NullTranslations()


def gettext(message: str, **variables: Any) -> str:
    text = translations(current_locale()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    text = translations(current_locale()).ngettext(singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


_ = gettext


def lazy_gettext(message: str, **variables: Any) -> LazyProxy:
    """For module-level strings: translated when used, in the locale current then."""
    return LazyProxy(gettext, message, enable_cache=False, **variables)


def negotiate(*, user_pref: str | None, cookie: str | None, accept_language: str | None) -> str:
    """User's saved preference, then an explicit choice (cookie), then the browser, then en."""
    for choice in (user_pref, cookie):
        if choice in LANGUAGES:
            return str(choice)
    for tag in parse_accept_language(accept_language or ""):
        lang = match_tag(tag)
        if lang:
            return lang
    return DEFAULT_LOCALE


def parse_accept_language(header: str) -> list[str]:
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        piece = part.strip()
        if not piece:
            continue
        tag, _sep, params = piece.partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _eq, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0:
            weighted.append((-q, index, tag.strip()))
    return [tag for _q, _i, tag in sorted(weighted)]


def match_tag(tag: str) -> str | None:
    parts = tag.replace("_", "-").lower().split("-")
    if parts[0] == "zh":
        # Simplified Chinese for zh, zh-Hans, zh-CN, zh-SG; not for Traditional.
        rest = set(parts[1:])
        if rest & {"hant", "tw", "hk", "mo"}:
            return None
        return "zh_Hans"
    return parts[0] if parts[0] in LANGUAGES else None


def format_date(value: date | datetime, fmt: str = "medium") -> str:
    if isinstance(value, datetime):
        value = to_local(value).date()
    return _format_date(value, format=fmt, locale=babel_locale())


def format_datetime(value: datetime, fmt: str = "medium") -> str:
    return _format_datetime(to_local(value), format=fmt, locale=babel_locale())


def format_number(value: float | int) -> str:
    return _format_decimal(value, locale=babel_locale())
