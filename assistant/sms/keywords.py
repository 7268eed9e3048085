"""Keywords and short answers people text, in every language (the words are in words.yaml)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from assistant.contacts.text import fold
from assistant.i18n import LANGUAGES

WORDS_FILE = Path(__file__).resolve().parent / "words.yaml"


class Keyword(StrEnum):
    stop = "stop"
    start = "start"
    help = "help"
    menu = "menu"
    lang = "lang"


class Answer(StrEnum):
    yes = "yes"
    no = "no"
    unsure = "unsure"


BARRIERS = ("cost", "transport", "language", "isolation")
# Barriers with a topic word that meets a word of lacking ("no car", "paise nahi").
TOPIC_BARRIERS = ("cost", "transport", "language")

# Twilio also takes YES as opting back in; we do the same, for an opted-out contact only.
OPT_IN_EXTRA = frozenset({"yes"})

# The language menu's order: 1 English ... 7 Arabic.
MENU_ORDER: tuple[str, ...] = LANGUAGES


@dataclass(frozen=True)
class Words:
    keywords: dict[Keyword, frozenset[str]]
    answers: dict[Answer, frozenset[str]]
    language_names: dict[str, frozenset[str]]
    barriers: dict[str, tuple[str, ...]]
    barrier_topics: dict[str, tuple[str, ...]]
    lack: tuple[str, ...]
    callback: tuple[str, ...]
    language_words: dict[str, frozenset[str]]
    name_intro: tuple[str, ...] = ()
    name_outro: tuple[str, ...] = ()
    question_words: tuple[str, ...] = ()


def _folded(items: Any) -> frozenset[str]:
    return frozenset(fold(str(item)) for item in items or ())


def load_words(path: Path = WORDS_FILE) -> Words:
    raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Words(
        keywords={kind: _folded(raw["keywords"].get(kind.value)) for kind in Keyword},
        answers={kind: _folded(raw["answers"].get(kind.value)) for kind in Answer},
        language_names={lang: _folded(raw["language_names"].get(lang)) for lang in LANGUAGES},
        barriers={
            name: tuple(fold(str(w)) for w in raw["barriers"].get(name) or ()) for name in BARRIERS
        },
        barrier_topics={
            name: tuple(fold(str(w)) for w in (raw.get("barrier_topics") or {}).get(name) or ())
            for name in TOPIC_BARRIERS
        },
        lack=tuple(fold(str(w)) for w in raw.get("lack") or ()),
        callback=tuple(fold(str(w)) for w in raw.get("callback") or ()),
        language_words={
            lang: _folded((raw.get("language_words") or {}).get(lang))
            for lang in LANGUAGES
            if (raw.get("language_words") or {}).get(lang)
        },
        # Longest first: "my name is" before "my name".
        name_intro=_longest_first(raw.get("name_intro")),
        name_outro=_longest_first(raw.get("name_outro")),
        question_words=_longest_first(raw.get("question_words")),
    )


def _longest_first(items: Any) -> tuple[str, ...]:
    return tuple(sorted({fold(str(w)) for w in items or ()}, key=len, reverse=True))


@cache
def words() -> Words:
    return load_words()


def check_words(path: Path = WORDS_FILE) -> list[str]:
    """Problems in words.yaml, as "path:line: message" (for `assistant check`)."""
    shown = path.relative_to(path.parents[2]) if len(path.parents) > 2 else path
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        loaded = load_words(path)
    except Exception as exc:  # a broken file is reported, not raised
        return [f"{shown}:1: cannot read: {exc!r}"]
    problems = []
    for section, names in (
        ("keywords", [k.value for k in Keyword]),
        ("answers", [a.value for a in Answer]),
        ("language_names", list(LANGUAGES)),
        ("barriers", list(BARRIERS)),
        ("barrier_topics", list(TOPIC_BARRIERS)),
    ):
        for name in names:
            items = (raw.get(section) or {}).get(name)
            if not items:
                problems.append(f"{shown}:1: {section}.{name} has no words")
            elif any(not isinstance(item, str) for item in items):
                problems.append(f"{shown}:1: {section}.{name}: quote every word (yes, no, 1...)")
    for section in ("lack", "callback", "name_intro", "name_outro", "question_words"):
        items = raw.get(section)
        if not items:
            problems.append(f"{shown}:1: {section} has no words")
        elif any(not isinstance(item, str) for item in items):
            problems.append(f"{shown}:1: {section}: quote every word (yes, no, 1...)")
    seen: dict[str, str] = {}
    for group in (loaded.keywords, loaded.answers, loaded.language_names):
        for kind, found in group.items():
            for word in found:
                if word in seen and seen[word] != str(kind):
                    problems.append(f"{shown}:1: {word!r} is both {seen[word]} and {kind}")
                seen[word] = str(kind)
    return problems


def keyword(text: str) -> Keyword | None:
    folded = fold(text)
    for kind, found in words().keywords.items():
        if folded in found:
            return kind
    return None


def language_named(text: str) -> str | None:
    """The language whose name is the whole message ("Samoan", "中文", "हिन्दी")."""
    folded = fold(text)
    for lang, names in words().language_names.items():
        if folded in names:
            return lang
    return None


def language_choice(text: str) -> str | None:
    """An answer to the language menu: its number (1-7, also in Arabic or Devanagari digits)
    or a language's name."""
    digit = number(text)
    if digit is not None and 1 <= digit <= len(MENU_ORDER):
        return MENU_ORDER[digit - 1]
    return language_named(text)


