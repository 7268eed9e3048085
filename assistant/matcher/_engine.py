"""Provisional engine (replaced by the weighted index)."""

from __future__ import annotations

from functools import cache

from rapidfuzz import fuzz

from assistant.knowledge import KnowledgeBase, get_knowledge_base
from assistant.matcher import Audience, Candidate, MatchResult


class Matcher:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb

    def match(self, query: str, *, audience: Audience, lang: str | None = None) -> MatchResult:
        scored = []
        for entry in self.kb.entries:
            if not entry.for_audience(audience):
                continue
            text = " ".join([entry.title, *entry.keywords, *entry.synonyms])
            scored.append(
                Candidate(
                    entry.id,
                    entry.variant(lang).title,
                    fuzz.token_set_ratio(query.lower(), text.lower()),
                )
            )
        scored.sort(key=lambda c: -c.score)
        if not scored or scored[0].score < 60:
            return MatchResult("abstain", None, scored[:2])
        return MatchResult("answer", scored[0].entry_id, scored[:3])


@cache
def default_matcher() -> Matcher:
    return Matcher(get_knowledge_base())
