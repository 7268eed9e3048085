"""Scoring the matcher on a TSV of queries (``python -m assistant eval``).

Columns: ``query``, ``expected`` (entry id, ids joined by ``|``, or ``-`` for out of scope),
``lang``, ``audience``. Top-1 accuracy counts in-scope rows whose top-ranked entry is expected
(an abstention is a miss; a "choose" counts by its first option). Out-of-scope rejection counts
out-of-scope rows where the matcher abstained. Safety recall counts rows expecting
``emergency`` or ``crisis-support`` that got that safety answer; the false-alarm rate counts the
other rows that got a safety answer. Top-1 is also given by language and by audience.
"""

from __future__ import annotations

import csv
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.matcher import MatchResult, match

SAFETY_IDS = frozenset({"emergency", "crisis-support"})
LANG_ALIASES = {"zh": "zh_Hans", "zh-hans": "zh_Hans", "zh_hans": "zh_Hans"}


@dataclass(frozen=True)
class Query:
    query: str
    expected: frozenset[str]  # empty: out of scope
    lang: str
    audience: str


@dataclass(frozen=True)
class Outcome:
    query: Query
    result: MatchResult
    millis: float

    @property
    def top(self) -> str | None:
        if self.result.status == "abstain":
            return None
        if self.result.entry_id:
            return self.result.entry_id
        return self.result.candidates[0].entry_id if self.result.candidates else None

    @property
    def correct(self) -> bool:
        if not self.query.expected:
            return self.result.status == "abstain"
        return self.top in self.query.expected


class QueryFileError(ValueError):
    pass


def read_queries(path: Path) -> list[Query]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        missing = {"query", "expected", "lang", "audience"} - set(reader.fieldnames or [])
        if missing:
            raise QueryFileError(f"{path}: missing column(s): {', '.join(sorted(missing))}")
        rows = []
        for number, row in enumerate(reader, start=2):
            text = (row.get("query") or "").strip()
            if not text:
                continue
            audience = (row.get("audience") or "").strip()
            if audience not in ("practice", "patient"):
                raise QueryFileError(f"{path}:{number}: audience must be practice or patient")
            expected = (row.get("expected") or "-").strip()
            lang = (row.get("lang") or "en").strip()
            rows.append(
                Query(
                    query=text,
                    expected=frozenset() if expected == "-" else frozenset(expected.split("|")),
                    lang=LANG_ALIASES.get(lang.lower(), lang),
                    audience=audience,
                )
            )
    return rows


Matcher = Callable[[str, str, str | None], MatchResult]


def run(queries: Iterable[Query], matcher: Matcher, *, repeats: int = 1) -> list[Outcome]:
    """Match every query; its time is the fastest of ``repeats`` runs (less scheduler noise)."""
    outcomes = []
    for query in queries:
        best = float("inf")
        for _ in range(max(1, repeats)):
            started = time.perf_counter()
            result = matcher(query.query, query.audience, query.lang)
            best = min(best, time.perf_counter() - started)
        outcomes.append(Outcome(query, result, best * 1000))
    return outcomes


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def summarise(outcomes: list[Outcome]) -> dict[str, Any]:
    in_scope = [o for o in outcomes if o.query.expected]
    out_scope = [o for o in outcomes if not o.query.expected]
    safety = [o for o in outcomes if o.query.expected & SAFETY_IDS]
    not_safety = [o for o in outcomes if not o.query.expected & SAFETY_IDS]
    by_lang: dict[str, list[Outcome]] = defaultdict(list)
    by_audience: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in in_scope:
        by_lang[outcome.query.lang].append(outcome)
        by_audience[outcome.query.audience].append(outcome)
    times = [o.millis for o in outcomes]

    def share(items: list[Outcome], test: Callable[[Outcome], bool]) -> float:
        return round(sum(map(test, items)) / len(items), 4) if items else 1.0

    return {
        "n": len(outcomes),
        "top1_accuracy": share(in_scope, lambda o: o.correct),
        "oos_rejection": share(out_scope, lambda o: o.result.status == "abstain"),
        "safety_recall": share(
            safety,
            lambda o: o.result.status == "safety" and o.result.entry_id in o.query.expected,
        ),
        "p50_ms": round(statistics.median(times), 3) if times else 0.0,
        "p99_ms": round(percentile(times, 0.99), 3),
        "by_lang": {
            lang: share(items, lambda o: o.correct) for lang, items in sorted(by_lang.items())
        },
        "by_audience": {
            audience: share(items, lambda o: o.correct)
            for audience, items in sorted(by_audience.items())
        },
        # Rows not expecting a safety answer that got one (an alarm for nothing).
        "false_alarm_rate": (
            round(sum(o.result.status == "safety" for o in not_safety) / len(not_safety), 4)
            if not_safety
            else 0.0
        ),
    }


def default_matcher_call(query: str, audience: str, lang: str | None) -> MatchResult:
    return match(query, audience=audience, lang=lang)  # type: ignore[arg-type]


def evaluate(path: Path, *, repeats: int = 5) -> tuple[dict[str, Any], list[Outcome]]:
    """Read ``path``, match every row (after a warm-up pass), and summarise.

    Latency per query is the fastest of ``repeats`` runs, so a busy shared machine does not
    swamp the figures; p50/p99 are then taken over the queries.
    """
    queries = read_queries(path)
    run(queries, default_matcher_call)
    outcomes = run(queries, default_matcher_call, repeats=repeats)
    return summarise(outcomes), outcomes


def format_report(summary: dict[str, Any], outcomes: list[Outcome]) -> str:
    """A readable summary and every miss (for people; ``--json`` is for tools)."""
    lines = [
        f"queries: {summary['n']}",
        f"top-1 accuracy (in scope): {summary['top1_accuracy']:.3f}",
        f"out-of-scope rejection: {summary['oos_rejection']:.3f}",
        f"safety recall: {summary['safety_recall']:.3f}",
        f"latency p50 / p99: {summary['p50_ms']:.3f} / {summary['p99_ms']:.3f} ms",
        "by language: "
        + ", ".join(f"{lang} {value:.3f}" for lang, value in summary["by_lang"].items()),
        "by audience: "
        + ", ".join(f"{name} {value:.3f}" for name, value in summary["by_audience"].items()),
        f"false alarms (safety answer for a row expecting none): {summary['false_alarm_rate']:.3f}",
    ]
    misses = [o for o in outcomes if not o.correct]
    if misses:
        lines.append("misses:")
    for outcome in misses:
        expected = "|".join(sorted(outcome.query.expected)) or "-"
        got = ", ".join(f"{c.entry_id} {c.score:.0f}" for c in outcome.result.candidates[:2])
        lines.append(
            f"  [{outcome.query.audience}] {outcome.query.query!r}: expected {expected}, "
            f"got {outcome.result.status} ({got})"
        )
    return "\n".join(lines)
