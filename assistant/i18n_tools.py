"""The Babel chores: extract, update, compile, and helpers for translators."""

from __future__ import annotations

import contextlib
import copy
import fcntl
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from assistant.i18n import DEFAULT_LOCALE, DOMAIN, LANGUAGES, LOCALES_DIR

ROOT = LOCALES_DIR.parent
POT = LOCALES_DIR / f"{DOMAIN}.pot"
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "lazy_gettext": None,
    "N_": None,
}
METHOD_MAP = [
    ("assistant/**.py", "python"),
    ("templates/**.html", "jinja2"),
    ("templates/**.txt", "jinja2"),
]
OPTIONS = {"templates/**": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}}


def po_path(lang: str) -> Path:
    return LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@contextlib.contextmanager
def locked() -> Iterator[None]:
    """Serialise catalog writes between processes."""
    LOCALES_DIR.mkdir(parents=True, exist_ok=True)
    with (LOCALES_DIR / ".lock").open("w") as fp:
        fcntl.flock(fp, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fp, fcntl.LOCK_UN)


def extract_template() -> Catalog:
    catalog = Catalog(project="assistant", charset="utf-8", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT),
        method_map=METHOD_MAP,
        options_map=OPTIONS,
        keywords=KEYWORDS,
        comment_tags=("Translators:",),
        strip_comment_tags=True,
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def _write(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    write_po(buf, catalog, sort_output=True, include_lineno=False, ignore_obsolete=True, width=0)
    path.write_bytes(buf.getvalue())


def _read(path: Path, lang: str) -> Catalog:
    with path.open("rb") as fp:
        return read_po(fp, locale=lang)


def extract() -> Catalog:
    template = extract_template()
    _write(template, POT)
    return template


def update() -> None:
    """Extract, then merge the template into every language's catalog (no fuzzy guesses)."""
    with locked():
        template = extract()
        for lang in LANGUAGES:
            path = po_path(lang)
            catalog = _read(path, lang) if path.exists() else Catalog(locale=lang, domain=DOMAIN)
            # update() shares message objects with the template: give each language a copy.
            catalog.update(
                copy.deepcopy(template), no_fuzzy_matching=True, update_header_comment=False
            )
            if lang == DEFAULT_LOCALE:
                for message in catalog:
                    string = message.string
                    strings = string if isinstance(string, tuple) else (string,)
                    if message.id and not all(strings):
                        message.string = message.id
            for message in catalog:
                message.flags.discard("fuzzy")
            _write(catalog, path)


def compile_all() -> list[Path]:
    written = []
    for lang in LANGUAGES:
        path = po_path(lang)
        if not path.exists():
            continue
        catalog = _read(path, lang)
        mo = path.with_suffix(".mo")
        with mo.open("wb") as fp:
            write_mo(fp, catalog)
        written.append(mo)
    return written


def _msgid_key(message_id: Any) -> str:
    return message_id[0] if isinstance(message_id, tuple) else str(message_id)


def missing() -> dict[str, list[str]]:
    """Untranslated msgids per language."""
    result: dict[str, list[str]] = {}
    for lang in LANGUAGES:
        path = po_path(lang)
        if not path.exists():
            result[lang] = ["<catalog missing>"]
            continue
        gaps = []
        for message in _read(path, lang):
            if not message.id:
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if not all(strings):
                gaps.append(_msgid_key(message.id))
        if gaps:
            result[lang] = gaps
    return result


def stale() -> list[str]:
    """Msgids in the code and templates that the catalogs do not have, and vice versa."""
    wanted = {_msgid_key(m.id) for m in extract_template() if m.id}
    problems = []
    for lang in LANGUAGES:
        path = po_path(lang)
        have = {_msgid_key(m.id) for m in _read(path, lang) if m.id} if path.exists() else set()
        problems += [f"{lang}: not in catalog: {mid!r}" for mid in sorted(wanted - have)]
        problems += [f"{lang}: no longer used: {mid!r}" for mid in sorted(have - wanted)]
    return problems


def fill(translations: dict[str, dict[str, Any]]) -> int:
    """Set translations from ``{msgid: {lang: text or [singular, plural...]}}``."""
    count = 0
    with locked():
        for lang in LANGUAGES:
            path = po_path(lang)
            if not path.exists():
                continue
            catalog = _read(path, lang)
            changed = False
            for message in catalog:
                if not message.id:
                    continue
                entry = translations.get(_msgid_key(message.id), {})
                if lang in entry:
                    value = entry[lang]
                    message.string = tuple(value) if isinstance(value, list) else value
                    changed = True
                    count += 1
            if changed:
                _write(catalog, path)
    return count


def fill_from_file(path: Path) -> int:
    return fill(json.loads(path.read_text(encoding="utf-8")))
