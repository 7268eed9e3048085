"""What a match returns: an answer, a choice, an abstention, or a safety answer."""

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
