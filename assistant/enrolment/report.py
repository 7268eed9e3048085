"""The enrolment funnel for the PHO: how many people reached each stage, from a first text to
being enrolled, for a period and optionally one language or one practice.

How people are counted:

- A person is counted at most once per stage (a stage's mark is made the first time they reach
  it), and counts in a period for a stage when they *reached that stage* in it, in New Zealand
  days. So a person who texted in October and enrolled in November counts as "texted" in
  October and as "enrolled" in November. Each number answers "how many people got this far in
  this period", and a period's numbers add up across weeks, months, languages and practices.
- People join the funnel at different stages (a community worker's request has no text before
  it), and a stage's people may have reached the stage before it in an earlier period, so a
  stage can hold more people than the one before it: conversion can pass 100%.
- The language is the one each mark was made in; the practice is the one the person chose,
  which only the practice-level stages (a practice chosen onwards) carry. With a practice
  chosen, only those stages are counted.
- The median days to enrolment are for the people who enrolled in the period: from their first
  text, or from the request when it came first (a community worker's request for someone who
  never texted, or texted later), to the day they enrolled, as elapsed time.

Only counts leave this module: no person's key (a phone number) is in any result.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import func
from sqlmodel import Session, col, or_, select

from assistant.clock import NZ, as_utc, to_local
from assistant.enrolment.models import STAGES, FunnelMark, Stage
from assistant.i18n import LANGUAGE_NAMES, lazy_gettext
from assistant.people.models import Practice
from assistant.periods import check_order, day_from_text

# Stages a practice is part of: from the person choosing one to being enrolled there.
PRACTICE_STAGES: tuple[Stage, ...] = (
    Stage.practice_chosen,
    Stage.request_sent,
    Stage.accepted,
    Stage.enrolled,
)
STAGE_LABELS: dict[Stage, Any] = {
    Stage.texted: lazy_gettext("Texted us"),
    Stage.eligible: lazy_gettext("Eligible"),
    Stage.practice_chosen: lazy_gettext("Chose a practice"),
    Stage.request_sent: lazy_gettext("Request sent to the practice"),
    Stage.accepted: lazy_gettext("Accepted by the practice"),
    Stage.enrolled: lazy_gettext("Enrolled"),
}
DEFAULT_WEEKS = 12
# Periods up to about a quarter are shown week by week; longer ones month by month.
WEEKLY_UP_TO_DAYS = 92
SECONDS_PER_DAY = 86400

Grain = Literal["week", "month"]

EXPORT_HEADERS = (
    "measure",
    "period",
    "period_start",
    "period_end",
    "stage",
    "language",
    "practice_id",
    "practice_name",
    "value",
)
MEASURE_PEOPLE = "people"
MEASURE_MEDIAN = "median_days_first_text_to_enrolled"
MEASURE_MEDIAN_PEOPLE = "people_in_median"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class FunnelFilters:
    since: date  # first NZ day counted
    until: date  # last NZ day counted (whole)
    language: str | None = None  # the language a mark was made in
    practice_id: int | None = None

    @property
    def narrowed(self) -> bool:
        """True when a language or a practice is chosen."""
        return (self.language, self.practice_id) != (None, None)

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    @property
    def grain(self) -> Grain:
        return "week" if self.days <= WEEKLY_UP_TO_DAYS else "month"

    @property
    def stages(self) -> tuple[Stage, ...]:
        """The stages counted: every one, or from a practice chosen on for one practice."""
        return PRACTICE_STAGES if self.practice_id is not None else STAGES

    def query(self, **changes: Any) -> dict[str, str]:
        """The filters as query parameters (unset ones left out), with ``changes`` applied."""
        values = {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "language": self.language,
            "practice": self.practice_id,
        } | changes
        return {k: str(v) for k, v in values.items() if v is not None and v != ""}


def default_period(today: date, *, weeks: int = DEFAULT_WEEKS) -> tuple[date, date]:
    """The last ``weeks`` whole NZ weeks (Monday to Sunday), this one up to today."""
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(weeks=weeks - 1), today


def _positive_int(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdigit() and 0 < int(text) < 2**31 else None


def parse_filters(
    *,
    today: date,
    since: str | None = None,
    until: str | None = None,
    language: str | None = None,
    practice: str | None = None,
) -> FunnelFilters:
    """Filters from query-string text. Missing dates take the default period (ending today);
    dates that are not dates, out of range, or the wrong way round raise ``BadPeriod``. A
    language or practice that is not one of the choices is ignored, as on the dashboard."""
    start, end = day_from_text(since), day_from_text(until)
    if end is None:
        end = max(today, start) if start is not None else today
    if start is None:
        start = default_period(end)[0]
    check_order(start, end)
    return FunnelFilters(
        since=start,
        until=end,
        language=language if language in LANGUAGE_NAMES else None,
        practice_id=_positive_int(practice),
    )


# --- the numbers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StageCount:
    stage: Stage
    people: int
    # This stage's people over the previous stage's, in the same period (None for the first
    # stage shown, or when the previous stage had nobody).
    conversion: float | None = None


@dataclass(frozen=True)
class Breakdown:
    """One row of a table: a language, a practice or a period, with people per stage."""

    key: str
    label: str
    counts: dict[Stage, int]
    start: date | None = None  # periods only
    end: date | None = None


@dataclass
class Funnel:
    filters: FunnelFilters
    stages: tuple[Stage, ...]
    totals: list[StageCount] = field(default_factory=list)
    by_language: list[Breakdown] = field(default_factory=list)
    by_practice: list[Breakdown] = field(default_factory=list)  # practice-level stages only
    grain: Grain = "week"
    over_time: list[Breakdown] = field(default_factory=list)  # every period, empty ones too
    median_days: float | None = None
    median_people: int = 0  # how many enrolled people the median is over

    @property
    def empty(self) -> bool:
        return not any(t.people for t in self.totals)


@dataclass(frozen=True)
class Reached:
    """A person reached a stage (a funnel mark, its day in New Zealand)."""

    person: str
    stage: Stage
    day: date  # NZ
    language: str
    practice_id: int | None


def nz_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time.min, NZ).astimezone(UTC)


def _in_period(filters: FunnelFilters) -> list[Any]:
    return [
        col(FunnelMark.at) >= nz_midnight_utc(filters.since),
        col(FunnelMark.at) < nz_midnight_utc(filters.until + timedelta(days=1)),
    ]


def _narrowed(filters: FunnelFilters, stages: tuple[Stage, ...]) -> list[Any]:
    where = [*_in_period(filters), col(FunnelMark.stage).in_([s.value for s in stages])]
    if filters.language is not None:
        where.append(FunnelMark.language == filters.language)
    if filters.practice_id is not None:
        where.append(FunnelMark.practice_id == filters.practice_id)
    return where


def _marks(session: Session, filters: FunnelFilters) -> list[Reached]:
    """The marks ``filters`` lets through, one per person and stage."""
    rows = session.exec(select(FunnelMark).where(*_narrowed(filters, filters.stages))).all()
    seen: set[tuple[str, str]] = set()
    marks = []
    for row in rows:
        if (row.person, row.stage) in seen:
            continue
        seen.add((row.person, row.stage))
        marks.append(
            Reached(
                row.person, Stage(row.stage), to_local(row.at).date(), row.language, row.practice_id
            )
        )
    return marks


def stage_counts(marks: list[Reached], stages: tuple[Stage, ...]) -> list[StageCount]:
    """People per stage, in funnel order, each with its conversion from the stage before."""
    people = Counter(m.stage for m in marks)
    counts: list[StageCount] = []
    for i, stage in enumerate(stages):
        before = people[stages[i - 1]] if i > 0 else 0
        counts.append(StageCount(stage, people[stage], people[stage] / before if before else None))
    return counts


def _per_stage(marks: list[Reached], key: Any) -> dict[Any, Counter[Stage]]:
    grouped: dict[Any, Counter[Stage]] = defaultdict(Counter)
    for m in marks:
        grouped[key(m)][m.stage] += 1
    return grouped


def _row(key: str, label: str, people: Counter[Stage], stages: tuple[Stage, ...]) -> Breakdown:
    return Breakdown(key, label, {s: people[s] for s in stages})


def by_language(marks: list[Reached], stages: tuple[Stage, ...]) -> list[Breakdown]:
    """People per stage for each language with anyone in it, in the languages' usual order."""
    grouped = _per_stage(marks, lambda m: m.language)
    order = {code: i for i, code in enumerate(LANGUAGE_NAMES)}
    codes = sorted(grouped, key=lambda c: (order.get(c, len(order)), c))
    return [_row(c, LANGUAGE_NAMES.get(c, c), grouped[c], stages) for c in codes]


