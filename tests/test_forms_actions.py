"""A submitted barrier assessment turns its agreed actions into follow-up tasks."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlmodel import Session, select

from assistant.forms.capture.actions import create_actions
from assistant.forms.engine.definition import FormDefinition, load_form
from assistant.pcw.models import FollowUpTask
from assistant.pcw.tasks import list_tasks
from assistant.people.models import Role, User
from tests import factories
from tests.forms_data import BARRIER_ANSWERS, add_submission

AGREED: dict[str, Any] = {
    "consent": "yes",
    "barriers": ["transport", "cost", "food"],
    "actions": ["transport_referral", "csc", "food_support"],
    "follow_up_date": "2026-12-04",
}


@pytest.fixture
def form() -> FormDefinition:
    return load_form("barrier_assessment")


@pytest.fixture
def pcw(session: Session) -> User:
    return factories.user(session, Role.pcw, locale="sm")


def tasks(session: Session) -> list[FollowUpTask]:
    return list(session.exec(select(FollowUpTask).order_by(FollowUpTask.id)))  # type: ignore[arg-type]


def test_each_agreed_action_becomes_a_task_in_the_pcws_list(
    session: Session, form: FormDefinition, pcw: User
) -> None:
    sub = add_submission(session, pcw, AGREED)
    ids = create_actions(session, submission=sub, definition=form, actor=pcw)
    session.commit()
    assert len(ids) == 3
    listed = list_tasks(session, user=pcw)
    assert [t.id for t in listed] == ids
    actions = form.fields["actions"]
    assert [t.title for t in listed] == [
        actions.choice(v).text("sm")  # type: ignore[union-attr]
        for v in ("transport_referral", "csc", "food_support")
    ]
    assert [t.kind for t in listed] == ["transport", "follow-up", "referral"]
    assert {t.due for t in listed} == {date(2026, 12, 4)}
    assert {t.assignee_id for t in listed} == {pcw.id}
    assert {t.agency_id for t in listed} == {pcw.agency_id}
    assert listed[0].source_ref == f"form:{sub.instance_id}:transport_referral"


def test_another_pcw_does_not_see_them(session: Session, form: FormDefinition, pcw: User) -> None:
    sub = add_submission(session, pcw, AGREED)
    create_actions(session, submission=sub, definition=form, actor=pcw)
    session.commit()
    other = factories.user(session, Role.pcw)
    assert list_tasks(session, user=other) == []


def test_calling_twice_creates_nothing_new(
    session: Session, form: FormDefinition, pcw: User
) -> None:
    sub = add_submission(session, pcw, AGREED)
    first = create_actions(session, submission=sub, definition=form, actor=pcw)
    session.commit()
    again = create_actions(session, submission=sub, definition=form, actor=pcw)
    session.commit()
    assert len(first) == 3
    assert again == []
    assert len(tasks(session)) == 3


def test_without_a_follow_up_date_due_is_a_week_later_in_nz(
    session: Session, form: FormDefinition, pcw: User
) -> None:
    answers = {k: v for k, v in AGREED.items() if k != "follow_up_date"}
    # 23:30 UTC on 2 November is already 3 November in New Zealand
    sub = add_submission(
        session, pcw, answers, created_at=datetime(2026, 11, 2, 23, 30, tzinfo=UTC)
    )
    create_actions(session, submission=sub, definition=form, actor=pcw)
    session.commit()
    assert {t.due for t in tasks(session)} == {date(2026, 11, 10)}


def test_other_action_uses_what_the_pcw_wrote(
    session: Session, form: FormDefinition, pcw: User
) -> None:
    english = factories.user(session, Role.pcw, locale="en")
    answers = AGREED | {"actions": ["other"], "actions_other": "Ring the budgeting service"}
    sub = add_submission(session, english, answers)
    create_actions(session, submission=sub, definition=form, actor=english)
    session.commit()
    [task] = tasks(session)
    assert task.title == "Agreed action: Ring the budgeting service"
    assert task.kind == "follow-up"


@pytest.mark.parametrize(
    "answers",
    [
        {"consent": "no", "actions": ["transport_referral"]},
        {"consent": "yes", "actions": []},
        {"consent": "yes"},
    ],
    ids=["no consent", "no actions ticked", "actions skipped"],
)
def test_nothing_to_do(
    session: Session, form: FormDefinition, pcw: User, answers: dict[str, Any]
) -> None:
    sub = add_submission(session, pcw, answers)
    assert create_actions(session, submission=sub, definition=form, actor=pcw) == []
    session.commit()
    assert tasks(session) == []


def test_forms_without_agreed_actions_create_no_tasks(session: Session) -> None:
    staff = factories.user(session, Role.practice_staff)
    form = load_form("flag_problem")
    sub = add_submission(
        session, staff, {"provider": "hospital_ed", "work_type": ["tests"]}, form_id=form.id
    )
    assert create_actions(session, submission=sub, definition=form, actor=staff) == []
    session.commit()
    assert tasks(session) == []


def test_submitting_through_the_api_creates_the_tasks_once(
    session: Session, client: Any, login: Any, pcw: User
) -> None:
    import uuid

    login(pcw)
    body = {
        "instance_id": str(uuid.uuid4()),
        "form_version": "1",
        "lang": "sm",
        "answers": BARRIER_ANSWERS,
    }
    first = client.post("/api/forms/barrier_assessment/submissions", json=body)
    assert first.status_code == 201, first.text
    again = client.post("/api/forms/barrier_assessment/submissions", json=body)
    assert again.status_code == 200
    listed = list_tasks(session, user=pcw)
    assert sorted(t.kind for t in listed) == ["follow-up", "transport"]
    assert {t.due for t in listed} == {date(2099, 1, 1)}
    assert {t.source_ref for t in listed} == {
        f"form:{body['instance_id']}:transport_referral",
        f"form:{body['instance_id']}:find_practice",
    }
