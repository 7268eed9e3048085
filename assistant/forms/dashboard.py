"""The coordinators' dashboard: barrier assessments over time, barriers by type, by agency and
by language, and open follow-ups. Plain numbers; the web layer draws them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from assistant.clock import NZ, to_local, utcnow
from assistant.forms import _values as values
from assistant.forms.definition import FormDefinition, FormNotFound, load_form
from assistant.forms.models import FormSubmission
from assistant.i18n import LANGUAGE_NAMES
from assistant.pcw.models import FollowUpTask
from assistant.people.models import Agency

ASSESSMENT_FORM = "barrier_assessment"
BARRIERS_FIELD = "barriers"
PERIODS = (4, 12, 26, 52)  # weeks
DEFAULT_WEEKS = 12


@dataclass(frozen=True)
class Count:
    key: str
    label: str
    value: int


@dataclass
class Dashboard:
    weeks: int
    start: date  # Monday of the first week shown (NZ)
    end: date  # today (NZ)
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
    weeks: int = DEFAULT_WEEKS,
    lang: str = "en",
    today: date | None = None,
    form_id: str = ASSESSMENT_FORM,
    no_agency_label: str = "—",
) -> Dashboard:
    """Numbers for the last ``weeks`` whole NZ weeks (Monday to Sunday), this one included."""
    if weeks not in PERIODS:
        weeks = DEFAULT_WEEKS
    today = today or to_local(utcnow()).date()
    first = week_start(today) - timedelta(weeks=weeks - 1)
    board = Dashboard(weeks=weeks, start=first, end=today)
    try:
        form: FormDefinition | None = load_form(form_id)
    except FormNotFound:
        form = None
    since = _nz_midnight_utc(first)
    subs = session.exec(
        select(FormSubmission)
        .where(FormSubmission.form_id == form_id, col(FormSubmission.created_at) >= since)
        .order_by(col(FormSubmission.created_at))
    ).all()

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
    board.open_follow_ups = int(session.exec(open_tasks).one())
    board.overdue_follow_ups = int(
        session.exec(open_tasks.where(col(FollowUpTask.due) < today)).one()
    )
    board.open_from_assessments = int(
        session.exec(open_tasks.where(col(FollowUpTask.source_ref).startswith("form:"))).one()
    )
    return board
