"""Red flags: the emergency and crisis words of ``knowledge/_safety.yaml``, checked first.

A question matches a red flag when it contains one of the phrases (English-script words in
order, at most two other words between them, a slip of one letter forgiven in longer words;
other scripts anywhere in the text, spaces or none), or one word from every group of a
"together" rule. Emergency wins when both kinds match.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import OSA

from assistant.matcher import SafetyKind
from assistant.matcher._lexicon import SAFETY_KINDS, Lexicon
from assistant.matcher._normalise import fold, stem

MIN_TYPO_LEN = 5
# "OD", "OD'd", "od'ing", "ODed": overdose, written short. Lower-case "od" needs an ending or an
# apostrophe, so "odd" stays "odd".
_OVERDOSE_SHORT = re.compile(r"\b(?:OD|ODd|[Oo][Dd]['’](?:d|ed|ing|s)|[Oo][Dd](?:ed|ing))\b")


# Spoken contractions written as one word: "wanna die", "dont wanna be alive".
_CONTRACTIONS = {"wanna": ("want", "to"), "gonna": ("going", "to"), "wana": ("want", "to")}


def _plain_tokens(text: str) -> list[str]:
    words: list[str] = []
    for word in fold(text).split():
        words.extend(_CONTRACTIONS.get(word, (word,)))
    return [stem(word) for word in words]


@dataclass(frozen=True)
class _FlagGroup:
    """One group of a "together" red-flag rule: any of its words or phrases."""

    words: frozenset[str]
    phrases: tuple[tuple[str, ...], ...]
    others: tuple[str, ...]  # other scripts, matched inside the text without spaces

    def found(self, tokens: list[str], present: set[str], joined: str) -> bool:
        if present & self.words or any(piece in joined for piece in self.others):
            return True
        return any(
            _phrase_at(phrase, tokens, start)
            for phrase in self.phrases
            for start, token in enumerate(tokens)
            if token == phrase[0]
        )


class RedFlags:
    """The red flags, precomputed: English-script phrases by first word, other scripts as one
    regex, and the "together" rules."""

    def __init__(self, lexicon: Lexicon) -> None:
        safety = lexicon.safety
        self._flag_starts: dict[str, list[tuple[str, tuple[str, ...]]]] = defaultdict(list)
        self._flag_words: set[str] = set()
        unspaced: dict[str, str] = {}
        for kind in SAFETY_KINDS:
            for phrases in safety.get(kind, {}).values():
                for phrase in phrases:
                    words = tuple(_plain_tokens(phrase))
                    if not words:
                        continue
                    if all(word.isascii() for word in words):
                        self._flag_starts[words[0]].append((kind, words))
                        self._flag_words.update(words)
                    else:
                        unspaced.setdefault("".join(words), kind)
        self._flag_unspaced = unspaced
        # Rules of words that must appear together ("chest" and "sore"), anywhere in a message.
        self._together: list[tuple[str, list[_FlagGroup]]] = []
        for kind in SAFETY_KINDS:
            for rule in lexicon.together.get(kind, []):
                groups = []
                for group in rule:
                    singles: set[str] = set()
                    sequences: list[tuple[str, ...]] = []
                    others: list[str] = []
                    for item in group:
                        tokens = tuple(_plain_tokens(item))
                        if not tokens:
                            continue
                        if not item.isascii():
                            others.append("".join(tokens))
                        elif len(tokens) == 1:
                            singles.add(tokens[0])
                        else:
                            sequences.append(tokens)
                        self._flag_words.update(t for t in tokens if t.isascii())
                    groups.append(_FlagGroup(frozenset(singles), tuple(sequences), tuple(others)))
                self._together.append((kind, groups))
        self._flag_pattern = (
            re.compile("|".join(re.escape(p) for p in sorted(unspaced, key=len, reverse=True)))
            if unspaced
            else None
        )
        # Typos are forgiven in words of a longer red flag ("chset pain") and in long single
        # words ("unconcious"); short single words must be exact ("stroke" is not "strike").
        single = {
            words[0]
            for starts in self._flag_starts.values()
            for _k, words in starts
            if len(words) == 1
        }
        self._flag_choices = sorted(
            w
            for w in self._flag_words
            if len(w) >= MIN_TYPO_LEN and (w not in single or len(w) >= 8)
        )
        self._flag_cache: dict[str, str] = {}
        # Four-letter words forgive only two letters swapped ("pian" is "pain", "paid" is not).
        self._swapped: dict[str, list[str]] = defaultdict(list)
        for w in sorted(self._flag_words):
            if len(w) == 4 and w.isascii():
                self._swapped["".join(sorted(w))].append(w)

    def _flag_word(self, word: str) -> str:
        """``word``, or the red-flag word it is a small typo of ("breath" for "braeth")."""
        if word in self._flag_words or not word.isascii():
            return word
        if len(word) == 4:
            same_letters = self._swapped.get("".join(sorted(word)), ())
            return next((w for w in same_letters if OSA.distance(word, w) == 1), word)
        if len(word) < MIN_TYPO_LEN:
            return word
        found = self._flag_cache.get(word)
        if found is None:
            # One slip (a wrong, missing, extra or swapped letter; two in long words).
            best = process.extractOne(
                word,
                self._flag_choices,
                scorer=OSA.distance,
                score_cutoff=1 if len(word) < 8 else 2,
            )
            found = best[0] if best else word
            if len(self._flag_cache) > 50_000:
                self._flag_cache.clear()
            self._flag_cache[word] = found
        return found

    def kind(self, query: str) -> SafetyKind | None:
        """The red flag in ``query``, if any; emergency wins when both kinds are present."""
        query = _OVERDOSE_SHORT.sub(" overdose ", query)
        words = [self._flag_word(word) for word in _plain_tokens(query)]
        found: set[str] = set()
        if self._flag_pattern is not None:
            found.update(
                self._flag_unspaced[m.group(0)] for m in self._flag_pattern.finditer("".join(words))
            )
        for start, word in enumerate(words):
            for kind, phrase in self._flag_starts.get(word, ()):
                if kind not in found and _phrase_at(phrase, words, start):
                    found.add(kind)
        if len(found) < len(SAFETY_KINDS) and self._together:
            present = set(words)
            joined = "".join(words)
            for kind, groups in self._together:
                if kind not in found and all(g.found(words, present, joined) for g in groups):
                    found.add(kind)
        for kind in SAFETY_KINDS:
            if kind in found:
                return kind  # type: ignore[return-value]
        return None


def _phrase_at(phrase: tuple[str, ...], words: list[str], start: int, max_gap: int = 2) -> bool:
    """``phrase`` starting at ``words[start]``, its words in order at most ``max_gap`` apart."""
    position = start
    for part in phrase[1:]:
        window = words[position + 1 : position + 2 + max_gap]
        if part not in window:
            return False
        position += window.index(part) + 1
    return True
