"""``python -m assistant check``: validate the content folders (knowledge, forms, locales).

Each content area has a checker returning readable problems, "path:line: message".
"""

from __future__ import annotations

from collections.abc import Callable

from assistant import i18n_tools
from assistant.forms.engine.check import check_forms
from assistant.knowledge.check import check_knowledge
from assistant.matcher.check import check_lexicon
from assistant.people.places import check_gazetteer
from assistant.sms.keywords import check_words

Checker = Callable[[], list[str]]


def check_locales() -> list[str]:
    problems = [
        f"locales/{lang}: untranslated: {mid!r}"
        for lang, ids in i18n_tools.missing().items()
        for mid in ids
    ]
    problems += [f"locales/{p}" for p in i18n_tools.stale()]
    return problems


# name -> the function that checks that content (a crash in one is reported, not fatal).
CHECKERS: dict[str, Checker] = {
    "locales": check_locales,
    "knowledge": check_knowledge,
    "knowledge-words": check_lexicon,
    "forms": check_forms,
    "sms-suburbs": check_gazetteer,
    "sms-words": check_words,
}


def run_all() -> dict[str, list[str]]:
    results: dict[str, list[str]] = {}
    for name, func in CHECKERS.items():
        try:
            results[name] = func()
        except Exception as exc:  # a crash in one checker is itself a problem to report
            results[name] = [f"{name}: checker failed: {exc!r}"]
    return results
