"""``python -m assistant check`` for the matcher's word lists in the knowledge folder: the
synonyms (_synonyms.yaml) and the red flags (_safety.yaml)."""

from __future__ import annotations

from pathlib import Path

from assistant.knowledge import KNOWLEDGE_DIR
from assistant.matcher.lexicon import read_lexicon
from assistant.matcher.normalise import fold, root


def check_lexicon(directory: Path | None = None) -> list[str]:
    """Every problem in the word lists, as "path:line: message"."""
    folder = directory or KNOWLEDGE_DIR
    lexicon, lexicon_problems = read_lexicon(folder)
    problems = [f"{folder.name}/{problem}" for problem in lexicon_problems]
    problems += _weak_phrases(folder, lexicon.concepts, lexicon.stopwords)
    return problems


def _weak_phrases(
    folder: Path, concepts: dict[str, list[str]], stopwords: frozenset[str]
) -> list[str]:
    """Synonym phrases that are one small word: questions ignore it, so it never matches.
    (A longer phrase with small words, "get hold of", is matched whole, as written.)"""
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
