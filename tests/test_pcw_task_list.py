"""The PCW task list: whom a task is about (for those who may know), both ways, page by page."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from assistant.forms.capture.actions import create_actions
from assistant.forms.engine.definition import load_form
from assistant.pcw.tasks import create_task
from assistant.people.models import Role
from tests import factories
from tests.conftest import Client
from tests.forms_data import add_submission
from tests.html import parse

ASSESSMENT = {
    "consent": "yes",
    "person_name": "Sina Tuilagi",
    "barriers": ["transport"],
    "actions": ["transport_referral"],
    "follow_up_date": "2026-12-04",
}


def test_a_task_from_an_assessment_names_the_person_and_links_to_it(
    client: Client, login: object, session: Session
) -> None:
    pcw = factories.user(session, Role.pcw)
    submission = add_submission(session, pcw, ASSESSMENT)
    [task_id] = create_actions(
        session, submission=submission, definition=load_form("barrier_assessment"), actor=pcw
    )
    session.commit()
    login(pcw)  # type: ignore[operator]
    row = parse(client.get("/pcw/tasks").text).by_id(f"task-{task_id}")
    assert "About" in row.text() and "Sina Tuilagi" in row.text()
    assert f"/forms/submissions/{submission.id}" in row.links()
    assert client.get(f"/forms/submissions/{submission.id}").status_code == 200


def test_a_team_task_from_another_agencys_assessment_keeps_the_person_private(
    client: Client, login: object, session: Session
) -> None:
    author = factories.user(session, Role.pcw)
    submission = add_submission(session, author, ASSESSMENT)
    # A task for the whole PCW team (no agency), made from that assessment.
    create_task(
        session,
        assignee_id=None,
        agency_id=None,
        title="Help with transport",
        kind="transport",
        due=dt.date(2026, 12, 4),
        source_ref=f"form:{submission.instance_id}:transport_referral",
    )
    session.commit()
    other_agency = factories.agency(session, name="Another trust")
    login(factories.user(session, Role.pcw, agency_id=other_agency.id))  # type: ignore[operator]
    page = client.get("/pcw/tasks").text
    assert "Help with transport" in page  # the task is the team's ...
    assert "Sina Tuilagi" not in page  # ... the person is not this PCW's to know
    assert f"/forms/submissions/{submission.id}" not in page


def test_long_task_lists_come_a_page_at_a_time(
    client: Client, login: object, session: Session
) -> None:
    pcw = factories.user(session, Role.pcw)
    for n in range(55):
        create_task(
            session,
            assignee_id=pcw.id,
            agency_id=pcw.agency_id,
            title=f"Task number {n:02d}",
            kind="follow-up",
            due=dt.date(2026, 12, 1) + dt.timedelta(days=n),
        )
        session.commit()
    login(pcw)  # type: ignore[operator]
    first = client.get("/pcw/tasks").text
    assert "Task number 00" in first and "Task number 49" in first
    assert "Task number 50" not in first
    assert "/pcw/tasks?page=2" in parse(first).links() and "Previous page" not in first
    second = client.get("/pcw/tasks?page=2").text
    assert "Task number 50" in second and "Task number 54" in second
    assert "Task number 49" not in second
    assert "/pcw/tasks?page=1" in parse(second).links() and "Next page" not in second
    # Whatever is typed in the address bar, a page (never an error).
    assert "Task number 00" in client.get("/pcw/tasks?page=abc").text
    assert client.get("/pcw/tasks?page=99999999999999999999").status_code == 200


def test_the_assessment_names_the_person_and_lists_its_tasks(
    client: Client, login: object, session: Session
) -> None:
    pcw = factories.user(session, Role.pcw)
    submission = add_submission(session, pcw, ASSESSMENT)
    [task_id] = create_actions(
        session, submission=submission, definition=load_form("barrier_assessment"), actor=pcw
    )
    session.commit()
    login(pcw)  # type: ignore[operator]
    page = parse(client.get(f"/forms/submissions/{submission.id}").text)
    assert "Sina Tuilagi" in page.find("h1").text()
    assert f"/pcw/tasks#task-{task_id}" in page.links()
    listed = parse(client.get("/forms").text)
    assert "Sina Tuilagi" in listed.find('section[aria-labelledby="sent-h"]').text()
