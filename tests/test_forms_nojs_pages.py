"""Forms with JavaScript off, posted the way a browser posts them: every input the page holds
(hidden ones included) goes back with the person's changes.

- a question (or note) that an answer on the page makes relevant is shown before moving on;
- the language control says what it does;
- the address bar's ``?page=`` is the page on screen, whatever number is typed into it.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import Session, select

from assistant.forms.engine.definition import load_form
from assistant.forms.models import FormDraft, FormSubmission
from assistant.people.models import Role
from tests import factories
from tests.conftest import Client
from tests.form_fill import current_page, on_screen, visible
from tests.html import Page, parse

FORM = "barrier_assessment"


def browser_post(
    client: Client, page: Page, changes: dict[str, Any], action: str, **headers: str
) -> Any:
    """What a browser without JavaScript sends: the form's fields as they stand, changed."""
    data: dict[str, Any] = {}
    for name, value in page.find("form#fill-form").form_data():
        data.setdefault(name, []).append(value)
    data = {name: values[0] if len(values) == 1 else values for name, values in data.items()}
    data |= {"action": action} | changes
    return client.post(f"/forms/{FORM}/fill", data=data, headers=headers)


def land(client: Client, response: Any) -> Page:
    """The page the browser ends up showing (following a redirect, as browsers do)."""
    if response.status_code == 303:
        response = client.get(response.headers["location"])
    assert response.status_code == 200, response.text
    page = parse(response.text)
    assert on_screen(page) == [current_page(page)]  # the page field is the page on screen
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
    assert current_page(page) == load_form(FORM).page_index("enrolment")
    return page


def test_which_practice_is_asked_before_moving_on_without_javascript(
    client: Client, session: Session, pcw: Any
) -> None:
    page = to_enrolment_page(client)
    enrolment = current_page(page)
    assert not visible(page, "q-practice_name")  # nothing chosen yet: not asked
    answers = {"enrolment_status": "enrolled_seen", "eligibility": "citizen_resident"}
    page = land(client, browser_post(client, page, answers, "next"))
    assert current_page(page) == enrolment  # stays, to ask the new question
    assert visible(page, "q-practice_name")
    assert "Because of your answers, there is more on this page:" in page.text()
    assert page.find('a[href="#q-practice_name"]').text() == "Which practice?"
    assert "This question needs an answer." not in page.text()
    page = land(client, browser_post(client, page, {"practice_name": "Riccarton Clinic"}, "next"))
    assert current_page(page) == enrolment + 1
    draft = session.exec(select(FormDraft)).one()
    assert json.loads(draft.answers)["practice_name"] == "Riccarton Clinic"


def test_which_practice_left_empty_is_asked_once_only(client: Client, pcw: Any) -> None:
    page = to_enrolment_page(client)
    enrolment = current_page(page)
    answers = {"enrolment_status": "enrolled_not_seen", "eligibility": "refugee"}
    page = land(client, browser_post(client, page, answers, "next"))
    assert current_page(page) == enrolment and visible(page, "q-practice_name")
    page = land(client, browser_post(client, page, {}, "next"))  # seen, and left empty
    assert current_page(page) == enrolment + 1


def test_an_answer_that_asks_nothing_new_moves_straight_on(client: Client, pcw: Any) -> None:
    page = to_enrolment_page(client)
    answers = {"enrolment_status": "not_enrolled", "eligibility": "citizen_resident"}
    page = land(client, browser_post(client, page, answers, "next"))
    assert current_page(page) == load_form(FORM).page_index("enrolment") + 1
    assert not visible(page, "q-practice_name")