_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩०१२३४५६७८९", "01234567890123456789")


def number(text: str) -> int | None:
    """A menu number: "2", " 2. ", "٢", "२"."""
    folded = fold(text).translate(_DIGITS)
    return int(folded) if folded.isdigit() and len(folded) <= 2 else None


def answer(text: str) -> Answer | None:
    folded = fold(text).translate(_DIGITS)
    for kind, found in words().answers.items():
        if folded in found:
            return kind
    return None


def barriers(text: str) -> list[str]:
    """The barriers (cost, transport, language, isolation) a message mentions: one of their
    phrases ("too expensive", "dont drive"), or a word of the topic with a word of lacking
    ("no car", "paise nahi hai", "没有钱")."""
    found = _needles()
    folded = f" {fold(text)} "
    lacking = _any_in(folded, found.lack)
    return [
        barrier
        for barrier, phrases, topics in found.barriers
        if _any_in(folded, phrases) or (lacking and _any_in(folded, topics))
    ]


def wants_callback(text: str) -> bool:
    """The message asks for a person to call ("can someone ring me", "waea mai", "回电")."""
    return _any_in(f" {fold(text)} ", _needles().callback)


def language_of_words(text: str) -> str | None:
    """The language most of a Latin-script message's common words belong to, when one leads."""
    tokens = set(fold(text).split())
    scores = sorted(
        ((len(tokens & found), lang) for lang, found in words().language_words.items()),
        reverse=True,
    )
    if not scores or scores[0][0] == 0:
        return None
    if len(scores) > 1 and scores[1][0] == scores[0][0]:
        return None
    return scores[0][1]


_HAN = re.compile(r"[\u3400-\u9fff]")


_ARABIC = re.compile(r"[\u0600-\u06ff]")
_ARABIC_PARTICLES = ("", "و", "ف", "ب", "ل", "ول", "وب")  # joined "and", "so", "with", "for"


def _needles_of(phrase: str, *, whole: bool = False) -> tuple[str, ...]:
    """What finds ``phrase`` in a folded message with a space at each end (any one of them):
    the phrase at the start of a word (the whole word with ``whole``); Chinese anywhere, and
    Arabic after a joined particle too ("وليس لدي سيارة")."""
    if _HAN.search(phrase):
        return (phrase,)
    if not whole and _ARABIC.match(phrase):
        return tuple(f" {particle}{phrase}" for particle in _ARABIC_PARTICLES)
    return (f" {phrase} ",) if whole else (f" {phrase}",)


