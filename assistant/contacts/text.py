"""Normalising what people text, for matching keywords and answers."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_APOSTROPHES = re.compile(r"['‘’ʻ`´]")
# Arabic letters written in more than one way (hamza seats, taa marbuta, alif maqsura) are read
# as one, in messages and word lists alike.
_ARABIC_VARIANTS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ة": "ه", "ى": "ي"})
_PUNCT = re.compile(r"[\s.,!?;:\"()\[\]{}<>«»“”\-–—_/\\|*~。，！？；：、؟،؛।]+")


@lru_cache(maxsize=512)
def fold(text: str) -> str:
    """Lower case, without accents or macrons, punctuation as single spaces. (A text is read
    for several things, each folding it: the last few hundred are remembered.)"""
    decomposed = unicodedata.normalize("NFKD", text)
    # Keep marks that belong to scripts (Devanagari vowel signs, Arabic harakat) but drop
    # Latin combining accents (macrons, acutes).
    kept = []
    for ch in decomposed:
        if unicodedata.combining(ch) and _is_latin_mark(ch):
            continue
        kept.append(ch)
    folded = unicodedata.normalize("NFC", "".join(kept)).casefold().translate(_ARABIC_VARIANTS)
    return " ".join(_PUNCT.sub(" ", _APOSTROPHES.sub("", folded)).split())


def _is_latin_mark(ch: str) -> bool:
    return 0x0300 <= ord(ch) <= 0x036F
