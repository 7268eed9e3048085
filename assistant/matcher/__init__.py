"""Match a question to a knowledge entry: safety rules first, then weighted fuzzy scoring.

``match(query, audience=..., lang=...)`` returns a ``MatchResult``: an answer, a choice of the
top two, an abstention (hand the question to a person), or a safety answer that nothing outranks.
"""

from __future__ import annotations

from assistant.matcher._engine import default_matcher
from assistant.matcher.result import Audience, Candidate, MatchResult, SafetyKind, Status


def match(query: str, *, audience: Audience, lang: str | None = None) -> MatchResult:
    """The best answer for ``query`` among entries for ``audience`` (or "both")."""
    return default_matcher().match(query, audience=audience, lang=lang)


__all__ = ["Audience", "Candidate", "MatchResult", "SafetyKind", "Status", "match"]