def _any_in(folded_text: str, needles: tuple[str, ...]) -> bool:
    # map over the bound method: the loop runs in C (every message is checked against a few
    # hundred needles).
    return any(map(folded_text.__contains__, needles))


@dataclass(frozen=True)
class _Needles:
    """The word lists of barriers and call-back requests as the strings to look for, worked
    out once (every message is checked against all of them)."""

    lack: tuple[str, ...]
    barriers: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]  # name, phrases, topics
    callback: tuple[str, ...]


def _all_needles(phrases: tuple[str, ...], *, whole: bool = False) -> tuple[str, ...]:
    return tuple(n for phrase in phrases for n in _needles_of(phrase, whole=whole))


@cache
def _needles() -> _Needles:
    known = words()
    return _Needles(
        lack=_all_needles(known.lack, whole=True),
        barriers=tuple(
            (
                barrier,
                _all_needles(known.barriers.get(barrier, ())),
                _all_needles(known.barrier_topics.get(barrier, ()), whole=True),
            )
            for barrier in BARRIERS
        ),
        callback=_all_needles(known.callback),
    )


def asks_a_question(text: str) -> bool:
    """The message is a question: a question mark, or a question word first ("how", "kei hea",
    "क्या", "هل"; in Chinese anywhere: "吗", "怎么")."""
    if any(mark in text for mark in "?？؟"):
        return True
    folded = f"{fold(text)} "
    for word in words().question_words:
        if _HAN.search(word):
            if word in folded:
                return True
        elif folded.startswith(f"{word} "):
            return True
    return False


NAME_MAX_WORDS = 5
NAME_MAX_CHARS = 60
_NAME_MARKS = frozenset(" '’ʻ‘`-.")


def name_given(text: str) -> str | None:
    """The person's name, when the message is a name and nothing else: "Mele Tupou",
    "my name is Ana Lee" (Ana Lee), "我叫王芳" (王芳), "मेरा नाम राज है" (राज). None for a
    question, a number, an answer, a keyword, a request or a sentence of common words."""
    if keyword(text) is not None or answer(text) is not None or number(text) is not None:
        return None
    if asks_a_question(text) or wants_callback(text) or barriers(text):
        return None
    tokens = _without_intro_and_outro(text.split())
    name = " ".join(tokens).strip(" .,!;:'’")
    if not name or len(name) > NAME_MAX_CHARS or len(name.split()) > NAME_MAX_WORDS:
        return None
    if not all(ch in _NAME_MARKS or unicodedata.category(ch)[0] in "LM" for ch in name):
        return None
    if _common_words_only(name):
        return None
    return name


def _without_intro_and_outro(tokens: list[str]) -> list[str]:
    known = words()
    for intro in known.name_intro:
        if _HAN.search(intro) and tokens and tokens[0].startswith(intro) and tokens[0] != intro:
            tokens = [tokens[0][len(intro) :], *tokens[1:]]  # "我叫王芳": no space after it
            break
        size = len(intro.split())
        if len(tokens) > size and fold(" ".join(tokens[:size])) == intro:
            tokens = tokens[size:]
            break
    for outro in known.name_outro:
        size = len(outro.split())
        if len(tokens) > size and fold(" ".join(tokens[-size:])) == outro:
            tokens = tokens[:-size]
            # "Ko Mere tōku ingoa": the "ko" before it goes too (alone, it may be a surname).
            if len(tokens) > 1 and fold(tokens[0]) == "ko":
                tokens = tokens[1:]
            break
    return tokens


def _common_words_only(name: str) -> bool:
    """Words of a sentence, not a name ("thanks", "ok sure", "kia ora", "talosaga mo se
    faaliliu"): one word when it is a common English one; more, when two of them are common
    words of one language ("Ana" and "Mei" are names too, and "Ana Mei")."""
    tokens = set(fold(name).split())
    common = words().language_words
    if len(tokens) == 1:
        return tokens <= common.get("en", frozenset())
    return any(len(tokens & found) >= 2 for found in common.values())
