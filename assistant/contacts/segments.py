"""SMS segments: GSM-7 (160 / 153 per part) or UCS-2 (70 / 67 per part)."""

from __future__ import annotations

import re
from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")  # two septets each
_GSM7 = GSM7_BASIC | GSM7_EXTENSION

MAX_SEGMENTS = 2
# Units in one text alone, and in each part of a longer one (a part carries a header).
GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


@dataclass(frozen=True)
class SegmentCount:
    encoding: str  # "GSM-7" | "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def is_gsm7(text: str) -> bool:
    return _GSM7.issuperset(text)


def count(text: str) -> SegmentCount:
    """How many segments ``text`` takes; one non-GSM character makes all of it UCS-2."""
    if is_gsm7(text):
        units = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        single, part = GSM7_SINGLE, GSM7_PART
        encoding = "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part = UCS2_SINGLE, UCS2_PART
        encoding = "UCS-2"
    if units == 0:
        return SegmentCount(encoding, 0, 0)
    segments = 1 if units <= single else -(-units // part)
    return SegmentCount(encoding, units, segments)


def fits(text: str, max_segments: int = MAX_SEGMENTS) -> bool:
    return count(text).segments <= max_segments


_SENTENCE_END = re.compile(r"(?<=[.!?。！？।؟])\s*")


def shorten(text: str, *, suffix: str = "", max_segments: int = MAX_SEGMENTS) -> str:
    """``text`` cut at a sentence (else a word) so that it and ``suffix`` fit the budget."""
    text = " ".join(text.split())
    joined = f"{text} {suffix}".strip() if suffix else text
    if fits(joined, max_segments):
        return joined
    sentences = [s for s in _SENTENCE_END.split(text) if s.strip()]
    kept = ""
    for sentence in sentences:
        candidate = _join(kept, sentence)
        if not fits(f"{candidate} {suffix}".strip(), max_segments):
            break
        kept = candidate
    if not kept:
        # "…" is not in GSM-7: use three dots where the message would otherwise stay GSM-7.
        ellipsis = "..." if is_gsm7(text + suffix) else "…"
        words = text.split(" ")
        for word in words:
            candidate = f"{kept} {word}".strip()
            if not fits(f"{candidate}{ellipsis} {suffix}".strip(), max_segments):
                break
            kept = candidate
        if not kept:
            # One very long word (e.g. unspaced Chinese): cut by characters.
            for ch in text:
                if not fits(f"{kept}{ch}{ellipsis} {suffix}".strip(), max_segments):
                    break
                kept += ch
        kept += ellipsis
    return f"{kept} {suffix}".strip() if suffix else kept


def _join(left: str, right: str) -> str:
    if not left:
        return right
    # No space after full-width punctuation (Chinese).
    return left + right if left[-1] in "。！？" else f"{left} {right}"
