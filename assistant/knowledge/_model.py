"""The shapes of a loaded knowledge base."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

LANGUAGES: tuple[str, ...] = ("en", "mi", "sm", "to", "zh_Hans", "hi", "ar")
AUDIENCES: tuple[str, ...] = ("practice", "patient", "both")
TEAMS: tuple[str, ...] = ("liaison", "coordination", "mso", "pcw", "none")


@dataclass(frozen=True)
class Variant:
    lang: str
    title: str
    keywords: list[str]
    body_markdown: str
    body_html: str  # sanitised; safe to mark |safe
    body_text: str  # plain text (SMS)
    # Questions as people write them, in this language: the matcher compares questions to them.
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Entry:
    id: str
    audience: str
    owning_team: str
    reviewed: date
    source: str
    variants: dict[str, Variant]
    synonyms: list[str] = field(default_factory=list)
    path: str = ""

    @property
    def title(self) -> str:
        return self.variants["en"].title

    @property
    def keywords(self) -> list[str]:
        return self.variants["en"].keywords

    def variant(self, lang: str | None) -> Variant:
        """The variant in ``lang``, falling back to English."""
        if lang and lang in self.variants:
            return self.variants[lang]
        return self.variants["en"]

    def for_audience(self, audience: str) -> bool:
        return self.audience == "both" or self.audience == audience


@dataclass
class KnowledgeBase:
    entries: list[Entry]
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_id = {entry.id: entry for entry in self.entries}

    def get(self, entry_id: str) -> Entry | None:
        return self._by_id.get(entry_id)

    def __len__(self) -> int:
        return len(self.entries)
