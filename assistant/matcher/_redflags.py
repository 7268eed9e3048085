"""Red flags: the emergency and crisis rules of ``knowledge/_safety.yaml``, checked first.

A message is read clause by clause (split at punctuation and at "but", "and"...):

- **Guards** take a clause out of the reckoning: a time in the past with nothing happening now
  ("had a stroke two years ago"), or a question about guidance rather than a person ("is there
  a pathway for chest pain"). A flag word right after a negation ("not suicidal", "no chest
  pain", "我没有想自杀", "لا أفكر في إيذاء نفسي") or right before a denial ("suicide ka nahi
  soch raha") does not count either.
- **Phrases** of each kind: English-script words in order, at most two other words between
  them, a slip of one letter forgiven in longer words; other scripts anywhere in the clause.
- **Rules** combine concepts (named word lists, every language in one list): one item of every
  group anywhere in the message's remaining clauses ("@self_harm_act" and "@reflexive";
  "@want", "@die"). A rule that names the negation concept itself ("@negation", "@want",
  "@live": "don't want to live") is not undone by it. A rule that names a concept of ``CLOSE``
  ("@violence": someone, an act of violence, the person) holds only with its words close
  together in one clause, none of them negated. An act of taking or (not) waking
  ("@took", "@unresponsive") right after an intent ("@want": "going to take them all", "don't
  want to wake up") has not happened yet: it is no emergency (the intent rules make it a crisis).

Words match after folding (case, accents, ʻokina and apostrophes); English words by their stem
("cutting" is "cut"); a word ending in ``*`` matches any ending (romanised Hindi "chah*" is
chahta, chahti, chahte); Arabic words match with their joined prefixes and suffixes ("جرح"
is يجرح, تجرح, وجرحت; "نفس" is نفسه, نفسها, نفسي). Emergency wins when both kinds match.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from dataclasses import dataclass, field

from rapidfuzz import process
from rapidfuzz.distance import OSA

from assistant.matcher.lexicon import SAFETY_KINDS, Lexicon
from assistant.matcher.normalise import fold, stem
from assistant.matcher.result import SafetyKind

MIN_TYPO_LEN = 5
# How many words (of three letters or more) a negation reaches forward, a denial backward.
NEGATION_REACH = 3
HAN_NEGATION_REACH = 3
# "OD", "OD'd", "od'ing", "ODed": overdose, written short. Lower-case "od" needs an ending or an
# apostrophe, so "odd" stays "odd".
_OVERDOSE_SHORT = re.compile(r"\b(?:OD|ODd|[Oo][Dd]['’](?:d|ed|ing|s)|[Oo][Dd](?:ed|ing))\b")
# Where a clause ends: punctuation in every script, and the words that join two clauses.
_CLAUSE_BREAK = re.compile(
    r"[.,;:!?\n\r()،؛。，！？；：…]+|\s-\s|"
    r"\b(?:but|and|though|although|however|lekin|magar|par|engari|otira|ae|kae|ka\s+kuo)\b|"
    r"(?:但是|可是|不过|但)|(?:\s(?:لكن|بس|ولكن)\s)",
    re.IGNORECASE,
)
# Spoken contractions written as one word: "wanna die", "dont wanna be alive".
_CONTRACTIONS = {"wanna": ("want", "to"), "gonna": ("going", "to"), "wana": ("want", "to")}
_ARABIC_LETTER = re.compile("[\u0621-\u064a]")
_ARABIC_PREFIXES = ("وال", "بال", "فال", "كال", "لل", "ال", "و", "ف", "ب", "ل", "س")
_ARABIC_VERB_PREFIXES = ("ان", "ي", "ت", "ا", "ن")
_ARABIC_SUFFIXES = (
    "هما",
    "كما",
    "هم",
    "هن",
    "كم",
    "نا",
    "ها",
    "ني",
    "وا",
    "ون",
    "ين",
    "ات",
    "ه",
    "ي",
    "ك",
    "ت",
)
_HAN_OR_DEVANAGARI = re.compile("[\u0900-\u097f\u3400-\u4dbf\u4e00-\u9fff]")
NEGATION = "negation"
# A rule naming one of these concepts holds only with its words close together in one clause,
# none of them negated: "my husband is hitting me", not "my husband wants to enrol ... I hit the
# wrong button ... call me".
CLOSE = ("violence", "emergency_number")
INTENT = "want"  # an intent right before an act ...
NOT_YET = ("took", "unresponsive")  # ... of taking, or of (not) waking: not happened yet


def _plain_tokens(text: str) -> list[str]:
    words: list[str] = []
    for word in fold(text).split():
        words.extend(_CONTRACTIONS.get(word, (word,)))
    return [stem(word) for word in words]


def _arabic_forms(token: str) -> set[str]:
    """An Arabic word with its joined particles, person prefixes and pronoun endings taken off
    (only while three letters or more are left)."""
    forms = {token}
    frontier = {token}
    for affixes, at_start in (
        (_ARABIC_PREFIXES, True),
        (_ARABIC_VERB_PREFIXES, True),
        (_ARABIC_SUFFIXES, False),
        (_ARABIC_SUFFIXES, False),
    ):
        grown = set()
        for form in frontier:
            for affix in affixes:
                cut = (
                    form[len(affix) :]
                    if at_start and form.startswith(affix)
                    else form[: -len(affix)]
                    if not at_start and form.endswith(affix)
                    else None
                )
                if cut is not None and len(cut) >= (2 if at_start and len(affix) > 1 else 3):
                    grown.add(cut)
        forms |= grown
        frontier = frontier | grown
    return forms


def _is_spaced(item: str) -> bool:
    """Words of an item are matched one by one (Latin and Arabic scripts); Chinese and Hindi in
    Devanagari are looked for anywhere in the clause, spaces or none."""
    return not _HAN_OR_DEVANAGARI.search(item)


@dataclass(frozen=True, eq=False)
class _Item:
    """One word or phrase of a red flag: words in order, or a piece of unspaced text."""

    words: tuple[str, ...] = ()
    unspaced: str = ""


@dataclass
class _Clause:
    """A clause of the message: its words (each with the forms it can match as) and its text
    without spaces, for Chinese and Devanagari pieces."""

    tokens: list[str]
    forms: list[set[str]]
    joined: str
    offsets: list[int]  # where each word starts in ``joined``
    hits: dict[_Item, list[tuple[int, int, int, int]]] = field(default_factory=dict)

    def word_at(self, offset: int) -> int:
        index = 0
        for i, start in enumerate(self.offsets):
            if start <= offset:
                index = i
        return index


def _word_matches(pattern: str, forms: set[str]) -> bool:
    if pattern.endswith("*"):
        stem_part = pattern[:-1]
        return any(form.startswith(stem_part) for form in forms)
    return pattern in forms


@dataclass(frozen=True)
class _Group:
    """One group of a rule: any of its words or phrases."""

    items: frozenset[_Item]
    negation: bool = False  # this group is the negation concept itself
    act: bool = False  # this group is an act that an intent just before puts off ("@took")
    close: bool = False  # the rule's words must be close together (``CLOSE``)

    def spans(self, clause: _Clause) -> list[tuple[int, int, int, int]]:
        hits = clause.hits
        return [span for item in self.items.intersection(hits) for span in hits[item]]


class RedFlags:
    """The red flags, precomputed from the lexicon."""

    def __init__(self, lexicon: Lexicon) -> None:
        safety = lexicon.safety
        self._phrase_kind: dict[_Item, str] = {}  # each phrase and the kind it raises
        self._flag_words: set[str] = set()
        self._registry: set[_Item] = set()
        for kind in SAFETY_KINDS:
            for lang, phrases in safety.get(kind, {}).items():
                for phrase in phrases:
                    # Typos are forgiven towards English words only: a word of another language
                    # one letter from a flag word is more likely a word of its own ("sana").
                    item = self._item(phrase, typos=lang == "en")
                    if item is not None:
                        self._phrase_kind[item] = kind
        self._rules: list[tuple[str, list[_Group]]] = []
        concepts = lexicon.safety_concepts
        for kind in SAFETY_KINDS:
            for rule in lexicon.together.get(kind, []):
                groups = []
                for group in rule:
                    is_negation = is_act = is_close = False
                    entries: list[str] = []
                    for entry in group:
                        if entry.startswith("@"):
                            name = entry[1:]
                            is_negation = is_negation or name == NEGATION
                            is_close = is_close or name in CLOSE
                            # (an overdose only once taken; a crisis already in the intent)
                            is_act = is_act or (name in NOT_YET and kind == "emergency")
                            entries.extend(f"@{word}" for word in concepts.get(name, []))
                        else:
                            entries.append(entry)
                    items = frozenset(i for i in map(self._concept_item, entries) if i is not None)
                    groups.append(_Group(items, is_negation, is_act, is_close))
                self._rules.append((kind, groups))
        # Each rule under the items of its smallest group: a rule can hold only where one of
        # them is found, so a message is checked against those rules alone (in their order).
        self._rules_by_item: dict[_Item, list[int]] = {}
        self._rules_always: list[int] = []  # a rule of no groups (none today) is always checked
        for n, (_kind, groups) in enumerate(self._rules):
            if not groups:
                self._rules_always.append(n)
                continue
            for item in min(groups, key=lambda group: len(group.items)).items:
                self._rules_by_item.setdefault(item, []).append(n)
        guards = lexicon.safety_guards
        self._negations = self._items(concepts.get(NEGATION, []), short=True)
        self._intents = self._items(concepts.get(INTENT, []), short=True)
        self._denials = self._items(guards.get("denial", []))
        self._history = self._items(guards.get("history", []))
        self._recovered = self._items(guards.get("recovered", []))
        self._not_urgent = self._items(guards.get("not_urgent", []))
        self._now = self._items(guards.get("now", []))
        self._guidance = self._items(guards.get("guidance", []))
        self._person_here = self._items(guards.get("person_here", []))
        # Typos are forgiven in words of a longer red flag ("chset pain") and in long single
        # words ("unconcious"); short single words must be exact ("stroke" is not "strike").
        singles = {item.words[0] for item in self._phrase_kind if len(item.words) == 1}
        self._flag_choices = sorted(
            w
            for w in self._flag_words
            if w.isascii()
            and not w.endswith("*")
            and len(w) >= MIN_TYPO_LEN
            and (w not in singles or len(w) >= 8)
        )
        self._flag_cache: dict[str, str] = {}
        self._index()
        # Four-letter words forgive only two letters swapped ("pian" is "pain", "paid" is not).
        self._swapped: dict[str, list[str]] = defaultdict(list)
        for w in sorted(self._flag_words):
            if len(w) == 4 and w.isascii():
                self._swapped["".join(sorted(w))].append(w)

    def _items(self, words: list[str], *, short: bool = False) -> frozenset[_Item]:
        return frozenset(
            item for item in (self._item(w, typos=False, short=short) for w in words) if item
        )

    def _concept_item(self, entry: str) -> _Item | None:
        """A word of a rule: written in the rule itself (typos forgiven, as in phrases), or of a
        named concept (``@word``: exact, and one- or two-letter Latin words are left out, since
        "to" or "a" written without its macron is another word)."""
        if entry.startswith("@"):
            return self._item(entry[1:], typos=False, short=False)
        return self._item(entry)

    def _item(self, text: str, *, typos: bool = True, short: bool = True) -> _Item | None:
        if _is_spaced(text):
            words = []
            for raw in fold(text).split():
                for word in _CONTRACTIONS.get(raw, (raw,)):
                    words.append(word if raw.endswith("*") else stem(word))
            if text.rstrip().endswith("*") and words:
                words[-1] = words[-1].rstrip("*") + "*"
            words = [w for w in words if w]
            if not words or (
                not short and len(words) == 1 and words[0].isascii() and len(words[0]) <= 2
            ):
                return None
            if typos:
                self._flag_words.update(w for w in words if w.isascii())
            item = _Item(words=tuple(words))
        else:
            joined = "".join(fold(text.replace("*", "")).split())
            if not joined:
                return None
            item = _Item(unspaced=joined)
        self._registry.add(item)
        return item

    def _index(self) -> None:
        """Every word and phrase by its first word (or as a piece of unspaced text), so a
        message is read once, whatever the number of rules."""
        self._by_first: dict[str, list[_Item]] = defaultdict(list)
        self._wild_first: dict[str, list[_Item]] = defaultdict(list)
        self._unspaced: list[_Item] = []
        for item in sorted(self._registry, key=lambda i: (i.words, i.unspaced)):
            if item.unspaced:
                self._unspaced.append(item)
            elif item.words[0].endswith("*"):
                self._wild_first[item.words[0][:-1]].append(item)
            else:
                self._by_first[item.words[0]].append(item)
        self._wild_sizes = tuple(sorted({len(prefix) for prefix in self._wild_first}))
        self._unspaced_by_first: dict[str, list[_Item]] = defaultdict(list)
        for item in self._unspaced:
            self._unspaced_by_first[item.unspaced[0]].append(item)

    def _flag_word(self, word: str) -> str:
        """``word``, or the red-flag word it is a small typo of ("breath" for "braeth")."""
        if word in self._flag_words or not word.isascii():
            return word
        if len(word) == 4:
            same_letters = self._swapped.get("".join(sorted(word)), ())
            return next((w for w in same_letters if OSA.distance(word, w) == 1), word)
        if len(word) < MIN_TYPO_LEN:
            return word
        found = self._flag_cache.get(word)
        if found is None:
            # One slip (a wrong, missing, extra or swapped letter; two in long words).
            best = process.extractOne(
                word,
                self._flag_choices,
                scorer=OSA.distance,
                score_cutoff=1 if len(word) < 8 else 2,
            )
            found = best[0] if best else word
            if len(self._flag_cache) > 50_000:
                self._flag_cache.clear()
            self._flag_cache[word] = found
        return found

    # -- reading a message ---------------------------------------------------------------

    def _clause(self, text: str) -> _Clause:
        tokens = _plain_tokens(text)
        forms: list[set[str]] = []
        offsets: list[int] = []
        joined = ""
        for token in tokens:
            word = self._flag_word(token)
            found = {word, token}
            if _ARABIC_LETTER.match(word):
                found |= _arabic_forms(word)
            forms.append(found)
            offsets.append(len(joined))
            joined += token
        clause = _Clause(tokens, forms, joined, offsets)
        self._scan(clause)
        return clause

    def _scan(self, clause: _Clause) -> None:
        """Find every known word and phrase in ``clause`` once: ``clause.hits``."""
        hits: dict[_Item, list[tuple[int, int, int, int]]] = defaultdict(list)
        every = clause.forms
        # The words that may follow each position (a phrase allows two other words between).
        following = [set().union(*every[i + 1 : i + 4]) for i in range(len(every))]
        for index, forms in enumerate(every):
            starting = {item for form in forms for item in self._by_first.get(form, ())}
            starting.update(
                item
                for form in forms
                for size in self._wild_sizes
                if size <= len(form)
                for item in self._wild_first.get(form[:size], ())
            )
            for item in starting:
                if len(item.words) == 1:
                    end_char = clause.offsets[index] + len(clause.tokens[index]) - 1
                    hits[item].append((index, index, clause.offsets[index], end_char))
                    continue
                second = item.words[1]
                if not second.endswith("*") and second not in following[index]:
                    continue
                last = _phrase_end(item.words[1:], every, index)
                if last is not None:
                    end_char = clause.offsets[last] + len(clause.tokens[last]) - 1
                    hits[item].append((index, last, clause.offsets[index], end_char))
        joined = clause.joined
        if not _HAN_OR_DEVANAGARI.search(joined):
            clause.hits = dict(hits)
            return
        starting = {item for char in set(joined) for item in self._unspaced_by_first.get(char, ())}
        for item in starting:
            start = joined.find(item.unspaced)
            while start >= 0:
                end = start + len(item.unspaced) - 1
                hits[item].append((clause.word_at(start), clause.word_at(end), start, end))
                start = joined.find(item.unspaced, start + 1)
        clause.hits = dict(hits)

    def _positions(self, item: _Item, clause: _Clause) -> list[tuple[int, int, int, int]]:
        """Where ``item`` occurs in ``clause``: its first and last word, and the first and last
        character of it in the clause's text without spaces."""
        return clause.hits.get(item, [])

    @staticmethod
    def _occurs(items: frozenset[_Item], clause: _Clause) -> bool:
        return not items.isdisjoint(clause.hits)

    def _negated(self, clause: _Clause, span: tuple[int, int, int, int]) -> bool:
        """A negation just before the words (or a denial just after): "not suicidal"."""
        start, end, start_char, end_char = span
        before = _content_window(clause, start, backward=True)
        after = _content_window(clause, end, backward=False)
        for item in self._negations.intersection(clause.hits):
            for s, e, sc, ec in self._positions(item, clause):
                if e == start and sc < start_char and ec < end_char:
                    # In one run of Chinese: a negation a few characters before, or one that
                    # takes in the flag's first character ("我没有想自杀", "我不想死").
                    if start_char - ec <= HAN_NEGATION_REACH:
                        return True
                elif e < start and s >= before:
                    return True
        for item in self._denials.intersection(clause.hits):
            for s, _e, _sc, _ec in self._positions(item, clause):
                if end < s <= after:
                    return True
        return False

    def _intended(self, clause: _Clause, span: tuple[int, int, int, int]) -> bool:
        """An intent just before the words: "going to take them all" has not happened."""
        start = span[0]
        before = _content_window(clause, start, backward=True)
        return any(
            before <= s and e < start
            for item in self._intents.intersection(clause.hits)
            for s, e, _sc, _ec in self._positions(item, clause)
        )

    def _guarded(self, clause: _Clause) -> bool:
        """A clause about the past, or about guidance rather than a person, with nothing
        happening now: it cannot raise a flag."""
        if self._occurs(self._recovered, clause):
            return True
        now = self._occurs(self._now, clause)
        if self._occurs(self._history, clause) and not now:
            return True
        return (
            self._occurs(self._guidance, clause)
            and not now
            and not self._occurs(self._person_here, clause)
        )

    def assess(self, query: str) -> tuple[SafetyKind | None, bool]:
        """The red flag in ``query`` (emergency wins), and whether a guard or a negation held
        one back (then ranking alone must not give a safety answer either)."""
        query = _OVERDOSE_SHORT.sub(" overdose ", query)
        clauses = [
            self._clause(part) for part in _CLAUSE_BREAK.split(query) if part and part.strip()
        ]
        held_back = any(self._occurs(self._not_urgent, clause) for clause in clauses)
        live: list[_Clause] = []
        for clause in clauses:
            if not clause.forms:
                continue
            if self._guarded(clause):
                held_back = held_back or self._any_flag(clause)
                continue
            live.append(clause)
        found: set[str] = set()
        for clause in live:
            for item, spans in clause.hits.items():
                kind = self._phrase_kind.get(item)
                if kind is None or kind in found:
                    continue
                for span in spans:
                    if self._negated(clause, span):
                        held_back = True
                        continue
                    found.add(kind)
                    break
        hit = {item for clause in live for item in clause.hits}
        # Kinds raised only by a rule of words close together (someone about to kill): when the
        # message is also a crisis ("wants to kill himself"), the crisis answer (1737, and 111
        # in danger) is the one to give.
        close_only: set[str] = set()
        for kind, groups in self._rules_hit(hit):
            if kind in found:
                continue
            outcome = self._rule(groups, live)
            if outcome is True:
                if any(group.close for group in groups):
                    close_only.add(kind)
                else:
                    found.add(kind)
            elif outcome is None:
                held_back = True
        if "crisis-support" in found | close_only:
            close_only.discard("emergency")
        found |= close_only
        for kind in SAFETY_KINDS:
            if kind in found:
                return kind, held_back  # type: ignore[return-value]
        return None, held_back

    def _any_flag(self, clause: _Clause) -> bool:
        if any(item in self._phrase_kind for item in clause.hits):
            return True
        return any(
            self._rule(groups, [clause]) is not False
            for _k, groups in self._rules_hit(set(clause.hits))
        )

    def _rules_hit(self, hit: set[_Item]) -> list[tuple[str, list[_Group]]]:
        """The rules with an item of every group in ``hit``, in the lexicon's order."""
        candidates = set(self._rules_always)
        for item in hit:
            candidates.update(self._rules_by_item.get(item, ()))
        rules = (self._rules[n] for n in sorted(candidates))
        return [(kind, groups) for kind, groups in rules if self._all_hit(groups, hit)]

    @staticmethod
    def _all_hit(groups: list[_Group], hit: set[_Item]) -> bool:
        return not any(group.items.isdisjoint(hit) for group in groups)

    def _close_together(
        self, groups: list[_Group], clause: _Clause, *, unless_negated: bool = False
    ) -> bool:
        """One item of every group in one clause, all within a few words of each other
        ("not breathing", "saans nahi", "don't want to live", "jeena nahi chahta"). With
        ``unless_negated``, none of them right after a negation ("he never hit me"), and each
        in words of its own: "my son hurt his knee" has no one hurting "my son"."""
        found = [
            sorted(
                {
                    (span[0], span[2], span[3])
                    for span in group.spans(clause)
                    if not (group.act and self._intended(clause, span))
                    and not (unless_negated and self._negated(clause, span))
                }
            )
            for group in groups
        ]
        if not all(found):
            return False
        reach = _content_positions(clause)
        for combo in itertools.product(*found):
            words = [word for word, _start, _end in combo]
            if reach[max(words)] - reach[min(words)] > NEGATION_REACH + 1:
                continue
            if unless_negated and _overlapping([(start, end) for _w, start, end in combo]):
                continue
            return True
        return False

    def _rule(self, groups: list[_Group], clauses: list[_Clause]) -> bool | None:
        """True when every group is found; None when every group was found but a negation
        took one back; False otherwise."""
        with_negation = any(group.negation for group in groups)
        if with_negation:
            # "don't want to live": the negation belongs to the rule, so it is not undone by
            # it; its words must be close together, in one clause.
            return any(self._close_together(groups, clause) for clause in clauses)
        if any(group.close for group in groups):
            return any(
                self._close_together(groups, clause, unless_negated=True) for clause in clauses
            )
        taken_back = False
        for group in groups:
            seen = clean = False
            for clause in clauses:
                for span in group.spans(clause):
                    if group.act and self._intended(clause, span):
                        continue
                    seen = True
                    if not self._negated(clause, span):
                        clean = True
                        break
                if clean:
                    break
            if not seen:
                return False
            if not clean:
                taken_back = True
        return None if taken_back else True