def practice_names(session: Session, ids: set[int]) -> dict[int, str]:
    rows = session.exec(select(Practice.id, Practice.name).where(col(Practice.id).in_(ids))).all()
    return {i: n for i, n in rows if i is not None}


def by_practice(
    marks: list[Reached], names: dict[int, str], *, no_practice_label: str = "—"
) -> list[Breakdown]:
    """People per practice-level stage for each practice, most people first, then by name."""
    grouped = _per_stage([m for m in marks if m.stage in PRACTICE_STAGES], lambda m: m.practice_id)

    def label(pid: int | None) -> str:
        return no_practice_label if pid is None else names.get(pid, f"#{pid}")

    ids = sorted(grouped, key=lambda p: (-sum(grouped[p].values()), label(p).casefold()))
    return [_row("" if p is None else str(p), label(p), grouped[p], PRACTICE_STAGES) for p in ids]


def periods(filters: FunnelFilters) -> list[tuple[str, date, date]]:
    """The ISO weeks or months the period spans, as (key, first day, last day), clipped to it."""
    spans: list[tuple[str, date, date]] = []
    if filters.grain == "week":
        monday = filters.since - timedelta(days=filters.since.weekday())
        while monday <= filters.until:
            year, week, _weekday = monday.isocalendar()
            end = monday + timedelta(days=6)
            spans.append(
                (f"{year}-W{week:02d}", max(monday, filters.since), min(end, filters.until))
            )
            monday += timedelta(weeks=1)
        return spans
    first = filters.since.replace(day=1)
    while first <= filters.until:
        following = (first + timedelta(days=32)).replace(day=1)
        spans.append(
            (
                f"{first:%Y-%m}",
                max(first, filters.since),
                min(following - timedelta(days=1), filters.until),
            )
        )
        first = following
    return spans


