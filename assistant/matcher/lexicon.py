"""The expert-editable word lists: ``knowledge/_synonyms.yaml`` and ``knowledge/_safety.yaml``."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from assistant.knowledge import KNOWLEDGE_DIR, LANGUAGES

SAFETY_KINDS = ("emergency", "crisis-support")


@dataclass(frozen=True)
class Lexicon:
    concepts: dict[str, list[str]] = field(default_factory=dict)  # name -> phrases
    misspellings: dict[str, str] = field(default_factory=dict)  # wrong -> right
    stopwords: frozenset[str] = frozenset()
    elsewhere: frozenset[str] = frozenset()  # words of other services: hand off
    safety: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # kind -> lang -> phrases
    # kind -> rules; a rule is word groups that must all appear somewhere in the message
    together: dict[str, list[list[list[str]]]] = field(default_factory=dict)
    # red-flag concepts (name -> words of every language) that rules name as "@name"
    safety_concepts: dict[str, list[str]] = field(default_factory=dict)
    # guards: history, now, guidance, person_here, denial -> words of every language
    safety_guards: dict[str, list[str]] = field(default_factory=dict)


def _strings(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [str(item) for item in value if str(item).strip()]


SAFETY_GUARDS = ("history", "recovered", "not_urgent", "now", "guidance", "person_here", "denial")


def _all_languages(value: Any) -> list[str]:
    """A word list written flat or by language (``{en: [...], mi: [...]}``), as one list."""
    if isinstance(value, dict):
        return [word for words in value.values() for word in _strings(words)]
    return _strings(value)


def _booleans(value: Any, where: str = "") -> list[str]:
    """Where a YAML list holds true or false: a bare ``no`` or ``on`` that was meant as a word."""
    if isinstance(value, bool):
        return [where or "top"]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _booleans(v, f"{where}/{k}".lstrip("/"))]
    if isinstance(value, list):
        return [p for item in value for p in _booleans(item, where)]
    return []


def read_lexicon(directory: Path | None = None) -> tuple[Lexicon, list[str]]:
    """The word lists in ``directory`` and any problems found reading them."""
    folder = directory or KNOWLEDGE_DIR
    problems: list[str] = []
    synonyms_path = folder / "_synonyms.yaml"
    safety_path = folder / "_safety.yaml"
    synonyms = _read_yaml(synonyms_path, problems)
    safety_raw = _read_yaml(safety_path, problems)

    concepts: dict[str, list[str]] = {}
    for name, phrases in (synonyms.get("concepts") or {}).items():
        words = _strings(phrases)
        if not words:
            problems.append(f"{synonyms_path.name}:1: concept '{name}' needs a list of phrases")
            continue
        concepts[str(name)] = words
    misspellings = {
        str(wrong): str(right) for wrong, right in (synonyms.get("misspellings") or {}).items()
    }
    stop_lists = synonyms.get("stopwords") or {}
    stopwords = frozenset(word for words in stop_lists.values() for word in _strings(words))
    elsewhere = frozenset(_strings(synonyms.get("elsewhere")))

    safety: dict[str, dict[str, list[str]]] = {}
    for kind in SAFETY_KINDS:
        by_lang = safety_raw.get(kind) or {}
        safety[kind] = {str(lang): _strings(words) for lang, words in by_lang.items()}
        for lang in LANGUAGES:
            if not safety[kind].get(lang):
                problems.append(
                    f"{safety_path.name}:1: '{kind}' has no red-flag words for '{lang}'"
                )
        for lang in safety[kind]:
            if lang not in LANGUAGES:
                problems.append(f"{safety_path.name}:1: '{kind}': unknown language '{lang}'")
    together: dict[str, list[list[list[str]]]] = {kind: [] for kind in SAFETY_KINDS}
    raw_together = safety_raw.get("together") or {}
    if not isinstance(raw_together, dict):
        problems.append(
            f"{safety_path.name}:1: 'together' must map emergency/crisis-support to rules"
        )
        raw_together = {}
    for kind, rules in raw_together.items():
        if kind not in SAFETY_KINDS:
            problems.append(f"{safety_path.name}:1: 'together': unknown kind '{kind}'")
            continue
        for rule in rules or []:
            groups = (
                [[group] if isinstance(group, str) else _strings(group) for group in rule]
                if isinstance(rule, list)
                else []
            )
            if not groups or not all(groups):
                problems.append(
                    f"{safety_path.name}:1: 'together' rule for '{kind}' needs one or more "
                    "lists of words"
                )
                continue
            together[str(kind)].append(groups)
    safety_concepts = {
        str(name): _all_languages(words)
        for name, words in (safety_raw.get("concepts") or {}).items()
    }
    for kind, rules in together.items():
        for rule in rules:
            for group in rule:
                for word in group:
                    if word.startswith("@") and word[1:] not in safety_concepts:
                        problems.append(
                            f"{safety_path.name}:1: a '{kind}' rule names an unknown "
                            f"concept '{word}'"
                        )
    for where in _booleans(safety_raw):
        problems.append(
            f"{safety_path.name}:1: {where}: a bare yes/no/on/off reads as true or false; "
            "put the word in quotes"
        )
    raw_guards = safety_raw.get("guards") or {}
    safety_guards = {name: _all_languages(raw_guards.get(name)) for name in SAFETY_GUARDS}
    for name in raw_guards:
        if name not in SAFETY_GUARDS:
            problems.append(f"{safety_path.name}:1: unknown guard '{name}'")
    lexicon = Lexicon(
        concepts=concepts,
        misspellings=misspellings,
        stopwords=stopwords,
        elsewhere=elsewhere,
        safety=safety,
        together=together,
        safety_concepts=safety_concepts,
        safety_guards=safety_guards,
    )
    return lexicon, problems


def _read_yaml(path: Path, problems: list[str]) -> dict[str, Any]:
    if not path.exists():
        problems.append(f"{path.name}:1: missing")
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        problems.append(f"{path.name}:1: does not parse: {exc}")
        return {}
    if not isinstance(data, dict):
        problems.append(f"{path.name}:1: must be a mapping")
        return {}
    return data


@cache
def get_lexicon() -> Lexicon:
    return read_lexicon()[0]
