"""``python -m assistant kb export``: one record per entry and language."""

from __future__ import annotations

from typing import TypedDict

from assistant.knowledge._model import KnowledgeBase


class ExportedVariant(TypedDict):
    id: str
    audience: str
    owning_team: str
    lang: str
    title: str
    text: str


def export_records(kb: KnowledgeBase) -> list[ExportedVariant]:
    return [
        ExportedVariant(
            id=entry.id,
            audience=entry.audience,
            owning_team=entry.owning_team,
            lang=variant.lang,
            title=variant.title,
            text=variant.body_text,
        )
        for entry in kb.entries
        for variant in entry.variants.values()
    ]
