"""Match a question to a knowledge entry: safety rules first, then weighted fuzzy scoring.

``match(query, audience=..., lang=...)`` returns a ``MatchResult``: an answer, a choice of the
top two, an abstention (hand the question to a person), or a safety answer that nothing outranks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Status = Literal["answer", "choose", "abstain", "safety"]
SafetyKind = Literal["emergency", "crisis-support"]
Audience = Literal["practice", "patient"]


@dataclass(frozen=True)
class Candidate:
    entry_id: str
    title: str
    score: float  # 0..100


@dataclass(frozen=True)
class MatchResult:
    status: Status
    entry_id: str | None = None
    candidates: list[Candidate] = field(default_factory=list)
    safety: SafetyKind | None = None
    # On an abstention: the one or two entries close enough to offer beside the hand-off
    # ("is it one of these?"); empty when the question is about something else.
    suggestions: list[Candidate] = field(default_factory=list)


def match(query: str, *, audience: Audience, lang: str | None = None) -> MatchResult:
    """The best answer for ``query`` among entries for ``audience`` (or "both")."""
    from assistant.matcher._engine import default_matcher

    return default_matcher().match(query, audience=audience, lang=lang)


__all__ = ["Audience", "Candidate", "MatchResult", "SafetyKind", "Status", "match"]
