"""The knowledge base: one Markdown file per entry in ``knowledge/``, with per-language variants.

``get_knowledge_base()`` loads and caches it; entries are immutable once loaded.
"""

from __future__ import annotations

from assistant.knowledge._loader import (
    KNOWLEDGE_DIR,
    get_knowledge_base,
    load_knowledge_base,
)
from assistant.knowledge._model import (
    AUDIENCES,
    LANGUAGES,
    TEAMS,
    Entry,
    KnowledgeBase,
    Variant,
)

__all__ = [
    "AUDIENCES",
    "KNOWLEDGE_DIR",
    "LANGUAGES",
    "TEAMS",
    "Entry",
    "KnowledgeBase",
    "Variant",
    "get_knowledge_base",
    "load_knowledge_base",
]
