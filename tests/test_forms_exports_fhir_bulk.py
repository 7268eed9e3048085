"""The bulk FHIR export: every submission of a form in a period, one QuestionnaireResponse per
line (FHIR Bulk Data NDJSON), from the exports page, for coordinators and admins, audited."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlmodel import Session, col, select

from assistant.audit import AuditEvent
from assistant.forms.engine.definition import load_form
from assistant.forms.interop.fhir import questionnaire
from assistant.forms.reporting.exports import export_fhir_ndjson
from assistant.people.models import Role, User
from tests import factories
from tests.fhir_oracle import questionnaire_problems, response_problems
from tests.forms_data import ANA, NO_CONSENT, add_submission
from tests.html import parse

BASE = "https://pho.example.nz"
URL = "/dashboard/exports/barrier_assessment/fhir.ndjson"


@pytest.fixture
def pcw(session: Session) -> User:
    return factories.user(session, Role.pcw)


def lines_of(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in body.decode("utf-8").splitlines()]


def test_every_submission_in_the_period_once_per_line(session: Session, pcw: User) -> None:
    form = load_form("barrier_assessment")
    add_submission(session, pcw, ANA, created_at=datetime(2026, 10, 1, tzinfo=UTC))
    a = add_submission(session, pcw, ANA, created_at=datetime(2026, 10, 12, tzinfo=UTC))
    b = add_submission(session, pcw, NO_CONSENT, created_at=datetime(2026, 10, 15, 9, tzinfo=UTC))
    add_submission(session, pcw, ANA, created_at=datetime(2026, 11, 1, tzinfo=UTC))
    add_submission(
        session,
        factories.user(session, Role.practice_staff),
        {"provider": "hospital_ed"},
        form_id="flag_problem",
        created_at=datetime(2026, 10, 12, tzinfo=UTC),
    )

    body, count = export_fhir_ndjson(
        session, form=form, base_url=BASE, since=date(2026, 10, 10), until=date(2026, 10, 15)
    )
    resources = lines_of(body)
    assert count == len(resources) == 2
    assert [r["identifier"]["value"] for r in resources] == [
        f"urn:uuid:{a.instance_id}",
        f"urn:uuid:{b.instance_id}",
    ]
    assert {r["resourceType"] for r in resources} == {"QuestionnaireResponse"}
    q = questionnaire(form, base_url=BASE)
    assert questionnaire_problems(q) == []
    assert [response_problems(r, q) for r in resources] == [[], []]

    everything, total = export_fhir_ndjson(session, form=form, base_url=BASE)
    assert total == len(lines_of(everything)) == 4  # the other form's submission is not in it
    assert export_fhir_ndjson(session, form=load_form("flag_problem"), base_url=BASE)[1] == 1


def test_an_empty_period_is_an_empty_file(session: Session, pcw: User) -> None:
    add_submission(session, pcw, ANA, created_at=datetime(2026, 10, 1, tzinfo=UTC))
    body, count = export_fhir_ndjson(
        session, form=load_form("barrier_assessment"), base_url=BASE, since=date(2027, 1, 1)
    )
    assert (body, count) == (b"", 0)


def exported(session: Session) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.action == "exported").order_by(col(AuditEvent.id))
    return list(session.exec(stmt))  # in the order recorded (PostgreSQL has none without one)


@pytest.mark.parametrize("role", [Role.coordinator, Role.admin])
def test_download_from_the_exports_page(
    session: Session, client: Any, login: Any, pcw: User, role: Role
) -> None:
    early = add_submission(session, pcw, ANA, created_at=datetime(2026, 9, 1, tzinfo=UTC))
    late = add_submission(session, pcw, ANA, created_at=datetime(2026, 11, 2, tzinfo=UTC))
    who = factories.user(session, role)
    login(who)

    page = parse(client.get("/dashboard/exports?since=2026-10-01&until=2026-11-30").text)
    assert f"{URL}?since=2026-10-01&until=2026-11-30" in page.links()

    response = client.get(f"{URL}?since=2026-10-01&until=2026-11-30")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/fhir+ndjson"
    assert response.headers["content-disposition"].startswith(
        'attachment; filename="QuestionnaireResponse-barrier-assessment-'
    )
    assert response.headers["content-disposition"].endswith('.ndjson"')
    assert response.headers["cache-control"] == "no-store"
    resources = lines_of(response.content)
    assert [r["id"] for r in resources] == [late.instance_id]
    assert resources[0]["questionnaire"] == (
        "http://testserver/fhir/Questionnaire/barrier-assessment|1"
    )
    whole = lines_of(client.get(URL).content)
    assert [r["id"] for r in whole] == [early.instance_id, late.instance_id]

    events = exported(session)
    assert [(e.actor_id, e.entity_id) for e in events] == [(who.id, "barrier_assessment")] * 2
    assert [json.loads(e.detail) for e in events] == [
        {"format": "fhir-ndjson", "rows": 1},
        {"format": "fhir-ndjson", "rows": 2},
    ]
    assert client.get("/dashboard/exports/no_such_form/fhir.ndjson").status_code == 404


@pytest.mark.parametrize("role", [Role.pcw, Role.practice_staff, Role.liaison, Role.mso])
def test_others_may_not_download_it(session: Session, client: Any, login: Any, role: Role) -> None:
    login(factories.user(session, role))
    assert client.get(URL).status_code == 403
    assert exported(session) == []


def test_signed_out_visitors_are_sent_to_sign_in(client: Any) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert response.headers["location"].startswith("/login")
