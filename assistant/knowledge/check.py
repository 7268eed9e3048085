"""``python -m assistant check`` for the knowledge folder: entries, synonyms and red flags."""

from __future__ import annotations

from pathlib import Path

from assistant.knowledge._loader import KNOWLEDGE_DIR, load_knowledge_base
from assistant.knowledge._model import LANGUAGES

ALL_LANGUAGES_FOR = ("patient", "both")
SAFETY_ENTRIES = ("emergency", "crisis-support")


def check_knowledge(directory: Path | None = None) -> list[str]:
    """Every problem in the knowledge folder, as "path:line: message"."""
    from assistant.matcher.lexicon import read_lexicon

    folder = directory or KNOWLEDGE_DIR
    kb = load_knowledge_base(folder)
    problems = list(kb.problems)
    for entry in kb.entries:
        if entry.audience in ALL_LANGUAGES_FOR or entry.id in SAFETY_ENTRIES:
            missing = [lang for lang in LANGUAGES if lang not in entry.variants]
            if missing:
                problems.append(
                    f"{entry.path}:1: {entry.audience} entry needs every language; "
                    f"missing: {', '.join(missing)}"
                )
    for entry_id in SAFETY_ENTRIES:
        if kb.get(entry_id) is None and not any(f"'{entry_id}'" in p for p in problems):
            problems.append(f"{folder.name}/: the '{entry_id}' entry is missing")
    lexicon, lexicon_problems = read_lexicon(folder)
    problems += [f"{folder.name}/{problem}" for problem in lexicon_problems]
    problems += _weak_phrases(folder, lexicon.concepts, lexicon.stopwords)
    return problems


def _weak_phrases(
    folder: Path, concepts: dict[str, list[str]], stopwords: frozenset[str]
) -> list[str]:
    """Synonym phrases that are one small word: questions ignore it, so it never matches.
    (A longer phrase with small words, "get hold of", is matched whole, as written.)"""
    from assistant.matcher.normalise import fold, root

    ignored = {root(word) for text in stopwords for word in fold(text).split()}
    problems = []
    for name, phrases in concepts.items():
        for phrase in phrases:
            words = [root(word) for word in fold(phrase).split()]
            content = [word for word in words if word not in ignored]
            if len(words) == 1 and not content:
                problems.append(
                    f"{folder.name}/_synonyms.yaml:1: concept '{name}': phrase '{phrase}' is "
                    "a small word that questions ignore; it never matches"
                )
    return problems