def period_key(day: date, grain: Grain) -> str:
    if grain == "week":
        year, week, _weekday = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day:%Y-%m}"


def over_time(marks: list[Reached], filters: FunnelFilters) -> list[Breakdown]:
    """People per stage in each week or month of the period (empty ones included)."""
    grouped = _per_stage(marks, lambda m: period_key(m.day, filters.grain))
    return [
        Breakdown(key, key, {s: grouped[key][s] for s in filters.stages}, start, end)
        for key, start, end in periods(filters)
    ]


def days_to_enrolment(session: Session, filters: FunnelFilters) -> list[float]:
    """For each person who enrolled in the period (in the filters' language or practice): the
    days from their first text, or from the request when it came first, to enrolling."""
    enrolled = select(FunnelMark.person).where(*_narrowed(filters, (Stage.enrolled,)))
    rows = session.exec(
        select(FunnelMark.person, FunnelMark.stage, FunnelMark.at).where(
            col(FunnelMark.person).in_(enrolled),
            col(FunnelMark.stage).in_(
                [Stage.texted.value, Stage.request_sent.value, Stage.enrolled.value]
            ),
        )
    ).all()
    starts: dict[str, datetime] = {}
    ends: dict[str, datetime] = {}
    for person, stage, at in rows:
        at = as_utc(at)
        if stage == Stage.enrolled:
            ends[person] = at
        elif person not in starts or at < starts[person]:
            starts[person] = at
    return sorted(
        max(0.0, (ends[p] - starts[p]).total_seconds() / SECONDS_PER_DAY)
        for p in ends
        if p in starts
    )


