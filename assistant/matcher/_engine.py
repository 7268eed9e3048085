"""The matcher: everything is precomputed at load; a query costs a few dictionary look-ups.

Every text (question or entry field) goes through one pipeline: fold (case, accents, ʻokina,
punctuation, script variants), split, stem, correct typos against the knowledge base's own
words, drop stopwords, replace synonym phrases by their concept, and split Chinese into the
known words it contains.

Scoring: an entry's score is the share of the question's weight (inverse document frequency
of each word) that the entry covers, each word counted at the weight of the best field it
appears in (title and keywords > synonyms > one word of a phrase > body). Words the knowledge
base has never seen count against every entry, so a question about something else scores low.
Ties go to whole phrases, then title cover, then the entry most about those words.

Deciding: red flags first (``_redflags``); then abstain below a score floor (higher when only
one word matched) or when the best entry matched only body words; offer the top two when the
second is within a margin; otherwise answer.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from rapidfuzz import fuzz, process

from assistant.knowledge import Entry, KnowledgeBase, get_knowledge_base
from assistant.matcher._redflags import RedFlags
from assistant.matcher.lexicon import SAFETY_KINDS, Lexicon, get_lexicon
from assistant.matcher.normalise import fold, is_han, root
from assistant.matcher.result import Audience, Candidate, MatchResult

FIELD_WEIGHTS = {"title": 1.0, "keywords": 1.0, "synonyms": 0.9, "examples": 0.6, "body": 0.3}
# The nearest example question: its share of the question's and the example's weight
# (Dice, idf-weighted). At EXAMPLE_STRONG or above it can carry an answer on its own.
EXAMPLE_STRONG = 0.5
EXAMPLE_SCALE = 100.0
ONE_SHARED_WORD = 0.5
COMMON_IDF = 0.5
EXAMPLE_WORDS = 12  # the question's words (most telling first) compared with the examples
SAFETY_RANKED_WORDS = 3  # an emergency/crisis entry reached by ranking alone needs this many words
# Below this: abstain. Staff ask about the PHO's own work; patients' questions stray more often
# (measured on the dev sets: the practice floor at 32 gains 5 points of top-1 for one more
# out-of-scope answer in 37; at the patient floor the out-of-scope rejection would drop 2 points).
SCORE_FLOOR = {"practice": 32.0, "patient": 38.0}
SINGLE_WORD_FLOOR = 46.0  # ... when only one of the question's words matched
SUGGEST_FLOOR = 20.0  # below the floor but at least this (and strong): offered beside the hand-off
MARGIN = 8.0  # a second best this close: offer both
UNKNOWN_WEIGHT = 0.8  # share of the largest idf charged for a word nobody uses
FUZZY_CUTOFF = 85.0
OTHER_SCRIPT_UNKNOWN = 0.5
PHRASE_BONUS = 10.0
TITLE_BONUS = 3.0
FOCUS_BONUS = 20.0
TOP_K = 40
PART_OF_PHRASE = 0.75
STRONG_WEIGHT = 0.9  # a whole title word, keyword or synonym; or two words of phrases
WEAK_WORD_WEIGHT = 0.5  # a word found only in bodies cannot carry an answer alone
MIN_FUZZY_LEN = 4


@dataclass(frozen=True)
class _Index:
    entries: list[Entry]
    postings: dict[str, list[tuple[int, float]]]  # token -> [(entry index, field weight)]
    idf: dict[str, float]
    best_weight: dict[str, float]  # token -> its strongest field weight in any entry
    unknown_idf: float
    title_tokens: list[frozenset[str]]
    phrases: list[list[frozenset[str]]]  # per entry: its multi-word titles and keywords
    focus: list[dict[str, float]]  # per entry: share of its titles and keywords with a word
    examples: list[tuple[int, frozenset[str]]]  # (entry index, words) of each example question
    example_postings: dict[str, list[int]]  # token -> the examples holding it
    example_weights: list[float]  # each example's words' idf, summed


@dataclass(frozen=True)
class _EntryTerms:
    weights: dict[str, float]
    title: frozenset[str]
    phrases: list[frozenset[str]]
    focus: dict[str, float]


@dataclass(frozen=True)
class _Scored:
    entry: Entry
    base: float  # share of the question's weight this entry covers, 0..100
    bonus: float  # tie-breakers: whole phrases, title coverage
    strong: bool  # matched a whole title word, keyword or synonym, or two words of phrases
    words: int  # how many of the question's words it matched

    @property
    def rank(self) -> float:
        return self.base + self.bonus


class Matcher:
    def __init__(self, kb: KnowledgeBase, lexicon: Lexicon) -> None:
        self.kb = kb
        self.lexicon = lexicon
        stop_words = [word for text in lexicon.stopwords for word in self._plain_tokens(text)]
        self.stopwords = frozenset(w for w in stop_words if not is_han(w))
        self._han_stopwords = frozenset(w for w in stop_words if is_han(w))
        self._han_words = set(self._han_stopwords)
        for entry in kb.entries:
            for variant in entry.variants.values():
                for keyword in variant.keywords:
                    self._han_words.update(w for w in fold(keyword).split() if is_han(w))
        self._han_max = max((len(w) for w in self._han_words), default=1)
        self._compile_concepts(lexicon.concepts)
        surface: dict[str, str] = {}  # a word as written (folded) -> its stem
        texts = {text for entry in kb.entries for text in self._entry_texts(entry)}
        for text in texts:
            surface.update((word, root(word)) for word in fold(text).split())
        for phrases in lexicon.concepts.values():
            for phrase in phrases:
                surface.update((word, root(word)) for word in fold(phrase).split())
        self._misspellings = {
            root(fold(wrong)): root(fold(right)) for wrong, right in lexicon.misspellings.items()
        }
        self.vocabulary = frozenset(surface.values()) - self.stopwords
        # Typos are matched against words as written, then stemmed ("smokng" -> "smoking").
        self._surface = {
            word: root
            for word, root in surface.items()
            if word.isascii() and len(word) >= MIN_FUZZY_LEN and root not in self.stopwords
        }
        self._fuzzy_choices = sorted(self._surface)
        self._fuzzy_cache: dict[str, str] = {}
        self._field_memo: dict[tuple[str, bool], list[str]] = {}
        terms = {entry.id: self._fields(entry) for entry in kb.entries}
        self._field_memo.clear()
        self._indexes = {
            audience: self._build_index([e for e in kb.entries if e.for_audience(audience)], terms)
            for audience in ("practice", "patient")
        }
        self.red_flags = RedFlags(lexicon)
        self._elsewhere = frozenset(
            token for word in lexicon.elsewhere for token in self._content_tokens(word)
        )
        self._safety_titles = {kind: kb.get(kind) for kind in SAFETY_KINDS}

    # -- text pipeline -------------------------------------------------------------------

    @staticmethod
    def _plain_tokens(text: str) -> list[str]:
        return [root(word) for word in fold(text).split()]

    def _content_tokens(self, text: str) -> list[str]:
        return [w for w in self._plain_tokens(text) if w not in self.stopwords]

    def _compile_concepts(self, concepts: dict[str, list[str]]) -> None:
        """Synonym phrases as word tuples (longest first) and, for Chinese, one regex."""
        spaced: dict[tuple[str, ...], str] = {}
        unspaced: dict[str, str] = {}
        whole: dict[tuple[str, ...], str] = {}  # phrases with small words, matched first as written
        for name, phrases in concepts.items():
            token = "~" + "_".join(self._plain_tokens(name))
            for phrase in phrases:
                plain = self._plain_tokens(phrase)
                words = [w for w in plain if w not in self.stopwords]
                if len(plain) > len(words) and len(plain) > 1 and not any(map(is_han, plain)):
                    whole.setdefault(tuple(plain), token)  # "get hold of", "go down"
                    if len(words) <= 1:
                        continue  # alone, the one word left would match too much
                if not words:
                    continue
                if all(is_han(word) for word in words):
                    unspaced.setdefault("".join(words), token)
                else:
                    spaced.setdefault(tuple(words), token)
        self._whole_concepts = whole
        self._phrase_concepts = spaced
        # For each first word, the phrase lengths starting with it, longest first.
        self._whole_sizes = self._sizes_by_first(whole)
        self._phrase_sizes = self._sizes_by_first(spaced)
        self._han_concepts = unspaced
        self._han_pattern = (
            re.compile("|".join(re.escape(p) for p in sorted(unspaced, key=len, reverse=True)))
            if unspaced
            else None
        )

    @staticmethod
    def _sizes_by_first(table: dict[tuple[str, ...], str]) -> dict[str, tuple[int, ...]]:
        sizes: dict[str, set[int]] = defaultdict(set)
        for phrase in table:
            sizes[phrase[0]].add(len(phrase))
        return {word: tuple(sorted(found, reverse=True)) for word, found in sizes.items()}

    def _replace_phrases(
        self, words: list[str], table: dict[tuple[str, ...], str] | None = None
    ) -> list[str]:
        phrases = self._phrase_concepts if table is None else table
        sizes_of = self._phrase_sizes if table is None else self._whole_sizes
        out: list[str] = []
        i = 0
        while i < len(words):
            for size in sizes_of.get(words[i], ()):
                if size > len(words) - i:
                    continue
                concept = phrases.get(tuple(words[i : i + size]))
                if concept is not None:
                    out.append(concept)
                    i += size
                    break
            else:
                out.append(words[i])
                i += 1
        return out

    def _correct(self, word: str) -> str:
        """A stemmed word, or the knowledge base's word it is most likely a typo of."""
        stemmed = root(word)
        if stemmed in self.vocabulary or stemmed in self.stopwords or not word.isascii():
            return stemmed
        if stemmed in self._misspellings:
            return self._misspellings[stemmed]
        if len(word) < MIN_FUZZY_LEN or word.isdigit():
            return stemmed
        found = self._fuzzy_cache.get(word)
        if found is None:
            best = process.extractOne(
                word, self._fuzzy_choices, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF
            )
            found = self._surface[best[0]] if best else stemmed
            if len(self._fuzzy_cache) > 50_000:
                self._fuzzy_cache.clear()
            self._fuzzy_cache[word] = found
        return found

    def _segment(self, run: str) -> list[str]:
        """Chinese: longest known word at each position; unknown characters kept together."""
        pieces: list[str] = []
        unknown = ""
        i = 0
        while i < len(run):
            for size in range(min(self._han_max, len(run) - i), 0, -1):
                if run[i : i + size] in self._han_words:
                    if unknown:
                        pieces.append(unknown)
                        unknown = ""
                    pieces.append(run[i : i + size])
                    i += size
                    break
            else:
                unknown += run[i]
                i += 1
        if unknown:
            pieces.append(unknown)
        return [p for p in pieces if p not in self._han_stopwords]

    def tokens(self, text: str, *, correct: bool = True, concepts: bool = True) -> list[str]:
        """The scoring tokens of ``text`` (query or entry field)."""
        if correct:
            words = [self._correct(word) for word in fold(text).split()]
        else:
            words = self._plain_tokens(text)
        if concepts and self._whole_concepts:
            words = self._replace_phrases(words, self._whole_concepts)
        words = [w for w in words if w not in self.stopwords]
        if concepts:
            words = self._replace_phrases(words)
        result: list[str] = []
        for word in words:
            if not is_han(word):
                result.append(word)
                continue
            if concepts and self._han_pattern is not None:
                word = self._han_pattern.sub(lambda m: f" {self._han_concepts[m.group(0)]} ", word)
            for piece in word.split():
                result.extend(self._segment(piece) if is_han(piece) else [piece])
        return result

    # -- index ---------------------------------------------------------------------------

    @staticmethod
    def _entry_texts(entry: Entry) -> Iterable[str]:
        for variant in entry.variants.values():
            yield variant.title
            yield from variant.keywords
            yield variant.body_text
        yield from entry.synonyms

    def _fields(self, entry: Entry) -> _EntryTerms:
        """Each word's weight in ``entry``, its title words, phrases and focus."""
        weights: dict[str, float] = {}
        title: set[str] = set()
        phrases: set[frozenset[str]] = set()
        mentions: dict[str, int] = defaultdict(int)
        strong_texts = 0

        def put(token: str, weight: float) -> None:
            weights[token] = max(weights.get(token, 0.0), weight)

        def add(name: str, text: str, *, corrected: bool = False) -> None:
            nonlocal strong_texts
            # Example questions are written as people write, typos and all: their words are
            # read as a question's are, and never widen the vocabulary typos are fixed against.
            tokens = set(self.tokens(text) if corrected else self._field_tokens(text))
            weight = FIELD_WEIGHTS[name]
            if name in ("keywords", "synonyms") and len(tokens) > 1:
                weight *= PART_OF_PHRASE  # one word of "annual review" is weaker than "diabetes"
                phrases.add(frozenset(tokens))
            elif name == "title":
                title.update(tokens)
                if len(tokens) > 1:
                    phrases.add(frozenset(tokens))
            for token in tokens:
                put(token, weight)
            # The words inside a synonym phrase count too, as weakly as body words.
            if not corrected:
                for token in set(self._field_tokens(text, concepts=False)) - tokens:
                    put(token, min(weight, FIELD_WEIGHTS["body"]))
            if name not in ("body", "examples"):
                strong_texts += 1
                for token in tokens:
                    mentions[token] += 1

        for variant in entry.variants.values():
            add("title", variant.title)
            for keyword in variant.keywords:
                add("keywords", keyword)
            add("body", variant.body_text)
            for example in variant.examples:
                add("examples", example, corrected=True)
        for synonym in entry.synonyms:
            add("synonyms", synonym)
        focus = {token: count / max(strong_texts, 1) for token, count in mentions.items()}
        return _EntryTerms(
            weights=weights,
            title=frozenset(title),
            phrases=sorted(phrases, key=len, reverse=True),
            focus=focus,
        )

    def _field_tokens(self, text: str, *, concepts: bool = True) -> list[str]:
        """Entry-side tokens, memoised while indexing (keywords repeat across entries)."""
        key = (text, concepts)
        found = self._field_memo.get(key)
        if found is None:
            found = self.tokens(text, correct=False, concepts=concepts)
            self._field_memo[key] = found
        return found

    def _build_index(self, entries: list[Entry], terms_of: dict[str, _EntryTerms]) -> _Index:
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        titles: list[frozenset[str]] = []
        phrases: list[list[frozenset[str]]] = []
        focus: list[dict[str, float]] = []
        for number, entry in enumerate(entries):
            terms = terms_of[entry.id]
            phrases.append(terms.phrases)
            focus.append(terms.focus)
            for token, weight in terms.weights.items():
                postings[token].append((number, weight))
            titles.append(terms.title)
        examples: list[tuple[int, frozenset[str]]] = []
        example_postings: dict[str, list[int]] = defaultdict(list)
        for number, entry in enumerate(entries):
            for variant in entry.variants.values():
                for question in variant.examples:
                    words = frozenset(self.tokens(question))
                    if not words:
                        continue
                    for token in words:
                        example_postings[token].append(len(examples))
                    examples.append((number, words))
        total = max(len(entries), 1)
        idf = {token: math.log(1 + total / len(hits)) for token, hits in postings.items()}
        best_weight = {token: max(w for _n, w in hits) for token, hits in postings.items()}
        return _Index(
            entries=entries,
            postings=dict(postings),
            idf=idf,
            best_weight=best_weight,
            unknown_idf=math.log(1 + total) * UNKNOWN_WEIGHT,
            title_tokens=titles,
            phrases=phrases,
            focus=focus,
            examples=examples,
            example_postings=dict(example_postings),
            example_weights=[
                sum(idf.get(t, math.log(1 + total) * UNKNOWN_WEIGHT) for t in words)
                for _n, words in examples
            ],
        )

    @staticmethod
    def _nearest_examples(index: _Index, tokens: list[str]) -> dict[int, float]:
        """Per entry, how close its nearest example question is to the question (0..1)."""
        idf = index.idf
        unknown = index.unknown_idf
        weights = [idf.get(t, unknown) for t in tokens]
        shared: dict[int, list[float]] = {}  # example -> [weight shared, words shared]
        postings = index.example_postings
        # The most telling words only (a word most entries use tells no example apart; a long
        # message's many small words would only cost time).
        telling = sorted(
            ((w, t) for t, w in zip(tokens, weights, strict=True) if w >= COMMON_IDF),
            reverse=True,
        )[:EXAMPLE_WORDS]
        for weight, token in telling:
            for example in postings.get(token, ()):
                found = shared.get(example)
                if found is None:
                    shared[example] = [weight, 1.0]
                else:
                    found[0] += weight
                    found[1] += 1.0
        if not shared:
            return {}
        asked = sum(weights)
        several = len(tokens) > 1
        examples = index.examples
        sizes = index.example_weights
        best: dict[int, float] = {}
        for example, (overlap, count) in shared.items():
            number = examples[example][0]
            dice = 2 * overlap / (asked + sizes[example])
            if count < 2 and several:
                dice *= ONE_SHARED_WORD  # "sell me a car" shares only "car" with "no car"
            if dice > best.get(number, 0.0):
                best[number] = dice
        return best

    # -- matching ------------------------------------------------------------------------

    def rank(
        self, query: str, *, audience: Audience, tokens: list[str] | None = None
    ) -> list[_Scored]:
        """Entries sharing words with ``query``, best first (at most five)."""
        index = self._indexes[audience]
        tokens = list(dict.fromkeys(self.tokens(query) if tokens is None else tokens))
        if not tokens:
            return []
        totals: dict[int, float] = defaultdict(float)
        strong: set[int] = set()
        partial: dict[int, int] = defaultdict(int)  # words matched that are parts of phrases
        matched: dict[int, int] = defaultdict(int)
        ideal = 0.0  # what one entry holding every query word in its title would score
        foreign_unknown = 0.0
        for token in tokens:
            hits = index.postings.get(token)
            if hits is None:
                if token.rstrip("s").isdigit():
                    continue  # "3 months", "under 14s": a number nobody uses qualifies
                if token.isascii():
                    ideal += index.unknown_idf
                else:
                    foreign_unknown += index.unknown_idf
                continue
            idf = index.idf[token]
            best = index.best_weight[token]
            ideal += idf * (1.0 if best > FIELD_WEIGHTS["body"] else WEAK_WORD_WEIGHT)
            for number, weight in hits:
                totals[number] += idf * weight
                matched[number] += 1
                if weight >= STRONG_WEIGHT:
                    strong.add(number)
                elif weight > FIELD_WEIGHTS["body"]:
                    partial[number] += 1
        nearest = self._nearest_examples(index, tokens)
        for number in nearest:
            totals.setdefault(number, 0.0)
        query_set = frozenset(tokens)
        known = [(t, index.idf[t]) for t in tokens if t in index.idf]
        known_weight = sum(idf for _t, idf in known) or 1.0
        scored: list[_Scored] = []
        for number, total in sorted(totals.items(), key=lambda item: -item[1])[:TOP_K]:
            # Our word lists know English best: an unknown word in another script is more
            # likely an inflection or a small word, so it weighs less once two words match.
            share = OTHER_SCRIPT_UNKNOWN if matched[number] > 1 else 1.0
            # Ties go to the entry whose multi-word keyword or title appears whole in the
            # question, then to the entry whose title the question covers most.
            whole = sum(map(query_set.issuperset, index.phrases[number]))
            title = index.title_tokens[number]
            covered = len(title & query_set) / len(title) if title else 0.0
            # ...then to the entry most about those words (how many of its titles and
            # keywords, in every language, carry them).
            focus = index.focus[number]
            about = sum(idf * focus.get(t, 0.0) for t, idf in known) / known_weight
            example = nearest.get(number, 0.0)
            covers = 100.0 * total / (ideal + foreign_unknown * share) if ideal else 0.0
            scored.append(
                _Scored(
                    entry=index.entries[number],
                    base=min(100.0, max(covers, EXAMPLE_SCALE * example)),
                    bonus=PHRASE_BONUS * min(whole, 2)
                    + TITLE_BONUS * covered
                    + FOCUS_BONUS * about,
                    strong=number in strong or partial[number] >= 2 or example >= EXAMPLE_STRONG,
                    words=max(matched[number], 2 if example >= EXAMPLE_STRONG else 0),
                )
            )
        scored.sort(key=lambda item: -item.rank)
        # Body words alone are weak evidence: an entry matched only through them does not
        # outrank one whose title, keywords or synonyms the question uses.
        if scored and not scored[0].strong:
            scored.sort(key=lambda item: not item.strong)
        return scored[:5]

    def match(self, query: str, *, audience: Audience, lang: str | None = None) -> MatchResult:
        kind, held_back = self.red_flags.assess(query)
        if kind is not None:
            entry = self._safety_titles.get(kind)
            title = entry.variant(lang).title if entry else kind
            return MatchResult("safety", kind, [Candidate(kind, title, 100.0)], kind)
        words = self.tokens(query)
        ranked = self.rank(query, audience=audience, tokens=words)
        candidates = [
            Candidate(item.entry.id, item.entry.variant(lang).title, round(item.base, 1))
            for item in ranked
        ]
        # Abstain unless the best entry covers enough of the question, with a whole title word,
        # keyword or synonym, or two words of its phrases (body words alone are not enough,
        # nor is one word of a phrase: "work" of "unfunded work").
        # One matching word among others unknown needs more cover ("sell me a car").
        # A word of another service ("library", "tax") the best entry never uses: hand off,
        # with nothing to suggest.
        elsewhere = self._elsewhere.intersection(words)
        if ranked and any(not self._uses(audience, ranked[0].entry, w) for w in elsewhere):
            return MatchResult("abstain", None, candidates[:2])
        if (
            not ranked
            or not ranked[0].strong
            or ranked[0].base
            < (SCORE_FLOOR[audience] if ranked[0].words > 1 else SINGLE_WORD_FLOOR)
        ):
            return self._abstain(ranked, candidates)
        top = ranked[0]
        if top.entry.id in SAFETY_KINDS:
            # Real red flags were caught above; reached by ranking alone, an emergency or crisis
            # answer needs three matched words ("help" alone asks for help, "the end of life
            # programme" is not a crisis), and never where a guard or a negation held a red
            # flag back ("not suicidal, just stressed"): the next entry answers, or a person.
            if held_back or top.words < SAFETY_RANKED_WORDS:
                rest = [item for item in ranked if item.entry.id not in SAFETY_KINDS]
                if not rest or not rest[0].strong or rest[0].base < SCORE_FLOOR[audience]:
                    return self._abstain(ranked, candidates)
                top = rest[0]
                others = [c for c in candidates if c.entry_id not in SAFETY_KINDS]
                return MatchResult("answer", top.entry.id, others[:3])
            kind = top.entry.id  # type: ignore[assignment]
            return MatchResult("safety", top.entry.id, candidates[:1], kind)
        if len(ranked) > 1 and top.rank - ranked[1].rank < MARGIN:
            return MatchResult("choose", None, candidates[:2])
        return MatchResult("answer", top.entry.id, candidates[:3])

    @staticmethod
    def _abstain(ranked: list[_Scored], candidates: list[Candidate]) -> MatchResult:
        """Hand off; offer the one or two entries that came close (a two-stage fallback)."""
        near = [
            candidate
            for item, candidate in zip(ranked, candidates, strict=True)
            if item.strong
            and item.words > 1
            and item.base >= SUGGEST_FLOOR
            and item.entry.id not in SAFETY_KINDS
        ]
        return MatchResult("abstain", None, candidates[:2], suggestions=near[:2])

    def _uses(self, audience: Audience, entry: Entry, token: str) -> bool:
        index = self._indexes[audience]
        number = index.entries.index(entry)
        return any(n == number for n, _w in index.postings.get(token, ()))


@cache
def default_matcher() -> Matcher:
    return Matcher(get_knowledge_base(), get_lexicon())
