"""``python -m assistant check`` for the knowledge folder's entries.

Its word lists (the synonyms and red flags the matcher reads) are checked by
``assistant.matcher.check``."""

from __future__ import annotations

from pathlib import Path

from assistant.knowledge._loader import KNOWLEDGE_DIR, load_knowledge_base
from assistant.knowledge._model import LANGUAGES

ALL_LANGUAGES_FOR = ("patient", "both")
SAFETY_ENTRIES = ("emergency", "crisis-support")


def check_knowledge(directory: Path | None = None) -> list[str]:
    """Every problem in the knowledge folder's entries, as "path:line: message"."""
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
    return problems
