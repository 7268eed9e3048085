"""Matcher: accuracy, abstention and latency against a BM25 baseline, and at 2,000 entries.

One run prints, on each query set (the dev set, the shared dev-b set, the blind dev sets):
- our matcher: top-1 accuracy, out-of-scope rejection, safety recall, p50/p99 per query;
- a BM25 baseline (rank-bm25's Okapi BM25 over the same tokens: same folding, stemming,
  stopwords, typo correction, synonyms and Chinese segmentation; one document per entry with
  every language's title, keywords, synonyms and body), abstaining below a score threshold
  calibrated so it rejects at least as many out-of-scope queries as our matcher does;
- ratios of the two;
- our matcher's p50/p99 on a synthetic knowledge base of 2,000 entries (and BM25's there).

Latency per query is the fastest of several runs (the machine is shared), p50/p99 over queries.
"""

from __future__ import annotations

import random
import statistics
import string
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from rank_bm25 import BM25Okapi

from assistant.knowledge import Entry, KnowledgeBase, Variant, get_knowledge_base
from assistant.matcher import Candidate, MatchResult
from assistant.matcher._engine import Matcher
from assistant.matcher.evaluate import (
    SAFETY_IDS,
    Query,
    percentile,
    read_queries,
    run,
    summarise,
)
from assistant.matcher.lexicon import get_lexicon

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "tests" / "data" / "dev-queries.tsv"
SETS = (
    DEV,
    ROOT.parent / "shared" / "eval" / "dev-b-queries.tsv",
    ROOT / "tests" / "data" / "dev-blind-1-queries.tsv",
    ROOT / "tests" / "data" / "dev-blind-2-queries.tsv",
)
REPEATS = 7
SYNTHETIC_SIZE = 2000

MatchFn = Callable[[str, str, str | None], MatchResult]


class BM25Baseline:
    """Okapi BM25 per audience over the matcher's own tokens; abstains below ``threshold``."""

    def __init__(self, kb: KnowledgeBase, matcher: Matcher) -> None:
        self.matcher = matcher
        self.threshold = 0.0
        self.indexes: dict[str, tuple[list[Entry], BM25Okapi]] = {}
        for audience in ("practice", "patient"):
            entries = [e for e in kb.entries if e.for_audience(audience)]
            corpus = [matcher.tokens(_document(e), correct=False) or ["_"] for e in entries]
            self.indexes[audience] = (entries, BM25Okapi(corpus))

    def best(self, query: str, audience: str) -> tuple[Entry | None, float]:
        entries, index = self.indexes[audience]
        tokens = self.matcher.tokens(query)
        if not tokens:
            return None, 0.0
        scores = index.get_scores(tokens)
        top = max(range(len(entries)), key=lambda i: scores[i])
        return entries[top], float(scores[top])

    def match(self, query: str, audience: str, lang: str | None) -> MatchResult:
        entry, score = self.best(query, audience)
        if entry is None or score < self.threshold:
            return MatchResult("abstain")
        candidates = [Candidate(entry.id, entry.title, score)]
        if entry.id in SAFETY_IDS:  # scored like ours when a safety entry ranks first
            return MatchResult("safety", entry.id, candidates, entry.id)  # type: ignore[arg-type]
        return MatchResult("answer", entry.id, candidates)

    def calibrate(self, queries: list[Query], target_rejection: float) -> None:
        """The lowest threshold rejecting at least ``target_rejection`` of out-of-scope rows."""
        out_of_scope = [q for q in queries if not q.expected]
        tops = sorted(self.best(q.query, q.audience)[1] for q in out_of_scope)
        for candidate in [0.0, *(t + 1e-9 for t in tops)]:
            rejected = sum(1 for t in tops if t < candidate)
            if not out_of_scope or rejected / len(out_of_scope) >= target_rejection:
                self.threshold = candidate
                return
        self.threshold = float("inf")


def _document(entry: Entry) -> str:
    parts = list(entry.synonyms)
    for variant in entry.variants.values():
        parts += [variant.title, *variant.keywords, variant.body_text]
    return "\n".join(parts)


