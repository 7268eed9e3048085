"""``python -m assistant check``: validate the content folders (knowledge, forms, locales).

Each content area registers a checker returning readable problems, "path:line: message".
"""

from __future__ import annotations

from collections.abc import Callable

Checker = Callable[[], list[str]]

CHECKERS: dict[str, str] = {
    # name -> "module:function"; imported lazily so one broken area cannot hide the others.
    "locales": "assistant.content_check:check_locales",
    "knowledge": "assistant.knowledge.check:check_knowledge",
    "forms": "assistant.forms.check:check_forms",
    "sms-suburbs": "assistant.sms.places:check_gazetteer",
    "sms-words": "assistant.sms.keywords:check_words",
}


def register(name: str, target: str) -> None:
    CHECKERS[name] = target


def check_locales() -> list[str]:
    from assistant import i18n_tools

    problems = [
        f"locales/{lang}: untranslated: {mid!r}"
        for lang, ids in i18n_tools.missing().items()
        for mid in ids
    ]
    problems += [f"locales/{p}" for p in i18n_tools.stale()]
    return problems


def run_all() -> dict[str, list[str]]:
    import importlib

    results: dict[str, list[str]] = {}
    for name, target in CHECKERS.items():
        module_name, func_name = target.split(":")
        try:
            func: Checker = getattr(importlib.import_module(module_name), func_name)
            results[name] = func()
        except Exception as exc:  # a crash in one checker is itself a problem to report
            results[name] = [f"{name}: checker failed: {exc!r}"]
    return results
