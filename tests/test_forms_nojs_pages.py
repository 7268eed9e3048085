"""Forms with JavaScript off, posted the way a browser posts them: every input the page holds
(hidden ones included) goes back with the person's changes.

- a question (or note) that an answer on the page makes relevant is shown before moving on;
- the language control says what it does;
- the address bar's ``?page=`` is the page on screen, whatever number is typed into it.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import Session, select

from assistant.forms.definition import load_form
from assistant.forms.models import FormDraft, FormSubmission
from assistant.people.models import Role
from tests import factories
from tests.conftest import Client
from tests.test_forms_pages import Page

FORM = "barrier_assessment"


def browser_post(
    client: Client, page: Page, changes: dict[str, Any], action: str, **headers: str
) -> Any:
    """What a browser without JavaScript sends: the page's inputs as they stand, changed."""
    data: dict[str, Any] = {}
    for a in page.inputs:
        name, kind = a.get("name"), a.get("type")
        if not name or a.get("tag") == "select":
            continue
        if kind in ("radio", "checkbox"):
            if "checked" in a:
                data.setdefault(name, []).append(a.get("value"))
        elif a.get("value"):
            data[name] = a.get("value")
    data |= {"form_lang": page.html.get("lang", "en"), "action": action} | changes
    return client.post(f"/forms/{FORM}/fill", data=data, headers=headers)


def land(client: Client, response: Any) -> Page:
    """The page the browser ends up showing (following a redirect, as browsers do)."""
    if response.status_code == 303:
        response = client.get(response.headers["location"])
    assert response.status_code == 200, response.text
    page = Page(response.text)
    on_screen = [
        int(n)
        for n, rest in re.findall(
            r'<section class="form-page" data-page="(\d+)"([^>]*)>', page.text
        )
        if " hidden" not in rest
    ]
    assert on_screen == [page.current_page()]  # the page field is the page on screen
    return page


def page_in_url(url: str) -> int:
    return int(parse_qs(urlsplit(url).query)["page"][0])


@pytest.fixture
def pcw(client: Client, session: Session, login: Any) -> Any:
    user = factories.user(session, Role.pcw)
    login(user)
    return user


def to_enrolment_page(client: Client) -> Page:
    page = land(client, client.get(f"/forms/{FORM}/fill?lang=en"))
    page = land(client, browser_post(client, page, {"consent": "yes"}, "next"))
    person = {"person_name": "Sina", "main_language": "samoan", "interpreter_needed": "no"}
    page = land(client, browser_post(client, page, person, "next"))
    assert page.current_page() == load_form(FORM).page_index("enrolment")
    return page


def test_which_practice_is_asked_before_moving_on_without_javascript(
    client: Client, session: Session, pcw: Any
) -> None:
    page = to_enrolment_page(client)
    enrolment = page.current_page()
    assert not page.visible("q-practice_name")  # nothing chosen yet: not asked
    answers = {"enrolment_status": "enrolled_seen", "eligibility": "citizen_resident"}
    page = land(client, browser_post(client, page, answers, "next"))
    assert page.current_page() == enrolment  # stays, to ask the new question
    assert page.visible("q-practice_name")
    assert "Because of your answers, there is more on this page:" in page.text
    assert 'href="#q-practice_name">Which practice?</a>' in page.text
    assert "This question needs an answer." not in page.text
    page = land(client, browser_post(client, page, {"practice_name": "Riccarton Clinic"}, "next"))
    assert page.current_page() == enrolment + 1
    draft = session.exec(select(FormDraft)).one()
    assert json.loads(draft.answers)["practice_name"] == "Riccarton Clinic"


def test_which_practice_left_empty_is_asked_once_only(client: Client, pcw: Any) -> None:
    page = to_enrolment_page(client)
    enrolment = page.current_page()
    answers = {"enrolment_status": "enrolled_not_seen", "eligibility": "refugee"}
    page = land(client, browser_post(client, page, answers, "next"))
    assert page.current_page() == enrolment and page.visible("q-practice_name")
    page = land(client, browser_post(client, page, {}, "next"))  # seen, and left empty
    assert page.current_page() == enrolment + 1


def test_an_answer_that_asks_nothing_new_moves_straight_on(client: Client, pcw: Any) -> None:
    page = to_enrolment_page(client)
    answers = {"enrolment_status": "not_enrolled", "eligibility": "citizen_resident"}
    page = land(client, browser_post(client, page, answers, "next"))
    assert page.current_page() == load_form(FORM).page_index("enrolment") + 1
    assert not page.visible("q-practice_name")


def test_the_safety_note_is_shown_when_they_do_not_feel_safe(client: Client, pcw: Any) -> None:
    form = load_form(FORM)
    page = land(client, client.get(f"/forms/{FORM}/fill?lang=sm"))
    page = land(client, browser_post(client, page, {"consent": "yes"}, "next"))
    wellbeing = form.page_index("wellbeing")
    response = client.get(
        f"/forms/drafts/{page.value('instance_id')}?page={wellbeing}", follow_redirects=False
    )
    page = land(client, response)
    assert page.current_page() == wellbeing
    assert not page.visible("q-safety_note")
    answers = {
        "lonely": "often",
        "housing": "cold_damp",
        "food_worry": "often",
        "feels_safe": "no",
    }
    page = land(client, browser_post(client, page, answers, "next"))
    assert page.current_page() == wellbeing
    assert page.visible("q-safety_note")
    assert "valaʻau le 111" in page.text  # the note, in Samoan, before going on
    page = land(client, browser_post(client, page, {}, "next"))
    assert page.current_page() == wellbeing + 1


