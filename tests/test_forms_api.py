"""The forms API (contract 4): 201 / 200 / 409 / 422, idempotent even under concurrency."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlmodel import Session, func, select

from assistant.audit import AuditEvent
from assistant.forms.capture import submissions
from assistant.forms.engine.definition import load_form
from assistant.forms.models import FormSubmission
from assistant.people.models import Role
from tests import factories
from tests.clock import FIXED_NOW
from tests.conftest import Client
from tests.forms_data import BARRIER_ANSWERS, flag_payload


def barrier_payload(**answers: Any) -> dict[str, Any]:
    return {
        "instance_id": str(uuid.uuid4()),
        "form_version": load_form("barrier_assessment").version,
        "lang": "sm",
        "answers": {"consent": "no"} | answers,
    }


def count(session: Session) -> int:
    session.expire_all()
    return int(session.exec(select(func.count()).select_from(FormSubmission)).one())


URL = "/api/forms/{}/submissions"


def submit_body(session: Session, *, body: dict[str, Any], **kw: Any) -> submissions.Outcome:
    """A forms API body, submitted as the route submits it."""
    return submissions.submit(
        session,
        instance_id=body["instance_id"],
        form_version=body["form_version"],
        lang=body["lang"],
        answers=body["answers"],
        **kw,
    )


def test_store_then_same_again_then_conflict(client: Client, session: Session, login: Any) -> None:
    login(factories.user(session, Role.practice_staff))
    body = flag_payload()
    first = client.post(URL.format("flag_problem"), json=body)
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "stored"
    again = client.post(URL.format("flag_problem"), json=body)
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert count(session) == 1
    changed = body | {"answers": body["answers"] | {"staff_minutes": "31"}}
    conflict = client.post(URL.format("flag_problem"), json=changed)
    assert conflict.status_code == 409
    assert count(session) == 1


def test_per_field_errors_in_the_submissions_language(
    client: Client, session: Session, login: Any
) -> None:
    login(factories.user(session, Role.practice_staff))
    body = flag_payload(provider="zoo", staff_minutes="lots", description=None)
    english = client.post(URL.format("flag_problem"), json=body)
    assert english.status_code == 422
    errors = english.json()["errors"]
    assert errors == {
        "provider": "Choose one of the options.",
        "staff_minutes": "Enter a whole number.",
        "description": "This question needs an answer.",
    }
    samoan = client.post(URL.format("flag_problem"), json=body | {"lang": "sm"})
    assert samoan.status_code == 422
    assert set(samoan.json()["errors"]) == set(errors)
    assert samoan.json()["errors"]["description"] != errors["description"]
    assert count(session) == 0


def test_malformed_body_and_unknown_form(client: Client, session: Session, login: Any) -> None:
    login(factories.user(session, Role.practice_staff))
    bad = client.post(URL.format("flag_problem"), json={"answers": []})
    assert bad.status_code == 422
    assert set(bad.json()["errors"]) == {"instance_id", "form_version", "answers"}
    old = client.post(URL.format("flag_problem"), json=flag_payload() | {"form_version": "0"})
    assert old.status_code == 422 and "form_version" in old.json()["errors"]
    assert client.post(URL.format("nope"), json=flag_payload()).status_code == 404


def test_flag_problem_creates_a_workload_transfer_ticket(
    client: Client, session: Session, login: Any
) -> None:
    from assistant.support.models import Ticket

    staff = factories.user(session, Role.practice_staff)
    login(staff)
    response = client.post(URL.format("flag_problem"), json=flag_payload(patient_nhi="ABC1234"))
    assert response.status_code == 201
    tickets = session.exec(select(Ticket)).all()
    assert len(tickets) == 1
    ticket = tickets[0]
    assert ticket.topic_id == "workload-transfer"
    assert ticket.practice_id == staff.practice_id
    assert "Hospital emergency department" in ticket.question
    assert "ABC1234" not in ticket.detail  # personal details stay in the submission
    client.post(URL.format("flag_problem"), json=json.loads(response.request.content))
    assert len(session.exec(select(Ticket)).all()) == 1  # a repeat makes no second ticket


def test_who_may_send_which_form(client: Client, session: Session, login: Any) -> None:
    login(factories.user(session, Role.pcw))
    assert client.post(URL.format("flag_problem"), json=flag_payload()).status_code == 403
    assert client.post(URL.format("barrier_assessment"), json=barrier_payload()).status_code == 201


def test_liaison_and_anonymous_cannot_send(client: Client, session: Session, login: Any) -> None:
    assert client.post(URL.format("barrier_assessment"), json=barrier_payload()).status_code == 302
    login(factories.user(session, Role.liaison))
    assert client.post(URL.format("barrier_assessment"), json=barrier_payload()).status_code == 403


def test_api_needs_the_csrf_header(app: FastAPI, session: Session) -> None:
    from fastapi.testclient import TestClient

    user = factories.user(session, Role.pcw)
    with TestClient(app, follow_redirects=False) as raw:
        raw.get("/login")
        token = raw.cookies.get("csrftoken")
        raw.post(
            "/login",
            data={"email": user.email, "password": factories.PASSWORD},
            headers={"X-CSRF-Token": token or ""},
        )
        response = raw.post(URL.format("barrier_assessment"), json=barrier_payload())
        assert response.status_code == 403
    assert count(session) == 0


def test_definition_for_offline_use(client: Client, session: Session, login: Any) -> None:
    assert client.get("/api/forms/barrier_assessment").status_code == 302
    login(factories.user(session, Role.pcw))
    response = client.get("/api/forms/barrier_assessment")
    assert response.status_code == 200
    data = response.json()
    assert data["id"] == "barrier_assessment"
    assert data["version"] == load_form("barrier_assessment").version
    assert client.get("/api/forms/nope").status_code == 404


def test_consent_is_recorded_and_the_creation_audited(
    client: Client, session: Session, login: Any
) -> None:
    pcw = factories.user(session, Role.pcw)
    login(pcw)
    body = barrier_payload(person_name="Sina")  # no consent: the name is dropped
    response = client.post(URL.format("barrier_assessment"), json=body)
    assert response.status_code == 201
    stored = session.get(FormSubmission, response.json()["id"])
    assert stored is not None
    assert stored.consent is False
    assert json.loads(stored.answers) == {"consent": "no"}
    assert stored.agency_id == pcw.agency_id
    events = session.exec(select(AuditEvent).where(AuditEvent.entity == "form_submission")).all()
    assert [e.action for e in events] == ["created"]
    assert "Sina" not in "".join(e.detail for e in events)


def test_a_copy_of_a_stored_submission_that_would_not_pass_now_is_answered_as_stored(
    session: Session,
) -> None:
    """A phone sends its queue again after its date checks changed meaning (or its form did):
    what was stored is the answer, not a list of problems."""
    staff = factories.user(session, Role.practice_staff)
    form = load_form("flag_problem")
    body = flag_payload(event_date="2026-11-02")

    def send(body: dict[str, Any], today: date) -> submissions.Outcome:
        outcome = submit_body(session, form=form, user=staff, body=body, today=today)
        session.commit()
        return outcome

    first = send(body, date(2026, 11, 3))
    again = send(body, date(2026, 11, 1))  # the event date would now be in the future
    assert (first.created, again.created) == (True, False)
    assert again.submission.id == first.submission.id
    assert count(session) == 1
    with pytest.raises(submissions.InvalidSubmission):  # a new one with that date is refused
        send(flag_payload(event_date="2026-11-02"), date(2026, 11, 1))


def test_concurrent_posts_of_one_instance_store_one_row(settings: Any, session: Session) -> None:
    """Eight threads send the same submission at once: one 201, seven 200, one row."""
    from assistant.db import get_engine

    pcw = factories.user(session, Role.pcw)
    form = load_form("barrier_assessment")
    body = barrier_payload()
    engine = get_engine(settings.database_url)
    results: list[str] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        with Session(engine) as own:
            barrier.wait()
            try:
                outcome = submit_body(own, form=form, user=pcw, body=body)
                own.commit()  # the caller owns the commit
                results.append("created" if outcome.created else "same")
            except Exception as exc:  # recorded so the assertion shows it
                results.append(repr(exc))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["created"] + ["same"] * 7
    assert count(session) == 1


def test_concurrent_http_posts_store_one_row(client: Client, session: Session, login: Any) -> None:
    login(factories.user(session, Role.practice_staff))
    body = flag_payload()
    statuses: list[int] = []

    def post() -> None:
        statuses.append(client.post(URL.format("flag_problem"), json=body).status_code)

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 200, 200, 201]
    assert count(session) == 1


def test_agreed_actions_become_follow_up_tasks_once(
    client: Client, session: Session, login: Any
) -> None:
    from assistant.pcw.models import FollowUpTask

    pcw = factories.user(session, Role.pcw)
    login(pcw)
    answers = {
        "consent": "yes",
        "person_name": "Mele",
        "main_language": "tongan",
        "interpreter_needed": "yes",
        "enrolment_status": "not_enrolled",
        "eligibility": "citizen_resident",
        "cost_difficulty": "very_hard",
        "cost_stopped_visit": "yes",
        "transport_barrier": "yes",
        "lonely": "often",
        "housing": ["cold_damp"],
        "food_worry": "sometimes",
        "feels_safe": "yes",
        "knows_how_to_enrol": "no",
        "knows_after_hours": "no",
        "visit_worry": "never",
        "phone_access": "own_phone",
        "internet_access": "yes",
        "barriers": ["cost", "transport"],
        "actions": ["transport_referral", "csc"],
        "follow_up_date": "2099-01-31",
    }
    body = barrier_payload(**answers)
    assert client.post(URL.format("barrier_assessment"), json=body).status_code == 201
    assert client.post(URL.format("barrier_assessment"), json=body).status_code == 200
    tasks = session.exec(select(FollowUpTask)).all()
    assert len(tasks) == 2
    assert {t.assignee_id for t in tasks} == {pcw.id}
    assert {t.due.isoformat() for t in tasks} == {"2099-01-31"}


def test_an_oversized_body_is_refused(client: Client, session: Session, login: Any) -> None:
    login(factories.user(session, Role.pcw))
    body = barrier_payload(notes="x" * 300_000)
    assert client.post(URL.format("barrier_assessment"), json=body).status_code == 413
    assert count(session) == 0


def test_a_submission_and_its_ticket_are_stored_together_or_not_at_all(
    session: Session, engine: Any
) -> None:
    """The flag-a-problem ticket joins the submission's transaction: when a later step of the
    same submission fails, neither the submission nor the ticket is kept."""
    from sqlmodel import Session as DbSession

    from assistant.forms.capture.hooks import flag_problem_ticket
    from assistant.support.models import Ticket

    staff = factories.user(session, Role.practice_staff, practice_id=factories.practice(session).id)
    body = flag_payload()

    def ticket_then_fail(db: Session, **kw: Any) -> None:
        flag_problem_ticket(db, **kw)
        raise RuntimeError("the next step failed")

    with DbSession(engine) as db:
        try:
            submissions.submit(
                db,
                form=load_form("flag_problem"),
                user=db.get(type(staff), staff.id),  # type: ignore[arg-type]
                instance_id=body["instance_id"],
                form_version=body["form_version"],
                lang="en",
                answers=body["answers"],
                after_submit=ticket_then_fail,
            )
        except RuntimeError:
            db.rollback()
    session.expire_all()
    assert session.exec(select(func.count()).select_from(Ticket)).one() == 0
    assert session.exec(select(func.count()).select_from(FormSubmission)).one() == 0


def test_a_body_that_is_no_json_object_is_refused_in_the_forms_contract(
    client: Client, session: Session, login: Any
) -> None:
    login(factories.user(session, Role.practice_staff))
    for raw in (b"[]", b"null", b'"text"', b"{not json", b"\xff\xfe\x00garbage", b""):
        response = client.post(
            URL.format("flag_problem"), content=raw, headers={"content-type": "application/json"}
        )
        assert response.status_code == 422, raw
        assert response.json() == {"errors": {"body": "Send a JSON object."}}, raw
    assert count(session) == 0


def test_missing_and_wrong_fields_are_named_in_the_submissions_language(
    client: Client, session: Session, login: Any
) -> None:
    login(factories.user(session, Role.practice_staff))
    bad = {"instance_id": 7, "form_version": "", "answers": "none", "lang": "sm"}
    response = client.post(URL.format("flag_problem"), json=bad)
    assert response.status_code == 422
    # Our own shape, never FastAPI's list of validation errors under "detail".
    assert response.json() == {
        "errors": {
            "instance_id": "E manaʻomia lenei.",
            "form_version": "E manaʻomia lenei.",
            "answers": "E manaʻomia lenei.",
        }
    }
    english = client.post(URL.format("flag_problem"), json={"lang": 5})
    assert english.json() == {
        "errors": {
            "instance_id": "This is needed.",
            "form_version": "This is needed.",
            "answers": "This is needed.",
        }
    }
    assert count(session) == 0


def test_an_instance_id_longer_than_any_stored_is_refused(
    client: Client, session: Session, login: Any
) -> None:
    login(factories.user(session, Role.practice_staff))
    body = flag_payload() | {"instance_id": str(uuid.uuid4()) + "x" * 64}
    response = client.post(URL.format("flag_problem"), json=body)
    assert response.status_code == 422
    assert response.json() == {"errors": {"instance_id": "This form has no valid instance id."}}
    assert count(session) == 0


def test_an_unknown_language_is_answered_in_english_and_stored(
    client: Client, session: Session, login: Any
) -> None:
    login(factories.user(session, Role.practice_staff))
    for lang in ("xx", 5, None):
        response = client.post(URL.format("flag_problem"), json=flag_payload() | {"lang": lang})
        assert response.status_code == 201, response.text
    session.expire_all()
    assert {s.lang for s in session.exec(select(FormSubmission))} == {"en"}


def test_a_whole_number_beyond_32_bits_is_refused_per_question(
    client: Client, session: Session, login: Any
) -> None:
    login(factories.user(session, Role.practice_staff))
    body = flag_payload(staff_minutes=99999999999999999999) | {"lang": "sm"}
    response = client.post(URL.format("flag_problem"), json=body)
    assert response.status_code == 422
    assert response.json()["errors"]["staff_minutes"] == (
        "Tusi se numera atoa mai le -2,147,483,648 i le 2,147,483,647."
    )
    assert count(session) == 0
    fits = client.post(URL.format("flag_problem"), json=flag_payload(staff_minutes=1440.0))
    assert fits.status_code == 201, fits.text


def test_an_impossible_phone_number_or_date_of_birth_is_refused_per_question(
    client: Client, session: Session, login: Any, time_machine: Any
) -> None:
    pcw = factories.user(session, Role.pcw)
    login(pcw)

    def send(**answers: Any) -> Any:
        body = barrier_payload(**(BARRIER_ANSWERS | answers)) | {"lang": "en"}
        return client.post(URL.format("barrier_assessment"), json=body)

    refused = send(phone="12345", date_of_birth="1800-01-01")
    assert refused.status_code == 422
    assert refused.json()["errors"] == {
        "phone": "Enter a phone number, like 021 123 4567.",
        "date_of_birth": (
            "The date of birth cannot be in the future, and the person cannot be over 120 "
            "years old."
        ),
    }
    assert send(phone="09 123").json()["errors"] == {
        "phone": "Enter a phone number, like 021 123 4567."
    }
    assert count(session) == 0

    # A landline is a phone number; 120 is old but possible (by the server's clock: today is
    # 24 November 2026 in New Zealand, so this person turns 121 tomorrow).
    stored = send(phone="03 348 1000", date_of_birth="1905-11-25")
    assert stored.status_code == 201, stored.text
    submission = session.get(FormSubmission, stored.json()["id"])
    assert submission is not None
    answers = json.loads(submission.answers)
    assert answers["phone"] == "+6433481000" and answers["age_years"] == 120
    time_machine.move_to(FIXED_NOW + timedelta(days=1))
    login(pcw)  # signed out overnight
    late = send(date_of_birth="1905-11-25")
    assert late.status_code == 422
    assert set(late.json()["errors"]) == {"date_of_birth"}


def test_the_api_description_shows_the_submission_body(client: Client) -> None:
    """API clients (and the fuzzer) see what to send."""
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/api/forms/{form_id}/submissions"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert body["required"] is True
    assert set(schema["required"]) == {"instance_id", "form_version", "answers"}
    assert schema["properties"]["instance_id"]["maxLength"] == 64
    assert schema["properties"]["answers"]["type"] == "object"
