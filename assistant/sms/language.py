"""Guessing a language from the first message: its script, then known greetings."""

from __future__ import annotations

from assistant.contacts.text import fold
from assistant.sms.keywords import language_named

# (first, last) code points of a script -> our language for it
_SCRIPTS: tuple[tuple[int, int, str], ...] = (
    (0x0600, 0x06FF, "ar"),
    (0x0750, 0x077F, "ar"),
    (0xFB50, 0xFDFF, "ar"),
    (0xFE70, 0xFEFF, "ar"),
    (0x0900, 0x097F, "hi"),
    (0x4E00, 0x9FFF, "zh_Hans"),
    (0x3400, 0x4DBF, "zh_Hans"),
)

# Greetings and common words written in Latin letters, as people text them.
_KNOWN_WORDS: tuple[tuple[str, str], ...] = (
    ("malo e lelei", "to"),
    ("malo e tau mai", "to"),
    ("fakamolemole", "to"),
    ("kia ora", "mi"),
    ("tena koe", "mi"),
    ("tena koutou", "mi"),
    ("morena", "mi"),
    ("talofa", "sm"),
    ("faamolemole", "sm"),
    ("namaste", "hi"),
    ("namaskar", "hi"),
    ("namasté", "hi"),
    ("salam", "ar"),
    ("assalamu alaikum", "ar"),
    ("marhaba", "ar"),
    ("ni hao", "zh_Hans"),
    ("nihao", "zh_Hans"),
    ("你好", "zh_Hans"),
    ("您好", "zh_Hans"),
    ("नमस्ते", "hi"),
    ("नमस्कार", "hi"),
    ("مرحبا", "ar"),
    ("السلام عليكم", "ar"),
    ("hello", "en"),
    ("hi", "en"),
    ("hey", "en"),
    ("good morning", "en"),
    ("gday", "en"),
)
# The same, folded as messages are, a space at each end.
_KNOWN_FOLDED = tuple((f" {fold(phrase)} ", lang) for phrase, lang in _KNOWN_WORDS)
_GREETINGS = tuple(phrase for phrase, _lang in _KNOWN_FOLDED)


def by_script(text: str) -> str | None:
    counts: dict[str, int] = {}
    for ch in text:
        cp = ord(ch)
        for first, last, lang in _SCRIPTS:
            if first <= cp <= last:
                counts[lang] = counts.get(lang, 0) + 1
                break
    if not counts:
        return None
    return max(counts, key=lambda lang: counts[lang])


def detect(text: str) -> str | None:
    """The language of ``text`` if we can tell (script, a language's name, a greeting)."""
    script = by_script(text)
    if script:
        return script
    named = language_named(text)
    if named:
        return named
    words = f" {fold(text)} "
    for phrase, lang in _KNOWN_FOLDED:
        if phrase in words:
            return lang
    return None


def is_greeting(text: str) -> bool:
    """True for a message that is only a greeting ("Kia ora", "talofa lava", "hi there")."""
    words = fold(text).split()
    if not words or len(words) > 4:
        return False
    joined = f" {' '.join(words)} "
    return joined.startswith(_GREETINGS)
