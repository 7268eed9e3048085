"""The coordinators' dashboard: barrier assessments over time, barriers by type, by agency and
by language, and open follow-ups. Plain numbers; the web layer draws them.

Filters (period, agency, language, worker) narrow every number at once; they come from a query
string, so ``parse_filters`` takes text and drops what it cannot use rather than failing."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from assistant.clock import NZ, to_local, utcnow
from assistant.forms.engine import values
from assistant.forms.engine.definition import FormDefinition, FormNotFound, load_form
from assistant.forms.models import FormSubmission
from assistant.i18n import LANGUAGE_NAMES
from assistant.pcw.models import FollowUpTask
from assistant.people.models import Agency, Role, User

ASSESSMENT_FORM = "barrier_assessment"
BARRIERS_FIELD = "barriers"
PERIODS = (4, 12, 26, 52)  # weeks
DEFAULT_WEEKS = 12


@dataclass(frozen=True)
class Count:
    key: str
    label: str
    value: int


@dataclass(frozen=True)
class Filters:
    weeks: int = DEFAULT_WEEKS
    agency_id: int | None = None
    language: str | None = None  # the language the form was filled in
    worker_id: int | None = None  # who sent it

    @property
    def narrowed(self) -> bool:
        """True when anything besides the period is chosen."""
        return (self.agency_id, self.language, self.worker_id) != (None, None, None)

    def query(self, **changes: Any) -> dict[str, str]:
        """The filters as query parameters (unset ones left out), with ``changes`` applied."""
        values = {
            "weeks": self.weeks,
            "agency": self.agency_id,
            "language": self.language,
            "worker": self.worker_id,
        } | changes
        return {k: str(v) for k, v in values.items() if v is not None and v != ""}


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class FilterOptions:
    agencies: list[Option]
    languages: list[Option]
    workers: list[Option]


def _positive_int(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdigit() and 0 < int(text) < 2**31 else None


def parse_filters(
    *,
    weeks: str | None = None,
    agency: str | None = None,
    language: str | None = None,
    worker: str | None = None,
) -> Filters:
    """Filters from query-string text; a value that is not one of the choices is ignored."""
    period = _positive_int(weeks)
    return Filters(
        weeks=period if period in PERIODS else DEFAULT_WEEKS,
        agency_id=_positive_int(agency),
        language=language if language in LANGUAGE_NAMES else None,
        worker_id=_positive_int(worker),
    )


def filter_options(session: Session, *, form_id: str = ASSESSMENT_FORM) -> FilterOptions:
    """What each filter offers: active agencies and those with submissions, every language,
    and the workers who sent this form or could (active community workers), by name."""
    used = select(FormSubmission.agency_id).where(FormSubmission.form_id == form_id)
    agencies = session.exec(
        select(Agency.id, Agency.name)
        .where(or_(col(Agency.active).is_(True), col(Agency.id).in_(used)))
        .order_by(col(Agency.name))
    ).all()
    senders = select(FormSubmission.submitted_by_id).where(FormSubmission.form_id == form_id)
    workers = session.exec(
        select(User.id, User.name)
        .where(
            or_(
                and_(col(User.role) == Role.pcw, col(User.active).is_(True)),
                col(User.id).in_(senders),
            )
        )
        .order_by(col(User.name), col(User.id))
    ).all()
    return FilterOptions(
        agencies=[Option(str(i), n) for i, n in agencies],
        languages=[Option(code, name) for code, name in LANGUAGE_NAMES.items()],
        workers=[Option(str(i), n) for i, n in workers],
    )


@dataclass
class Dashboard:
    weeks: int
    start: date  # Monday of the first week shown (NZ)
    end: date  # today (NZ)
    filters: Filters = field(default_factory=Filters)
    total: int = 0
    consented: int = 0
    by_week: list[Count] = field(default_factory=list)  # key: ISO date of the Monday
    barriers: list[Count] = field(default_factory=list)
    agencies: list[Count] = field(default_factory=list)
    languages: list[Count] = field(default_factory=list)
    open_follow_ups: int = 0
    overdue_follow_ups: int = 0
    open_from_assessments: int = 0


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _nz_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time.min, NZ).astimezone(UTC)


def _ranked(counter: Counter[str], labels: dict[str, str], order: list[str]) -> list[Count]:
    """Largest first; ties in ``order`` (the form's order), then by label."""
    position = {key: i for i, key in enumerate(order)}
    keys = sorted(
        counter,
        key=lambda k: (-counter[k], position.get(k, len(order)), labels.get(k, k)),
    )
    return [Count(k, labels.get(k, k), counter[k]) for k in keys if counter[k] > 0]


def build_dashboard(
    session: Session,
    *,
    filters: Filters | None = None,
    weeks: int | None = None,
    lang: str = "en",
    today: date | None = None,
    form_id: str = ASSESSMENT_FORM,
    no_agency_label: str = "—",
) -> Dashboard:
    """Numbers for the last ``weeks`` whole NZ weeks (Monday to Sunday), this one included,
    for the submissions ``filters`` lets through (``weeks``, when given, overrides its period).

    Follow-up counts are for now, not the period: narrowed by agency and by worker (the task's
    assignee), not by language, which tasks do not carry."""
    filters = filters or Filters()
    if weeks is not None:
        filters = replace(filters, weeks=weeks)
    if filters.weeks not in PERIODS:
        filters = replace(filters, weeks=DEFAULT_WEEKS)
    weeks = filters.weeks
    today = today or to_local(utcnow()).date()
    first = week_start(today) - timedelta(weeks=weeks - 1)
    board = Dashboard(weeks=weeks, start=first, end=today, filters=filters)
    try:
        form: FormDefinition | None = load_form(form_id)
    except FormNotFound:
        form = None
    since = _nz_midnight_utc(first)
    stmt = select(FormSubmission).where(
        FormSubmission.form_id == form_id, col(FormSubmission.created_at) >= since
    )
    if filters.agency_id is not None:
        stmt = stmt.where(FormSubmission.agency_id == filters.agency_id)
    if filters.language is not None:
        stmt = stmt.where(FormSubmission.lang == filters.language)
    if filters.worker_id is not None:
        stmt = stmt.where(FormSubmission.submitted_by_id == filters.worker_id)
    subs = session.exec(stmt.order_by(col(FormSubmission.created_at))).all()

    per_week: Counter[str] = Counter()
    barrier_counts: Counter[str] = Counter()
    agency_counts: Counter[str] = Counter()
    language_counts: Counter[str] = Counter()
    for sub in subs:
        local_day = to_local(sub.created_at).date()
        per_week[week_start(local_day).isoformat()] += 1
        board.total += 1
        agency_counts[str(sub.agency_id) if sub.agency_id else ""] += 1
        language_counts[sub.lang] += 1
        if not sub.consent:
            continue
        board.consented += 1
        for barrier in dict.fromkeys(values.as_list(values.load_answers(sub).get(BARRIERS_FIELD))):
            barrier_counts[barrier] += 1

    board.by_week = [
        Count(monday.isoformat(), monday.isoformat(), per_week[monday.isoformat()])
        for monday in (first + timedelta(weeks=i) for i in range(weeks))
    ]

    barrier_field = form.fields.get(BARRIERS_FIELD) if form else None
    barrier_labels = {c.value: c.text(lang) for c in barrier_field.choices} if barrier_field else {}
    board.barriers = _ranked(
        barrier_counts,
        barrier_labels,
        barrier_field.choice_values() if barrier_field else [],
    )

    agency_ids = [int(k) for k in agency_counts if k]
    names = {
        str(a.id): a.name
        for a in session.exec(select(Agency).where(col(Agency.id).in_(agency_ids))).all()
    }
    names[""] = no_agency_label
    board.agencies = _ranked(agency_counts, names, [])

    board.languages = _ranked(language_counts, dict(LANGUAGE_NAMES), list(LANGUAGE_NAMES))

    open_tasks = (
        select(func.count()).select_from(FollowUpTask).where(col(FollowUpTask.done).is_(False))
    )
    if filters.agency_id is not None:
        open_tasks = open_tasks.where(FollowUpTask.agency_id == filters.agency_id)
    if filters.worker_id is not None:
        open_tasks = open_tasks.where(FollowUpTask.assignee_id == filters.worker_id)
    board.open_follow_ups = int(session.exec(open_tasks).one())
    board.overdue_follow_ups = int(
        session.exec(open_tasks.where(col(FollowUpTask.due) < today)).one()
    )
    board.open_from_assessments = int(
        session.exec(open_tasks.where(col(FollowUpTask.source_ref).startswith("form:"))).one()
    )
    return board
