"""Text normalisation shared by the index and the queries.

Folding: NFKD, Latin diacritics dropped (ā -> a), case folded, ʻokina and apostrophes removed
(ʻOku -> oku, can't -> cant), Arabic letter variants unified and short vowels dropped,
punctuation to spaces. Devanagari vowel signs are kept: they are letters there, not accents.
Chinese has no spaces, so runs of Han characters become overlapping two-character tokens.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

_APOSTROPHES = dict.fromkeys(map(ord, "'’‘`´ʻʼ‛"), None)
# Arabic letter variants; and digits of the Arabic and Devanagari scripts as 0-9 ("٩٩٩", "१११").
_ARABIC = str.maketrans(
    {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ـ": None}
    | {chr(base + n): str(n) for base in (0x0660, 0x06F0, 0x0966) for n in range(10)}
)
_ARABIC_MARKS = re.compile("[\u064b-\u065f\u0670]")
_PUNCT = re.compile(r"[^\w\u0900-\u0963\u0966-\u097f]+")  # keeps Devanagari signs, not ।
# Phrasal verbs people write apart or together: "log in" = "login", "sign up" = "signup".
_PHRASAL = re.compile(r"\b(log|sign)[\s-]+(?:(?:me|us|them|him|her)\s+)?(in|into|on|onto|up|out)\b")


def _join_phrasal(found: re.Match[str]) -> str:
    return found.group(1) + found.group(2).removesuffix("to")


_LETTER_PREFIX = re.compile(r"(?<![^\W\d_])([A-Za-z])-(?=[A-Za-z]{2})")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


# Combining accents used by Latin, Greek and Cyrillic letters (not Devanagari vowel signs).
_ACCENTS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_ASCII_PUNCT = re.compile(r"[^a-z0-9]+")


# A clock time in the evening or at night is "night" ("at 9pm" asks for after-hours care).
_CLOCK = re.compile(r"\b(\d{1,2})(?:[:.]\d{2})?\s*([ap])\.?m\b\.?", re.IGNORECASE)


def _clock_word(found: re.Match[str]) -> str:
    hour = int(found.group(1)) % 12
    evening = found.group(2).lower() == "p" and hour >= 6
    return " night " if evening or (found.group(2).lower() == "a" and hour < 7) else " "


def fold(text: str) -> str:
    """Case, accents, apostrophes, script variants and punctuation folded; words single-spaced."""
    if "m" in text or "M" in text:
        text = _CLOCK.sub(_clock_word, text)
    if text.isascii():
        text = _LETTER_PREFIX.sub(r"\1", text.replace("'", "").replace("`", "")).lower()
        return " ".join(_ASCII_PUNCT.sub(" ", _PHRASAL.sub(_join_phrasal, text)).split())
    text = _LETTER_PREFIX.sub(r"\1", text.translate(_APOSTROPHES))  # e-referral -> ereferral
    decomposed = _ACCENTS.sub("", unicodedata.normalize("NFKD", text))
    folded = unicodedata.normalize("NFC", decomposed).casefold()
    folded = _ARABIC_MARKS.sub("", folded.translate(_ARABIC))
    folded = _HAN.sub(lambda m: f" {m.group(0)} ", _PHRASAL.sub(_join_phrasal, folded))
    return " ".join(_PUNCT.sub(" ", folded).replace("_", " ").split())


def is_han(token: str) -> bool:
    return bool(_HAN.fullmatch(token))


_ARABIC_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال")
_KEEP_S = ("ss", "us", "is", "ous")


_SNOWBALL = {
    "arabic": snowballstemmer.stemmer("arabic"),
    "hindi": snowballstemmer.stemmer("hindi"),
}
_ARABIC_SCRIPT = re.compile(r"[\u0600-\u06ff]")
_DEVANAGARI_SCRIPT = re.compile(r"[\u0900-\u097f]")


@lru_cache(maxsize=65536)
def root(token: str) -> str:
    """The matcher's stem: ``stem``, and for Arabic and Hindi words the Snowball stemmer of
    their language (prefixes, plural and pronoun endings: العاملين and عامل meet)."""
    if _ARABIC_SCRIPT.match(token):
        found = _SNOWBALL["arabic"].stemWord(token)
        return found if len(found) >= 2 else token
    if _DEVANAGARI_SCRIPT.match(token):
        found = _SNOWBALL["hindi"].stemWord(token)
        return found if len(found) >= 2 else token
    return stem(token)


@lru_cache(maxsize=65536)
def stem(token: str) -> str:
    """A light English stemmer: plurals and a few verb endings; other scripts as they are."""
    if len(token) == 3 and token.isascii() and token.endswith("s") and token[1] not in "aiu":
        return token[:2]  # gps -> gp, ids -> id (not bus, his, gas)
    if not token.isascii() or len(token) <= 3 or token.isdigit():
        for prefix in _ARABIC_PREFIXES:
            if token.startswith(prefix) and len(token) - len(prefix) >= 3:
                return token[len(prefix) :]  # the article with or without a joined particle
        return token
    if token.endswith("ies") and len(token) > 4:
        token = token[:-3] + "y"
    elif token.endswith(("sses", "shes", "ches", "xes", "zes")):
        token = token[:-2]
    elif token.endswith("s") and not token.endswith(_KEEP_S):
        token = token[:-1]
    else:
        token = _ending(token)
    # A final silent e goes too, so "arrange" meets "arranging" and "nurses" meets "nursing".
    if len(token) > 4 and token.endswith("e") and not token.endswith("ee"):
        return token[:-1]
    return token


def _ending(token: str) -> str:
    for ending in ("ing", "ed"):
        if token.endswith(ending) and len(token) > len(ending) + 2 + (ending == "ed"):
            root = token[: -len(ending)]
            if len(root) > 3 and root[-1] == root[-2] and root[-1] not in "ls":
                root = root[:-1]  # transferred -> transfer, but not enrolled/bless
            elif len(root) > 3 and root[-1] == root[-2] == "l":
                root = root[:-1]  # enrolled -> enrol
            return root
    return token