EVERY_ANSWER_BUT_THE_LAST_PAGE: dict[str, Any] = {
    "consent": "yes",
    "person_name": "Sina",
    "main_language": "samoan",
    "interpreter_needed": "no",
    "enrolment_status": "not_enrolled",
    "eligibility": "citizen_resident",
    "cost_difficulty": "somewhat_hard",
    "cost_stopped_visit": "yes",
    "transport_barrier": "yes",
    "lonely": "sometimes",
    "housing": "cold_damp",
    "food_worry": "rarely",
    "feels_safe": "yes",
    "knows_how_to_enrol": "no",
    "knows_after_hours": "no",
    "visit_worry": "never",
    "phone_access": "own_phone",
    "internet_access": "yes",
}


def test_sending_waits_for_a_question_the_last_page_brought_up(
    client: Client, session: Session, pcw: Any
) -> None:
    page = land(client, client.get(f"/forms/{FORM}/fill?lang=en"))
    instance_id = page.value("instance_id")
    land(client, browser_post(client, page, EVERY_ANSWER_BUT_THE_LAST_PAGE, "next"))
    last = load_form(FORM).page_index("actions")
    page = land(client, client.get(f"/forms/drafts/{instance_id}?page={last}"))
    assert page.current_page() == last and not page.visible("q-barriers_other")
    answers = {"barriers": ["other"], "actions": ["explain_system"], "follow_up_date": "2026-12-01"}
    response = browser_post(client, page, answers, "submit")
    page = land(client, response)
    assert page.current_page() == last
    assert page.visible("q-barriers_other")  # "please say what": asked, not yet an error
    assert "This question needs an answer." not in page.text
    assert session.exec(select(FormSubmission)).all() == []
    response = browser_post(client, page, {"barriers_other": "No childcare"}, "submit")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/forms/submissions/")
    stored = session.exec(select(FormSubmission)).one()
    assert json.loads(stored.answers)["barriers_other"] == "No childcare"


def test_the_language_control_says_it_changes_the_form(client: Client, pcw: Any) -> None:
    page = land(client, client.get(f"/forms/{FORM}/fill?lang=en"))
    assert '<label for="form-lang">Language of this form</label>' in page.text
    response = browser_post(client, page, {"form_lang": "sm"}, "lang")
    page = land(client, response)
    assert page.html["lang"] == "sm"
    assert "<h1>Iloiloga o faʻafitauli</h1>" in page.text


def test_moving_pages_without_javascript_puts_the_page_in_the_address(
    client: Client, pcw: Any
) -> None:
    page = land(client, client.get(f"/forms/{FORM}/fill?lang=en"))
    instance_id = page.value("instance_id")
    response = browser_post(client, page, {"consent": "yes"}, "next")
    assert response.status_code == 303
    assert response.headers["location"] == f"/forms/drafts/{instance_id}?page=1"
    page = land(client, response)
    assert page.current_page() == 1
    response = browser_post(client, page, {}, "back")
    assert response.headers["location"] == f"/forms/drafts/{instance_id}?page=0"
    assert land(client, response).current_page() == 0


def test_with_htmx_the_address_follows_the_page(client: Client, pcw: Any) -> None:
    page = land(client, client.get(f"/forms/{FORM}/fill?lang=en"))
    instance_id = page.value("instance_id")
    response = browser_post(client, page, {"consent": "yes"}, "next", **{"HX-Request": "true"})
    assert response.status_code == 200
    assert Page(response.text).current_page() == 1
    assert response.headers["HX-Replace-Url"] == f"/forms/drafts/{instance_id}?page=1"


def test_errors_stay_on_the_page_they_are_about(client: Client, pcw: Any) -> None:
    page = land(client, client.get(f"/forms/{FORM}/fill?lang=en"))
    response = browser_post(client, page, {}, "next")
    assert response.status_code == 200
    page = Page(response.text)
    assert page.current_page() == 0 and page.visible("err-consent")


@pytest.mark.parametrize(
    ("asked", "shown"),
    [("3", 3), ("0", 0), ("abc", 2), ("", 2), ("-1", 0), ("99", 7), ("1.5", 2), ("٣", 3)],
)
def test_any_page_number_in_the_address_shows_that_page_or_the_nearest(
    client: Client, session: Session, pcw: Any, asked: str, shown: int
) -> None:
    page = land(client, client.get(f"/forms/{FORM}/fill?lang=en"))
    instance_id = page.value("instance_id")
    page = land(client, browser_post(client, page, {"consent": "yes"}, "next"))
    draft = session.exec(select(FormDraft)).one()
    draft.page = 2  # where the draft was left
    session.add(draft)
    session.commit()
    response = client.get(f"/forms/drafts/{instance_id}?page={asked}")
    if response.status_code == 303:
        assert page_in_url(response.headers["location"]) == shown
        response = client.get(response.headers["location"])
    assert response.status_code == 200
    assert Page(response.text).current_page() == shown


def test_a_page_that_does_not_apply_is_never_shown_from_the_address(
    client: Client, pcw: Any
) -> None:
    page = land(client, client.get(f"/forms/{FORM}/fill?lang=en"))
    instance_id = page.value("instance_id")
    browser_post(client, page, {"consent": "no"}, "next")  # only the first page applies
    response = client.get(f"/forms/drafts/{instance_id}?page=4")
    assert response.status_code == 303
    assert response.headers["location"] == f"/forms/drafts/{instance_id}?page=0"
    assert land(client, response).current_page() == 0


def test_an_unknown_draft_is_a_clear_not_found(client: Client, pcw: Any) -> None:
    response = client.get(f"/forms/drafts/{uuid.uuid4()}?page=2")
    assert response.status_code == 404
