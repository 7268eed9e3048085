"""Filling forms through the pages: with JavaScript off, with htmx, drafts, who sees what."""

from __future__ import annotations

import json
import re
import uuid
from html.parser import HTMLParser
from typing import Any

from sqlmodel import Session, select

from assistant.audit import AuditEvent
from assistant.forms.definition import load_form
from assistant.forms.models import FormDraft, FormSubmission
from assistant.people.models import Role, User
from tests import factories
from tests.conftest import Client


class Page(HTMLParser):
    """Just enough HTML parsing: elements by id, inputs by name, the html tag."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.by_id: dict[str, dict[str, str | None]] = {}
        self.inputs: list[dict[str, str | None]] = []
        self.html: dict[str, str | None] = {}
        self.text = html
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs) | {"tag": tag}
        if tag == "html":
            self.html = a
        if a.get("id"):
            self.by_id[str(a["id"])] = a
        if tag in ("input", "textarea", "select"):
            self.inputs.append(a)

    def visible(self, element_id: str) -> bool:
        return "hidden" not in self.by_id[element_id]

    def value(self, name: str) -> str | None:
        for a in self.inputs:
            if a.get("name") == name and a.get("type") not in ("radio", "checkbox"):
                return a.get("value")
        return None

    def checked(self, name: str) -> list[str]:
        return [
            str(a.get("value")) for a in self.inputs if a.get("name") == name and "checked" in a
        ]

    def current_page(self) -> int:
        return int(self.value("page") or 0)


def start(client: Client, form_id: str, lang: str = "en") -> tuple[str, Page]:
    response = client.get(f"/forms/{form_id}/fill?lang={lang}")
    assert response.status_code == 200, response.text
    page = Page(response.text)
    instance_id = page.value("instance_id")
    assert instance_id
    return instance_id, page


def post(client: Client, form_id: str, data: dict[str, Any], **headers: str) -> Any:
    return client.post(f"/forms/{form_id}/fill", data=data, headers=headers)


def landed(client: Client, response: Any) -> Page:
    """The page a browser shows after a post: turning the page redirects to it."""
    if response.status_code == 303:
        response = client.get(response.headers["location"])
    assert response.status_code == 200, response.text
    return Page(response.text)


def pcw_user(session: Session, **kw: Any) -> User:
    return factories.user(session, Role.pcw, **kw)


def test_required_error_in_the_forms_language_without_javascript(
    client: Client, session: Session, login: Any
) -> None:
    login(pcw_user(session))
    instance_id, page = start(client, "barrier_assessment", "sm")
    assert page.html["lang"] == "sm"
    response = post(
        client,
        "barrier_assessment",
        {"instance_id": instance_id, "page": "0", "action": "next", "form_lang": "sm"},
    )
    assert response.status_code == 200
    page = Page(response.text)
    assert page.current_page() == 0
    assert page.visible("err-consent")
    assert "E manaʻomia se tali i lenei fesili." in response.text
    assert "This question needs an answer." not in response.text


def test_without_consent_the_form_ends_and_keeps_nothing_personal(
    client: Client, session: Session, login: Any
) -> None:
    login(pcw_user(session))
    instance_id, _page = start(client, "barrier_assessment")
    data = {"instance_id": instance_id, "page": "0", "form_lang": "en", "consent": "no"}
    page = Page(post(client, "barrier_assessment", data | {"action": "next"}).text)
    assert page.current_page() == 0  # nothing after consent is relevant
    assert page.visible("q-no_consent_note")
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
    page = Page(post(client, "flag_problem", data | {"action": "next"}).text)
    assert page.current_page() == 0
    assert page.visible("err-work_type_other")
    data["work_type_other"] = "ECG"
    page = landed(client, post(client, "flag_problem", data | {"action": "next"}))
    assert page.current_page() == 1
    assert page.checked("work_type") == ["tests", "other"]
    data |= {
        "page": "1",
        "description": "Asked to repeat an ECG the specialist ordered.",
        "staff_minutes": "20",
        "funding_offered": "no",
        "contact_ok": "yes",
    }
    page = landed(client, post(client, "flag_problem", data | {"action": "back"}))
    assert page.current_page() == 0
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
    page = Page(response.text)
    assert page.by_id["form-area"]["tag"] == "div"
    assert page.current_page() == 1


def test_switching_language_mid_form_keeps_every_answer(
    client: Client, session: Session, login: Any
) -> None:
    login(pcw_user(session))
    instance_id, _page = start(client, "barrier_assessment", "sm")
    data = {"instance_id": instance_id, "page": "0", "form_lang": "sm", "consent": "yes"}
    page = landed(client, post(client, "barrier_assessment", data | {"action": "next"}))
    assert page.current_page() == 1
    data |= {"page": "1", "person_name": "Sina", "main_language": "samoan", "form_lang": "ar"}
    response = post(client, "barrier_assessment", data | {"action": "lang"})
    assert response.status_code == 303
    page = Page(client.get(response.headers["location"]).text)
    assert page.html["dir"] == "rtl"
    assert page.by_id["form-area"]["dir"] == "rtl"
    assert page.current_page() == 1
    assert page.value("person_name") == "Sina"
    assert page.checked("main_language") == ["samoan"]
    assert page.checked("consent") == ["yes"]
    assert "نعم" in page.text  # the yes/no choices now in Arabic


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
        page = Page(phone.get(f"/forms/drafts/{instance_id}").text)
        assert page.html["lang"] == "hi"
        assert page.current_page() == 1
        assert page.checked("consent") == ["yes"]
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
    page = Page(post(client, "barrier_assessment", data | {"action": "add:household_members"}).text)
    assert page.value("household_members.rows") == "1"
    assert "in-household_members.0.member_name" in page.by_id
    data |= {
        "household_members.rows": "2",
        "household_members.0.member_name": "Ana",
        "household_members.1.member_name": "Ben",
    }
    page = Page(
        post(client, "barrier_assessment", data | {"action": "remove:household_members:0"}).text
    )
    assert page.value("household_members.rows") == "1"
    assert page.value("household_members.0.member_name") == "Ben"


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
            assert (f'href="{url}"' in listing.text) == (status == 200), user.role
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
    assert '<span lang="to">Lea faka-Tonga</span>' in client.get("/forms").text


def test_practice_staff_see_their_own_flags_only(
    client: Client, app: Any, session: Session, login: Any
) -> None:
    from tests.test_forms_api import flag_payload

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
    assert page.html["dir"] == "rtl"
    assert '<script src="/static/forms/forms.js" defer></script>' in page.text
    assert page.by_id["q-practice_name"]["data-relevant"].startswith("selected(")  # type: ignore[union-attr]
    assert re.search(r'data-new="1"', page.text)


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
    assert f'action="/forms/drafts/{instance_id}/discard"' in listing.text
    response = client.post(f"/forms/drafts/{instance_id}/discard")
    assert response.status_code == 303
    session.expire_all()
    assert session.exec(select(FormDraft)).all() == []
    assert client.get(f"/forms/drafts/{instance_id}").status_code == 404