def test_the_safety_note_is_shown_when_they_do_not_feel_safe(client: Client, pcw: Any) -> None:
    form = load_form(FORM)
    page = land(client, client.get(f"/forms/{FORM}/fill?lang=sm"))
    page = land(client, browser_post(client, page, {"consent": "yes"}, "next"))
    wellbeing = form.page_index("wellbeing")
    response = client.get(
        f"/forms/drafts/{page.field('instance_id').value()}?page={wellbeing}",
        follow_redirects=False,
    )
    page = land(client, response)
    assert current_page(page) == wellbeing
    assert not visible(page, "q-safety_note")
    answers = {
        "lonely": "often",
        "housing": "cold_damp",
        "food_worry": "often",
        "feels_safe": "no",
    }
    page = land(client, browser_post(client, page, answers, "next"))
    assert current_page(page) == wellbeing
    assert visible(page, "q-safety_note")
    assert "valaʻau le 111" in page.text()  # the note, in Samoan, before going on
    page = land(client, browser_post(client, page, {}, "next"))
    assert current_page(page) == wellbeing + 1


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
    instance_id = page.field("instance_id").value()
    land(client, browser_post(client, page, EVERY_ANSWER_BUT_THE_LAST_PAGE, "next"))
    last = load_form(FORM).page_index("actions")
    page = land(client, client.get(f"/forms/drafts/{instance_id}?page={last}"))
    assert current_page(page) == last and not visible(page, "q-barriers_other")
    answers = {"barriers": ["other"], "actions": ["explain_system"], "follow_up_date": "2026-12-01"}
    response = browser_post(client, page, answers, "submit")
    page = land(client, response)
    assert current_page(page) == last
    assert visible(page, "q-barriers_other")  # "please say what": asked, not yet an error
    assert "This question needs an answer." not in page.text()
    assert session.exec(select(FormSubmission)).all() == []
    response = browser_post(client, page, {"barriers_other": "No childcare"}, "submit")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/forms/submissions/")
    stored = session.exec(select(FormSubmission)).one()
    assert json.loads(stored.answers)["barriers_other"] == "No childcare"


def test_the_language_control_says_it_changes_the_form(client: Client, pcw: Any) -> None:
    page = land(client, client.get(f"/forms/{FORM}/fill?lang=en"))
    assert page.find('label[for="form-lang"]').text() == "Language of this form"
    response = browser_post(client, page, {"form_lang": "sm"}, "lang")
    page = land(client, response)
    assert page.lang == "sm"
    assert page.find("h1").text() == "Iloiloga o faʻafitauli"


def test_moving_pages_without_javascript_puts_the_page_in_the_address(
    client: Client, pcw: Any
) -> None:
    page = land(client, client.get(f"/forms/{FORM}/fill?lang=en"))
    instance_id = page.field("instance_id").value()
    response = browser_post(client, page, {"consent": "yes"}, "next")
    assert response.status_code == 303
    assert response.headers["location"] == f"/forms/drafts/{instance_id}?page=1"
    page = land(client, response)
    assert current_page(page) == 1
    response = browser_post(client, page, {}, "back")
    assert response.headers["location"] == f"/forms/drafts/{instance_id}?page=0"
    assert current_page(land(client, response)) == 0


def test_with_htmx_the_address_follows_the_page(client: Client, pcw: Any) -> None:
    page = land(client, client.get(f"/forms/{FORM}/fill?lang=en"))
    instance_id = page.field("instance_id").value()
    response = browser_post(client, page, {"consent": "yes"}, "next", **{"HX-Request": "true"})
    assert response.status_code == 200
    assert current_page(parse(response.text)) == 1
    assert response.headers["HX-Replace-Url"] == f"/forms/drafts/{instance_id}?page=1"


def test_errors_stay_on_the_page_they_are_about(client: Client, pcw: Any) -> None:
    page = land(client, client.get(f"/forms/{FORM}/fill?lang=en"))
    response = browser_post(client, page, {}, "next")
    assert response.status_code == 200
    page = parse(response.text)
    assert current_page(page) == 0 and visible(page, "err-consent")


@pytest.mark.parametrize(
    ("asked", "shown"),
    [("3", 3), ("0", 0), ("abc", 2), ("", 2), ("-1", 0), ("99", 7), ("1.5", 2), ("٣", 3)],
)
def test_any_page_number_in_the_address_shows_that_page_or_the_nearest(
    client: Client, session: Session, pcw: Any, asked: str, shown: int
) -> None:
    page = land(client, client.get(f"/forms/{FORM}/fill?lang=en"))
    instance_id = page.field("instance_id").value()
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
    assert current_page(parse(response.text)) == shown


def test_a_page_that_does_not_apply_is_never_shown_from_the_address(
    client: Client, pcw: Any
) -> None:
    page = land(client, client.get(f"/forms/{FORM}/fill?lang=en"))
    instance_id = page.field("instance_id").value()
    browser_post(client, page, {"consent": "no"}, "next")  # only the first page applies
    response = client.get(f"/forms/drafts/{instance_id}?page=4")
    assert response.status_code == 303
    assert response.headers["location"] == f"/forms/drafts/{instance_id}?page=0"
    assert current_page(land(client, response)) == 0


def test_an_unknown_draft_is_a_clear_not_found(client: Client, pcw: Any) -> None:
    response = client.get(f"/forms/drafts/{uuid.uuid4()}?page=2")
    assert response.status_code == 404