def _overlapping(ranges: list[tuple[int, int]]) -> bool:
    """Whether any two of these (first, last) character ranges share a character."""
    ordered = sorted(ranges)
    return any(later[0] <= earlier[1] for earlier, later in itertools.pairwise(ordered))


def _phrase_end(
    rest: tuple[str, ...], forms: list[set[str]], start: int, max_gap: int = 2
) -> int | None:
    """The last word of a phrase whose first word is at ``start`` and whose other words follow
    in order, at most ``max_gap`` apart; None when they do not."""
    position = start
    for part in rest:
        window = forms[position + 1 : position + 2 + max_gap]
        step = next((i for i, f in enumerate(window) if _word_matches(part, f)), None)
        if step is None:
            return None
        position += step + 1
    return position


def _content_positions(clause: _Clause) -> list[int]:
    """Each word's position counting only words of three letters or more."""
    positions = []
    count = 0
    for token in clause.tokens:
        if len(token) >= 3:
            count += 1
        positions.append(count)
    return positions


def _content_window(clause: _Clause, index: int, *, backward: bool) -> int:
    """The word index ``NEGATION_REACH`` words of three letters or more away from ``index``
    (short words such as "to", "a", "i", "te" do not count)."""
    count = 0
    position = index
    step = -1 if backward else 1
    while 0 <= position + step < len(clause.forms):
        position += step
        if len(clause.tokens[position]) >= 3:
            count += 1
            if count >= NEGATION_REACH:
                break
    return position
