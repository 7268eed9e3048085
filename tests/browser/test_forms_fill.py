"""Filling the barrier assessment on a 360 px phone in real Chromium: Samoan, Arabic
(right-to-left), switching language mid-form, and sending without signal."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from typing import Any

from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from assistant.forms.models import FormDraft, FormSubmission
from tests.browser.conftest import (
    contrast_problems,
    has_horizontal_scroll,
    login_as,
    unlabelled_controls,
)
from tests.browser.form_steps import (
    answer_about_the_person,
    choose,
    goto_page,
    next_page,
    resume_from_the_forms_list,
)

TALA = "pcw.tala@pacifictrust.example.nz"  # works in Samoan
AMINA = "pcw.amina@refugeecentre.example.nz"  # works in Arabic


def fill_barrier_assessment(page: Page, *, name: str) -> str:
    """Answer every page (consent given) and stop on the last page; returns the instance id."""
    goto_page(page, 0)
    choose(page, "consent", "yes")
    next_page(page, 1)
    page.locator("#in-person_name").fill(name)
    choose(page, "main_language", "samoan")
    choose(page, "interpreter_needed", "no")
    next_page(page, 2)
    choose(page, "enrolment_status", "not_enrolled")
    choose(page, "eligibility", "citizen_resident")
    next_page(page, 3)
    choose(page, "cost_difficulty", "somewhat_hard")
    choose(page, "cost_stopped_visit", "yes")
    choose(page, "transport_barrier", "yes")
    next_page(page, 4)
    choose(page, "lonely", "sometimes")
    choose(page, "housing", "cold_damp")
    choose(page, "food_worry", "rarely")
    choose(page, "feels_safe", "yes")
    next_page(page, 5)
    choose(page, "knows_how_to_enrol", "no")
    choose(page, "knows_after_hours", "no")
    choose(page, "visit_worry", "never")
    choose(page, "phone_access", "own_phone")
    choose(page, "internet_access", "yes")
    next_page(page, 6)
    page.locator('button[value="add:household_members"]').click()
    page.locator('[name="household_members.0.member_name"]').fill("Losa")
    choose(page, "household_members.0.member_relationship", "child")
    page.locator('[name="household_members.0.member_age"]').fill("6")
    choose(page, "household_members.0.member_enrolled", "unsure")
    next_page(page, 7)
    choose(page, "barriers", "cost")
    choose(page, "barriers", "transport")
    choose(page, "actions", "transport_referral")
    follow_up = (dt.date.today() + dt.timedelta(days=7)).isoformat()
    page.locator("#in-follow_up_date").fill(follow_up)
    expect(page.locator("button[value=submit]")).to_be_visible()
    return str(page.locator("input[name=instance_id]").input_value())


def stored(session: Session, instance_id: str) -> list[FormSubmission]:
    session.expire_all()
    return list(
        session.exec(select(FormSubmission).where(FormSubmission.instance_id == instance_id))
    )


def test_barrier_assessment_in_samoan_at_360px(mobile_page: Page, live_session: Session) -> None:
    page = mobile_page
    login_as(page, TALA)
    page.goto("/forms")
    page.locator('a[href="/forms/barrier_assessment/fill"]').click()
    expect(page.locator("html")).to_have_attribute("lang", "sm")
    expect(page.locator("h1")).to_have_text("Iloiloga o faʻafitauli")
    # Validation on the page, in Samoan, before moving on
    page.locator("button[value=next]").click()
    expect(page.locator("#err-consent")).to_have_text("E manaʻomia se tali i lenei fesili.")
    goto_page(page, 0)
    assert not has_horizontal_scroll(page)
    assert unlabelled_controls(page) == []
    assert contrast_problems(page) == []
    option = page.locator("label.opt").first.bounding_box()
    assert option is not None and option["height"] >= 44  # a comfortable touch target
    instance_id = fill_barrier_assessment(page, name="Sina Toleafoa")
    assert not has_horizontal_scroll(page)
    page.locator("button[value=submit]").click()
    page.wait_for_url("**/forms/submissions/*")
    expect(page.get_by_text("Ua lafoina. Faafetai.")).to_be_visible()
    rows = stored(live_session, instance_id)
    assert len(rows) == 1
    answers = json.loads(rows[0].answers)
    assert rows[0].lang == "sm" and rows[0].consent
    assert answers["household_members"][0]["member_name"] == "Losa"
    assert answers["household_size"] == 2


def test_barrier_assessment_in_arabic_is_right_to_left(
    mobile_page: Page, live_session: Session
) -> None:
    page = mobile_page
    login_as(page, AMINA)
    page.goto("/forms/barrier_assessment/fill")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("h1")).to_have_text("تقييم العوائق")
    goto_page(page, 0)
    choose(page, "consent", "yes")
    next_page(page, 1)
    # right to left: the first button (Back) sits on the right of Next
    back = page.locator("button[value=back]").bounding_box()
    forward = page.locator("button[value=next]").bounding_box()
    assert back is not None and forward is not None
    assert back["x"] > forward["x"]
    page.locator("button[value=back]").click()
    goto_page(page, 0)
    instance_id = fill_barrier_assessment(page, name="أمل")
    assert not has_horizontal_scroll(page)
    page.locator("button[value=submit]").click()
    page.wait_for_url("**/forms/submissions/*")
    expect(page.get_by_text("تم الإرسال. شكرًا لك.")).to_be_visible()
    rows = stored(live_session, instance_id)
    assert len(rows) == 1 and rows[0].lang == "ar"
    assert json.loads(rows[0].answers)["person_name"] == "أمل"


def test_switching_language_mid_form_keeps_every_answer(mobile_page: Page) -> None:
    page = mobile_page
    login_as(page, TALA)
    page.goto("/forms/barrier_assessment/fill")
    goto_page(page, 0)
    choose(page, "consent", "yes")
    next_page(page, 1)
    page.locator("#in-person_name").fill("Ioane")
    choose(page, "main_language", "tongan")
    page.locator("#form-lang").select_option("ar")
    page.locator("button[value=lang]").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    goto_page(page, 1)
    expect(page.locator("#in-person_name")).to_have_value("Ioane")
    expect(page.locator('input[name=main_language][value="tongan"]')).to_be_checked()
    page.locator("#form-lang").select_option("to")
    page.locator("button[value=lang]").click()
    expect(page.locator("html")).to_have_attribute("lang", "to")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    expect(page.locator("#in-person_name")).to_have_value("Ioane")
    page.locator("button[value=back]").click()
    goto_page(page, 0)
    expect(page.locator('input[name=consent][value="yes"]')).to_be_checked()


def test_sent_without_signal_goes_exactly_once_when_signal_returns(
    mobile_page: Page, live_session: Session
) -> None:
    page = mobile_page
    login_as(page, TALA)
    page.goto("/forms")  # registers the service worker
    page.evaluate("async () => { await navigator.serviceWorker.ready; }")
    page.reload()  # now through the service worker, which keeps the shell
    page.wait_for_load_state("networkidle")
    page.goto("/forms/barrier_assessment/fill")
    goto_page(page, 0)
    choose(page, "consent", "yes")
    next_page(page, 1)
    context: Any = page.context
    context.set_offline(True)
    # Without signal the pages still turn, on the phone
    page.locator("#in-person_name").fill("Malia")
    choose(page, "main_language", "samoan")
    choose(page, "interpreter_needed", "yes")
    next_page(page, 2)
    expect(page.locator("#send-status")).to_be_visible()
    context.set_offline(False)
    page.locator("button[value=back]").click()
    goto_page(page, 1)
    page.locator("button[value=next]").click()  # online again: saved as a draft
    goto_page(page, 2)
    context.set_offline(True)
    instance_id = page.locator("input[name=instance_id]").input_value()
    # finish the rest offline
    choose(page, "enrolment_status", "enrolled_not_seen")
    choose(page, "eligibility", "refugee")
    next_page(page, 3)
    for name, value in (
        ("cost_difficulty", "very_hard"),
        ("cost_stopped_visit", "no"),
        ("transport_barrier", "no"),
    ):
        choose(page, name, value)
    next_page(page, 4)
    for name, value in (
        ("lonely", "often"),
        ("housing", "overcrowded"),
        ("food_worry", "sometimes"),
        ("feels_safe", "yes"),
    ):
        choose(page, name, value)
    next_page(page, 5)
    for name, value in (
        ("knows_how_to_enrol", "yes"),
        ("knows_after_hours", "yes"),
        ("visit_worry", "rarely"),
        ("phone_access", "shared_phone"),
        ("internet_access", "no"),
    ):
        choose(page, name, value)
    next_page(page, 6)
    next_page(page, 7)
    choose(page, "barriers", "isolation")
    choose(page, "actions", "explain_system")
    page.locator("#in-follow_up_date").fill((dt.date.today() + dt.timedelta(days=3)).isoformat())
    page.locator("button[value=submit]").click()
    status = page.locator("#send-status")
    expect(status).to_contain_text("faatali")  # "waiting to send", in Samoan
    outbox = page.evaluate("() => JSON.parse(localStorage.getItem('forms.outbox') || '[]')")
    assert [item["instance_id"] for item in outbox] == [instance_id]
    page.wait_for_timeout(1500)  # a retry or two while still offline
    assert stored(live_session, instance_id) == []
    # The forms page opens from the phone's cache and lists what waits to be sent
    page.goto("/forms")
    outbox = page.locator("#outbox")
    expect(outbox).to_be_visible()
    expect(outbox.locator("li")).to_have_count(1)
    expect(outbox.locator("li")).to_contain_text("O loʻo faatali e lafo")
    context.set_offline(False)
    expect(outbox).to_be_hidden(timeout=20_000)
    assert page.evaluate("() => localStorage.getItem('forms.outbox')") == "[]"
    rows = stored(live_session, instance_id)
    assert len(rows) == 1
    answers = json.loads(rows[0].answers)
    assert answers["person_name"] == "Malia"
    assert answers["barriers"] == ["isolation"]


def test_signing_out_clears_the_phones_stored_forms(mobile_page: Page) -> None:
    page = mobile_page
    login_as(page, TALA)
    page.goto("/forms")
    page.evaluate("() => localStorage.setItem('forms.draft.x', '{}')")
    menu = page.locator("details.menu > summary")
    if menu.count() and menu.is_visible():  # on a phone, sign-out sits behind "Menu"
        menu.click()
    page.locator("form[action='/logout'] button").click()
    page.wait_for_url("**/login")
    keys = page.evaluate("() => Object.keys(localStorage)")
    assert [k for k in keys if k.startswith("forms.")] == []


def test_a_queued_form_is_kept_when_the_server_does_not_confirm(
    mobile_page: Page, live_session: Session
) -> None:
    """Signed out elsewhere (the session ended): the send is redirected, so it stays queued."""
    from assistant.security.sessions import SESSION_COOKIE

    page = mobile_page
    login_as(page, TALA)
    page.goto("/forms")
    instance_id = str(uuid.uuid4())
    item = {
        "instance_id": instance_id,
        "form_id": "barrier_assessment",
        "title": "Iloiloga o faʻafitauli",
        "saved": 0,
        "state": "waiting",
        "attempts": 0,
        "next": 9e15,  # not due yet: nothing is sent while still signed in
        "payload": {
            "instance_id": instance_id,
            "form_version": "1",
            "lang": "sm",
            "answers": {"consent": "no"},
        },
    }
    page.evaluate("(item) => localStorage.setItem('forms.outbox', JSON.stringify([item]))", item)
    page.reload()
    expect(page.locator("#outbox li")).to_have_count(1)
    page.context.clear_cookies(name=SESSION_COOKIE)
    page.locator("[data-send-now]").click()
    page.wait_for_function(
        "() => (JSON.parse(localStorage.getItem('forms.outbox'))[0] || {}).attempts >= 1"
    )
    assert stored(live_session, instance_id) == []
    expect(page.locator("#outbox li")).to_have_count(1)


def test_a_form_started_without_signal_can_be_reopened_from_the_phone(
    mobile_page: Page,
) -> None:
    page = mobile_page
    login_as(page, TALA)
    page.goto("/forms")
    page.evaluate("async () => { await navigator.serviceWorker.ready; }")
    page.reload()
    page.wait_for_load_state("networkidle")
    page.goto("/forms/barrier_assessment/fill")
    goto_page(page, 0)
    choose(page, "consent", "yes")
    next_page(page, 1)
    instance_id = page.locator("input[name=instance_id]").input_value()
    context: Any = page.context
    context.set_offline(True)
    assert answer_about_the_person(page, "Tavita") == instance_id
    # the tab is closed; later, still without signal, the forms page opens from the cache
    resume_from_the_forms_list(page, instance_id=instance_id, name="Tavita")
    expect(page.locator('input[name=consent][value="yes"]')).to_be_checked()
    context.set_offline(False)
    page.locator("button[value=back]").click()  # online again: the server saves the draft
    goto_page(page, 1)
    expect(page.locator("#in-person_name")).to_have_value("Tavita")
    assert page.evaluate(f"() => localStorage.getItem('forms.draft.{instance_id}')") is None


def test_with_javascript_which_practice_appears_at_once_and_the_address_follows(
    mobile_page: Page, live_session: Session
) -> None:
    page = mobile_page
    login_as(page, TALA)
    page.goto("/forms/barrier_assessment/fill?lang=en")
    goto_page(page, 0)
    choose(page, "consent", "yes")
    next_page(page, 1)
    expect(page).to_have_url(re.compile(r"/forms/drafts/[0-9a-f-]{36}\?page=1$"))
    page.locator("#in-person_name").fill("Lagi")
    choose(page, "main_language", "samoan")
    choose(page, "interpreter_needed", "no")
    next_page(page, 2)
    which = page.get_by_label("Which practice?")
    expect(which).to_be_hidden()
    choose(page, "enrolment_status", "enrolled_not_seen")
    expect(which).to_be_visible()  # shown as soon as the answer is chosen
    which.fill("Linwood Family Doctors")
    choose(page, "eligibility", "citizen_resident")
    next_page(page, 3)  # seen already: no second stop
    expect(page).to_have_url(re.compile(r"\?page=3$"))
    instance_id = page.locator("input[name=instance_id]").input_value()
    live_session.expire_all()
    draft = live_session.exec(select(FormDraft).where(FormDraft.instance_id == instance_id)).one()
    assert json.loads(draft.answers)["practice_name"] == "Linwood Family Doctors"
    assert draft.page == 3
