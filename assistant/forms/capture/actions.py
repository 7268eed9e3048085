"""Turning a submitted barrier assessment into follow-up tasks in the PCW's task list.

:func:`create_actions` runs once a submission is stored (the submissions API's after-submit
hook for the barrier assessment, ``assistant.forms.capture.hooks.barrier_follow_ups``).
Each agreed action the PCW ticked (the ``actions`` select_multiple; "other" uses the
``actions_other`` text) becomes one task for that PCW and their agency, due on the form's
``follow_up_date`` or, without one, seven days after the submission. It is idempotent: tasks
carry ``source_ref="form:<instance_id>:<action>"`` and a second call creates nothing new.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, col, select

from assistant.clock import NZ, to_local
from assistant.forms.capture.submissions import answers_of, can_view
from assistant.forms.engine import values
from assistant.forms.engine.definition import OTHER, FormDefinition
from assistant.forms.models import FormSubmission
from assistant.i18n import _, use_locale
from assistant.pcw.models import FollowUpTask
from assistant.pcw.tasks import create_task
from assistant.people.models import User

ACTIONS_FIELD = "actions"
FOLLOW_UP_FIELD = "follow_up_date"
DEFAULT_DUE_DAYS = 7
PERSON_FIELD = "person_name"

# Agreed action -> task kind (the PCW task list's categories).
ACTION_KINDS: dict[str, str] = {
    "transport_referral": "transport",
    "food_support": "referral",
    "housing_referral": "referral",
    "interpreter": "referral",
}
DEFAULT_KIND = "follow-up"


def source_ref(submission: FormSubmission, action: str) -> str:
    return f"form:{submission.instance_id}:{action}"[:200]


def due_date(submission: FormSubmission, answers: dict[str, object]) -> date:
    """The form's follow-up date, else a week after the submission (New Zealand days)."""
    chosen = values.as_date(answers.get(FOLLOW_UP_FIELD))
    if chosen is not None:
        return chosen
    return to_local(submission.created_at, NZ).date() + timedelta(days=DEFAULT_DUE_DAYS)


def create_actions(
    session: Session,
    *,
    submission: FormSubmission,
    definition: FormDefinition,
    actor: User,
) -> list[int]:
    """Create one follow-up task per agreed action; return the new tasks' ids.

    Does nothing for forms without an ``actions`` select_multiple, for submissions without
    consent, or when the actions question was skipped. Task titles are in ``actor``'s language.
    """
    field = definition.fields.get(ACTIONS_FIELD)
    if field is None or field.type != "select_multiple":
        return []
    if definition.consent_field and not submission.consent:
        return []
    answers = values.with_calculations(definition, values.load_answers(submission))
    page = next((p for p in definition.pages if field in p.fields), None)
    if page is not None and not values.is_relevant(page.relevant, answers):
        return []
    if not values.is_relevant(field.relevant, answers):
        return []
    chosen = values.as_list(answers.get(ACTIONS_FIELD))
    if not chosen:
        return []
    refs = {action: source_ref(submission, action) for action in chosen}
    existing = set(
        session.exec(
            select(FollowUpTask.source_ref).where(col(FollowUpTask.source_ref).in_(refs.values()))
        )
    )
    due = due_date(submission, answers)
    lang = actor.locale or "en"
    created: list[int] = []
    with use_locale(lang):
        for action in dict.fromkeys(chosen):
            if refs[action] in existing:
                continue
            if action == OTHER:
                said = str(answers.get(f"{ACTIONS_FIELD}_{OTHER}") or "").strip()
                title = (
                    _("Agreed action: %(action)s", action=said[:150])
                    if said
                    else _("Agreed action (other)")
                )
            else:
                choice = field.choice(action)
                title = choice.text(lang) if choice else action
            task = create_task(
                session,
                assignee_id=actor.id,
                agency_id=submission.agency_id if submission.agency_id else actor.agency_id,
                title=title,
                kind=ACTION_KINDS.get(action, DEFAULT_KIND),
                due=due,
                source_ref=refs[action],
            )
            assert task.id is not None
            created.append(task.id)
    session.flush()
    return created


def person_of(submission: FormSubmission) -> str:
    """The name of the person a submission is about ("" when not recorded)."""
    return str(answers_of(submission).get(PERSON_FIELD) or "").strip()[:120]


@dataclass(frozen=True)
class TaskSubject:
    """What a task made from an assessment is about, as far as the reader may know it."""

    submission_id: int
    person: str  # "" when not recorded


def _instance_of(task: FollowUpTask) -> str | None:
    parts = task.source_ref.split(":")
    return parts[1] if len(parts) >= 3 and parts[0] == "form" else None


def subjects_of(
    session: Session, tasks: Iterable[FollowUpTask], *, user: User
) -> dict[int, TaskSubject]:
    """For each task made from a submission ``user`` may open: that submission and the person's
    name. Tasks from submissions the user may not open are left out (no name, no link)."""
    wanted = {task.id: _instance_of(task) for task in tasks if task.id is not None}
    instances = {i for i in wanted.values() if i}
    if not instances:
        return {}
    found = {
        s.instance_id: s
        for s in session.exec(
            select(FormSubmission).where(col(FormSubmission.instance_id).in_(instances))
        )
    }
    subjects: dict[int, TaskSubject] = {}
    for task_id, instance in wanted.items():
        submission = found.get(instance or "")
        if submission is None or submission.id is None or not can_view(submission, user):
            continue
        subjects[task_id] = TaskSubject(submission.id, person_of(submission))
    return subjects


def tasks_of(session: Session, submission: FormSubmission) -> list[FollowUpTask]:
    """The follow-up tasks made from ``submission``, in the order they were made."""
    prefix = f"form:{submission.instance_id}:"
    stmt = (
        select(FollowUpTask)
        .where(col(FollowUpTask.source_ref).startswith(prefix))
        .order_by(col(FollowUpTask.id))
    )
    return list(session.exec(stmt))
