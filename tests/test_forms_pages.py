"""Filling forms through the pages: with JavaScript off, with htmx, drafts, who sees what."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlmodel import Session, select

from assistant.audit import AuditEvent
from assistant.forms.engine.definition import load_form
from assistant.forms.models import FormDraft, FormSubmission
from assistant.people.models import Role, User
from tests import factories
from tests.conftest import Client
from tests.form_fill import current_page, visible
from tests.forms_data import flag_payload
from tests.html import Page, parse


def start(client: Client, form_id: str, lang: str = "en") -> tuple[str, Page]:
    response = client.get(f"/forms/{form_id}/fill?lang={lang}")
    assert response.status_code == 200, response.text
    page = parse(response.text)
    instance_id = page.field("instance_id").value()
    assert instance_id
    return instance_id, page


def post(client: Client, form_id: str, data: dict[str, Any], **headers: str) -> Any:
    return client.post(f"/forms/{form_id}/fill", data=data, headers=headers)


def landed(client: Client, response: Any) -> Page:
    """The page a browser shows after a post: turning the page redirects to it."""
    if response.status_code == 303:
        response = client.get(response.headers["location"])
    assert response.status_code == 200, response.text
    return parse(response.text)


def pcw_user(session: Session, **kw: Any) -> User:
    return factories.user(session, Role.pcw, **kw)


def test_required_error_in_the_forms_language_without_javascript(
    client: Client, session: Session, login: Any
) -> None:
    login(pcw_user(session))
    instance_id, page = start(client, "barrier_assessment", "sm")
    assert page.lang == "sm"
    response = post(
        client,
        "barrier_assessment",
        {"instance_id": instance_id, "page": "0", "action": "next", "form_lang": "sm"},
    )
    assert response.status_code == 200
    page = parse(response.text)
    assert current_page(page) == 0
    assert visible(page, "err-consent")
    assert "E manaʻomia se tali i lenei fesili." in response.text
    assert "This question needs an answer." not in response.text


def test_without_consent_the_form_ends_and_keeps_nothing_personal(
    client: Client, session: Session, login: Any
) -> None:
    login(pcw_user(session))
    instance_id, _page = start(client, "barrier_assessment")
    data = {"instance_id": instance_id, "page": "0", "form_lang": "en", "consent": "no"}
    page = parse(post(client, "barrier_assessment", data | {"action": "next"}).text)
    assert current_page(page) == 0  # nothing after consent is relevant
    assert visible(page, "q-no_consent_note")
    response = post(client, "barrier_assessment", data | {"action": "submit", "person_name": "X"})
    assert response.status_code == 303
    stored = session.exec(select(FormSubmission)).one()
    assert json.loads(stored.answers) == {"consent": "no"}
    assert stored.consent is False
    assert session.exec(select(FormDraft)).all() == []


def test_flag_a_problem_page_by_page_without_javascript(
    client: Client, session: Session, login: Any
) -> None:
    staff = factories.user(session, Role.practice_staff)
    login(staff)
    instance_id, page = start(client, "flag_problem")
    data: dict[str, Any] = {
        "instance_id": instance_id,
        "page": "0",
        "form_lang": "en",
        "provider": "specialist",
        "work_type": ["tests", "other"],
        "event_date": "2026-11-01",
    }
    page = parse(post(client, "flag_problem", data | {"action": "next"}).text)
    assert current_page(page) == 0
    assert visible(page, "err-work_type_other")
    data["work_type_other"] = "ECG"
    page = landed(client, post(client, "flag_problem", data | {"action": "next"}))
    assert current_page(page) == 1
    assert page.ticked("work_type") == ["tests", "other"]
    data |= {
        "page": "1",
        "description": "Asked to repeat an ECG the specialist ordered.",
        "staff_minutes": "20",
        "funding_offered": "no",
        "contact_ok": "yes",
    }
    page = landed(client, post(client, "flag_problem", data | {"action": "back"}))
    assert current_page(page) == 0
    draft = session.exec(select(FormDraft).where(FormDraft.instance_id == instance_id)).one()
    assert json.loads(draft.answers)["description"].startswith("Asked to repeat")
    response = post(client, "flag_problem", data | {"action": "submit"})
    assert response.status_code == 303
    shown = client.get(response.headers["location"])
    assert shown.status_code == 200
    assert "Sent. Thank you." in shown.text
    assert "Private specialist" in shown.text
    session.expire_all()
    stored = session.exec(select(FormSubmission)).one()
    assert stored.practice_id == staff.practice_id
    assert json.loads(stored.answers)["staff_minutes"] == 20


def test_htmx_posts_get_just_the_form_block(client: Client, session: Session, login: Any) -> None:
    login(pcw_user(session))
    instance_id, _page = start(client, "barrier_assessment")
    response = post(
        client,
        "barrier_assessment",
        {"instance_id": instance_id, "page": "0", "form_lang": "en", "consent": "yes"}
        | {"action": "next"},
        **{"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    page = parse(response.text)
    assert page.by_id("form-area").tag == "div"
    assert current_page(page) == 1


def test_switching_language_mid_form_keeps_every_answer(
    client: Client, session: Session, login: Any
) -> None:
    login(pcw_user(session))
    instance_id, _page = start(client, "barrier_assessment", "sm")
    data = {"instance_id": instance_id, "page": "0", "form_lang": "sm", "consent": "yes"}
    page = landed(client, post(client, "barrier_assessment", data | {"action": "next"}))
    assert current_page(page) == 1
    data |= {"page": "1", "person_name": "Sina", "main_language": "samoan", "form_lang": "ar"}
    response = post(client, "barrier_assessment", data | {"action": "lang"})
    assert response.status_code == 303
    page = parse(client.get(response.headers["location"]).text)
    assert page.dir == "rtl"
    assert page.by_id("form-area").get("dir") == "rtl"
    assert current_page(page) == 1
    assert page.field("person_name").value() == "Sina"
    assert page.ticked("main_language") == ["samoan"]
    assert page.ticked("consent") == ["yes"]
    assert "نعم" in page.text()  # the yes/no choices now in Arabic


def test_htmx_language_switch_reloads_the_whole_page(
    client: Client, session: Session, login: Any
) -> None:
    login(pcw_user(session))
    instance_id, _page = start(client, "barrier_assessment")
    response = post(
        client,
        "barrier_assessment",
        {"instance_id": instance_id, "page": "0", "form_lang": "to", "action": "lang"},
        **{"HX-Request": "true"},
    )
    assert response.headers["HX-Redirect"] == f"/forms/drafts/{instance_id}?page=0"


def test_a_draft_resumes_on_another_device_but_not_for_someone_else(
    client: Client, app: Any, session: Session, login: Any
) -> None:
    pcw = pcw_user(session)
    login(pcw)
    instance_id, _page = start(client, "barrier_assessment")
    data = {"instance_id": instance_id, "page": "0", "form_lang": "hi", "consent": "yes"}
    post(client, "barrier_assessment", data | {"action": "next"})
    with Client(app, follow_redirects=False) as phone:
        login(pcw, phone)
        listing = phone.get("/forms")
        assert f"/forms/drafts/{instance_id}" in listing.text
        page = parse(phone.get(f"/forms/drafts/{instance_id}").text)
        assert page.lang == "hi"
        assert current_page(page) == 1
        assert page.ticked("consent") == ["yes"]
    with Client(app, follow_redirects=False) as other:
        login(pcw_user(session), other)
        assert other.get(f"/forms/drafts/{instance_id}").status_code == 403
        stolen = other.post("/forms/barrier_assessment/fill", data=data | {"action": "next"})
        assert stolen.status_code == 403


def test_household_rows_can_be_added_and_removed_without_javascript(
    client: Client, session: Session, login: Any
) -> None:
    login(pcw_user(session))
    instance_id, _page = start(client, "barrier_assessment")
    household = load_form("barrier_assessment").page_index("household")
    data: dict[str, Any] = {
        "instance_id": instance_id,
        "page": str(household),
        "form_lang": "en",
        "consent": "yes",
        "household_members.rows": "0",
    }
    page = parse(
        post(client, "barrier_assessment", data | {"action": "add:household_members"}).text
    )
    assert page.field("household_members.rows").value() == "1"
    assert page.has('[id="in-household_members.0.member_name"]')
    data |= {
        "household_members.rows": "2",
        "household_members.0.member_name": "Ana",
        "household_members.1.member_name": "Ben",
    }
    page = parse(
        post(client, "barrier_assessment", data | {"action": "remove:household_members:0"}).text
    )
    assert page.field("household_members.rows").value() == "1"
    assert page.field("household_members.0.member_name").value() == "Ben"


def test_sent_forms_are_seen_by_their_agency_and_coordinators_and_audited(
    client: Client, app: Any, session: Session, login: Any
) -> None:
    agency = factories.agency(session)
    writer = pcw_user(session, agency_id=agency.id)
    colleague = pcw_user(session, agency_id=agency.id)
    outsider = pcw_user(session)
    coordinator = factories.user(session, Role.coordinator)
    staff = factories.user(session, Role.practice_staff)
    login(writer)
    body = {
        "instance_id": str(uuid.uuid4()),
        "form_version": load_form("barrier_assessment").version,
        "lang": "to",
        "answers": {"consent": "no"},
    }
    created = client.post("/api/forms/barrier_assessment/submissions", json=body)
    url = created.json()["url"]
    submission_id = created.json()["id"]
    expected = [(colleague, 200), (outsider, 403), (coordinator, 200), (staff, 403)]
    for user, status in expected:
        with Client(app, follow_redirects=False) as c:
            login(user, c)
            assert c.get(url).status_code == status, user.role
            listing = c.get("/forms")
            assert (url in parse(listing.text).links()) == (status == 200), user.role
    views = session.exec(
        select(AuditEvent).where(
            AuditEvent.entity == "form_submission",
            AuditEvent.entity_id == str(submission_id),
            AuditEvent.action == "viewed",
        )
    ).all()
    assert sorted(v.actor_id for v in views) == sorted([colleague.id, coordinator.id])  # type: ignore[type-var]


def test_the_language_of_a_sent_form_is_marked_up_in_that_language(
    client: Client, session: Session, login: Any
) -> None:
    login(pcw_user(session, locale="ar"))
    body = {
        "instance_id": str(uuid.uuid4()),
        "form_version": load_form("barrier_assessment").version,
        "lang": "to",
        "answers": {"consent": "no"},
    }
    assert client.post("/api/forms/barrier_assessment/submissions", json=body).status_code == 201
    tongan = parse(client.get("/forms").text).find_all('span[lang="to"]')
    assert "Lea faka-Tonga" in [span.text() for span in tongan]


def test_practice_staff_see_their_own_flags_only(
    client: Client, app: Any, session: Session, login: Any
) -> None:
    mine = factories.user(session, Role.practice_staff)
    login(mine)
    url = client.post("/api/forms/flag_problem/submissions", json=flag_payload()).json()["url"]
    assert client.get(url).status_code == 200
    with Client(app, follow_redirects=False) as c:
        login(factories.user(session, Role.practice_staff), c)
        assert c.get(url).status_code == 403
        assert client.get("/forms/barrier_assessment/fill").status_code == 403


def test_pages_need_a_signed_in_form_user(client: Client, session: Session, login: Any) -> None:
    assert client.get("/forms").status_code == 302
    login(factories.user(session, Role.liaison))
    assert client.get("/forms").status_code == 403


@pytest.mark.parametrize(
    ("role", "not_theirs"),
    [
        (Role.pcw, "flag_problem"),
        (Role.practice_staff, "barrier_assessment"),
        (Role.coordinator, "barrier_assessment"),
        (Role.admin, "flag_problem"),
    ],
)
def test_an_unknown_form_is_not_found_and_another_roles_form_is_refused(
    client: Client, session: Session, login: Any, role: Role, not_theirs: str
) -> None:
    login(factories.user(session, role))
    missing = client.get("/forms/bogus/fill")
    assert missing.status_code == 404
    assert parse(missing.text).find("h1").text() == "We could not find that page."
    assert client.post("/forms/bogus/fill", data={"action": "next"}).status_code == 404
    refused = client.get(f"/forms/{not_theirs}/fill")
    assert refused.status_code == 403
    assert parse(refused.text).find("h1").text() == "You do not have access to this page."
    assert client.post(f"/forms/{not_theirs}/fill", data={"action": "next"}).status_code == 403


def test_service_worker_is_served_from_the_root(client: Client) -> None:
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "caches.open" in response.text


def test_fill_page_loads_the_offline_script_and_marks_skip_logic(
    client: Client, session: Session, login: Any
) -> None:
    login(pcw_user(session))
    _id, page = start(client, "barrier_assessment", "ar")
    assert page.dir == "rtl"
    assert page.find('script[src^="/static/forms/forms.js?v="]').has_attr("defer")
    assert page.by_id("q-practice_name").attr("data-relevant").startswith("selected(")
    assert page.find("form#fill-form").attr("data-new") == "1"


def test_resuming_a_draft_is_audited_and_a_draft_can_be_deleted(
    client: Client, session: Session, login: Any
) -> None:
    pcw = pcw_user(session)
    login(pcw)
    instance_id, _page = start(client, "barrier_assessment")
    data = {"instance_id": instance_id, "page": "0", "form_lang": "en", "consent": "yes"}
    post(client, "barrier_assessment", data | {"action": "next"})
    assert client.get(f"/forms/drafts/{instance_id}").status_code == 200
    draft = session.exec(select(FormDraft).where(FormDraft.instance_id == instance_id)).one()
    views = session.exec(
        select(AuditEvent).where(
            AuditEvent.entity == "form_draft", AuditEvent.entity_id == str(draft.id)
        )
    ).all()
    assert [(v.action, v.actor_id) for v in views] == [("viewed", pcw.id)]
    listing = client.get("/forms")
    assert parse(listing.text).has(f'form[action="/forms/drafts/{instance_id}/discard"]')
    response = client.post(f"/forms/drafts/{instance_id}/discard")
    assert response.status_code == 303
    session.expire_all()
    assert session.exec(select(FormDraft)).all() == []
    assert client.get(f"/forms/drafts/{instance_id}").status_code == 404
