"""Normalising what people text, for matching keywords and answers."""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = re.compile(r"['‘’ʻ`´]")
_PUNCT = re.compile(r"[\s.,!?;:\"()\[\]{}<>«»“”\-–—_/\\|*~。，！？；：、؟،؛।]+")


def fold(text: str) -> str:
    """Lower case, without accents or macrons, punctuation as single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    # Keep marks that belong to scripts (Devanagari vowel signs, Arabic harakat) but drop
    # Latin combining accents (macrons, acutes).
    kept = []
    for ch in decomposed:
        if unicodedata.combining(ch) and _is_latin_mark(ch):
            continue
        kept.append(ch)
    folded = unicodedata.normalize("NFC", "".join(kept)).casefold()
    return " ".join(_PUNCT.sub(" ", _APOSTROPHES.sub("", folded)).split())


def _is_latin_mark(ch: str) -> bool:
    return 0x0300 <= ord(ch) <= 0x036F