def synthetic_kb(base: KnowledgeBase, size: int, seed: int = 7) -> KnowledgeBase:
    """``size`` entries: the real ones plus recombinations with new made-up vocabulary."""
    rng = random.Random(seed)
    words = sorted({w for e in base.entries for w in _document(e).split() if w.isalpha()})
    entries = list(base.entries)
    while len(entries) < size:
        model = rng.choice(base.entries)
        number = len(entries)
        invented = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(5, 9)))]
        title = " ".join([*rng.sample(words, 3), *invented])
        keywords = [*rng.sample(words, 4), *invented, f"{invented[0]} {rng.choice(words)}"]
        body = " ".join(rng.sample(words, 40))
        variants = {
            lang: Variant(lang, title, keywords, body, f"<p>{body}</p>", body)
            for lang in model.variants
        }
        entries.append(replace(model, id=f"synthetic-{number}", variants=variants, synonyms=[]))
    return KnowledgeBase(entries=entries)


def _measure(queries: list[Query], fn: MatchFn) -> dict[str, float]:
    run(queries, fn)  # warm caches
    return summarise(run(queries, fn, repeats=REPEATS))


def _latencies(queries: list[Query], fn: MatchFn) -> tuple[float, float]:
    run(queries, fn)
    times = [o.millis for o in run(queries, fn, repeats=REPEATS)]
    return statistics.median(times), percentile(times, 0.99)


def main() -> None:
    kb = get_knowledge_base()
    lexicon = get_lexicon()

    started = time.perf_counter()
    ours = Matcher(kb, lexicon)
    load_ms = (time.perf_counter() - started) * 1000

    def ours_fn(q: str, a: str, lang: str | None) -> MatchResult:
        return ours.match(q, audience=a, lang=lang)  # type: ignore[arg-type]

    print(f"== matcher: {len(kb.entries)} entries, index built in {load_ms:.0f} ms")
    for path in SETS:
        if not path.exists():
            continue
        queries = read_queries(path)
        mine = _measure(queries, ours_fn)
        bm25 = BM25Baseline(kb, ours)
        bm25.calibrate(queries, mine["oos_rejection"])
        base = _measure(queries, bm25.match)
        print(f"-- {path.name}: {len(queries)} queries")
        header = (
            f"   {'':28} {'top-1':>7} {'OOS rej.':>9} {'safety':>7} {'p50 ms':>8} {'p99 ms':>8}"
        )
        print(header)
        for name, figures in (("ours", mine), (f"BM25 (threshold {bm25.threshold:.2f})", base)):
            print(
                f"   {name:28} {figures['top1_accuracy']:7.3f} {figures['oos_rejection']:9.3f} "
                f"{figures['safety_recall']:7.3f} {figures['p50_ms']:8.3f} {figures['p99_ms']:8.3f}"
            )
        print(
            "   ratios ours/BM25: top-1 x{:.2f}, p50 latency x{:.2f}, p99 latency x{:.2f}".format(
                mine["top1_accuracy"] / max(base["top1_accuracy"], 1e-9),
                mine["p50_ms"] / max(base["p50_ms"], 1e-9),
                mine["p99_ms"] / max(base["p99_ms"], 1e-9),
            )
        )

    queries = read_queries(DEV)
    big = synthetic_kb(kb, SYNTHETIC_SIZE)
    started = time.perf_counter()
    big_ours = Matcher(big, lexicon)
    big_load = (time.perf_counter() - started) * 1000
    big_bm25 = BM25Baseline(big, big_ours)

    def big_fn(q: str, a: str, lang: str | None) -> MatchResult:
        return big_ours.match(q, audience=a, lang=lang)  # type: ignore[arg-type]

    p50, p99 = _latencies(queries, big_fn)
    b50, b99 = _latencies(queries, big_bm25.match)
    print(
        f"== synthetic knowledge base: {len(big.entries)} entries "
        f"(index built in {big_load:.0f} ms)"
    )
    print(f"   ours: p50 {p50:.3f} ms, p99 {p99:.3f} ms (budget 10 ms)")
    print(f"   BM25: p50 {b50:.3f} ms, p99 {b99:.3f} ms")
    print(f"   ratio ours/BM25 p99: x{p99 / max(b99, 1e-9):.2f}")


if __name__ == "__main__":
    main()