def median_days_to_enrolment(session: Session, filters: FunnelFilters) -> tuple[float | None, int]:
    """The median of ``days_to_enrolment`` (None when nobody enrolled), and how many people."""
    days = days_to_enrolment(session, filters)
    return (statistics.median(days) if days else None), len(days)


def funnel(session: Session, *, filters: FunnelFilters, no_practice_label: str = "—") -> Funnel:
    """Every number of the funnel page for ``filters``."""
    marks = _marks(session, filters)
    ids = {m.practice_id for m in marks if m.practice_id is not None}
    median, n = median_days_to_enrolment(session, filters)
    return Funnel(
        filters=filters,
        stages=filters.stages,
        totals=stage_counts(marks, filters.stages),
        by_language=by_language(marks, filters.stages),
        by_practice=by_practice(
            marks, practice_names(session, ids), no_practice_label=no_practice_label
        ),
        grain=filters.grain,
        over_time=over_time(marks, filters),
        median_days=median,
        median_people=n,
    )


@dataclass(frozen=True)
class PracticeOption:
    value: str
    label: str


def practice_options(session: Session) -> list[PracticeOption]:
    """Practices to filter by: the active ones and any the funnel has marks for, by name."""
    used = select(FunnelMark.practice_id).where(col(FunnelMark.practice_id).is_not(None))
    rows = session.exec(
        select(Practice.id, Practice.name)
        .where(or_(col(Practice.active).is_(True), col(Practice.id).in_(used)))
        .order_by(func.lower(col(Practice.name)), col(Practice.id))
    ).all()
    return [PracticeOption(str(i), n) for i, n in rows]


# --- the export ------------------------------------------------------------------------------


def _cell_text(text: str) -> str:
    """Text a spreadsheet would run as a formula gets a leading apostrophe."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def export_rows(session: Session, *, filters: FunnelFilters) -> list[list[Any]]:
    """Rows of ``EXPORT_HEADERS``: people per period x stage x language x practice (only
    combinations with anyone in them), then the median days from first text to enrolled and
    how many people it is over, for the whole period. Counts only: no one can be picked out
    by a key, a phone number or a name."""
    marks = _marks(session, filters)
    ids = {m.practice_id for m in marks if m.practice_id is not None}
    names = practice_names(session, ids | ({filters.practice_id} if filters.practice_id else set()))
    spans = {key: (start, end) for key, start, end in periods(filters)}
    grouped = Counter(
        (period_key(m.day, filters.grain), m.stage, m.language, m.practice_id) for m in marks
    )
    stage_order = {s: i for i, s in enumerate(STAGES)}
    language_order = {c: i for i, c in enumerate(LANGUAGE_NAMES)}
    period_order = {key: i for i, key in enumerate(spans)}

    def practice_name(pid: int | None) -> str:
        return "" if pid is None else _cell_text(names.get(pid, ""))

    rows: list[list[Any]] = []
    for (key, stage, language, pid), people in sorted(
        grouped.items(),
        key=lambda kv: (
            period_order[kv[0][0]],
            stage_order[kv[0][1]],
            language_order.get(kv[0][2], len(language_order)),
            kv[0][2],
            practice_name(kv[0][3]).casefold(),
            kv[0][3] or 0,
        ),
    ):
        start, end = spans[key]
        rows.append(
            [
                MEASURE_PEOPLE,
                key,
                start.isoformat(),
                end.isoformat(),
                stage.value,
                _cell_text(language),
                pid,
                practice_name(pid),
                people,
            ]
        )
    median, n = median_days_to_enrolment(session, filters)
    whole = [
        "all",
        filters.since.isoformat(),
        filters.until.isoformat(),
        Stage.enrolled.value,
        filters.language or "",
        filters.practice_id,
        practice_name(filters.practice_id),
    ]
    rows.append([MEASURE_MEDIAN, *whole, None if median is None else round(median, 1)])
    rows.append([MEASURE_MEDIAN_PEOPLE, *whole, n])
    return rows
