"""What admins and coordinators see about each entry: review date and how it is used."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session

from assistant.knowledge._model import Entry, KnowledgeBase
from assistant.knowledge.usage import usage_counts

REVIEW_EVERY = timedelta(days=365)


@dataclass(frozen=True)
class EntrySummary:
    entry: Entry
    answered: int
    helpful: int
    unhelpful: int
    handoff: int
    review_due: bool


def knowledge_overview(
    session: Session,
    *,
    kb: KnowledgeBase,
    today: date,
    audience: str | None = None,
    search: str | None = None,
) -> list[EntrySummary]:
    """Every entry (optionally one audience, or matching ``search``) with its usage counts."""
    counts = usage_counts(session)
    needle = (search or "").strip().casefold()
    summaries = []
    for entry in kb.entries:
        if audience and entry.audience != audience:
            continue
        if needle and not _mentions(entry, needle):
            continue
        used = counts.get(entry.id, {})
        summaries.append(
            EntrySummary(
                entry=entry,
                answered=used.get("answered", 0),
                helpful=used.get("helpful", 0),
                unhelpful=used.get("unhelpful", 0),
                handoff=used.get("handoff", 0),
                review_due=entry.reviewed + REVIEW_EVERY < today,
            )
        )
    return sorted(summaries, key=lambda s: (s.entry.audience, s.entry.title.casefold()))


def _mentions(entry: Entry, needle: str) -> bool:
    haystack = [entry.id, entry.owning_team, *entry.synonyms]
    for variant in entry.variants.values():
        haystack += [variant.title, *variant.keywords]
    return any(needle in text.casefold() for text in haystack)
