"""The forms in Chromium with JavaScript turned off: plain HTML posts."""

from __future__ import annotations

import json
import re

from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from assistant.forms.models import FormDraft, FormSubmission
from assistant.support.models import Ticket
from tests.browser.conftest import login_as

MANAGER = "manager@papanui.example.nz"


def test_flag_a_problem_without_javascript(js_disabled_page: Page, live_session: Session) -> None:
    page = js_disabled_page
    login_as(page, MANAGER)
    page.goto("/forms")
    page.locator('a[href="/forms/flag_problem/fill"]').click()
    expect(page.locator('section.form-page[data-page="0"]')).to_be_visible()
    expect(page.locator('section.form-page[data-page="1"]')).to_be_hidden()
    page.locator("button[value=next]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator("#err-provider")).to_have_text("This question needs an answer.")
    page.locator('input[name=provider][value="outpatients"]').check()
    page.locator('input[name=work_type][value="prescriptions"]').check()
    page.locator("#in-event_date").fill("2026-10-30")
    page.locator("button[value=next]").click()
    expect(page.locator('section.form-page[data-page="1"]')).to_be_visible()
    page.locator("#in-description").fill("Outpatients asked us to start a new medicine.")
    page.locator('input[name=funding_offered][value="no"]').check()
    page.locator('input[name=contact_ok][value="yes"]').check()
    instance_id = page.locator("input[name=instance_id]").input_value()
    page.locator("button[value=submit]").click()
    expect(page.get_by_text("Sent. Thank you.")).to_be_visible()
    expect(page.get_by_text("Hospital outpatient clinic")).to_be_visible()
    live_session.expire_all()
    rows = live_session.exec(
        select(FormSubmission).where(FormSubmission.instance_id == instance_id)
    ).all()
    assert len(rows) == 1
    tickets = live_session.exec(
        select(Ticket).where(Ticket.question.contains("Hospital outpatient clinic"))  # type: ignore[attr-defined]
    ).all()
    assert tickets and all(t.topic_id == "workload-transfer" for t in tickets)


TALA = "pcw.tala@pacifictrust.example.nz"


def expect_page_in_address(page: Page, index: int) -> None:
    expect(page).to_have_url(re.compile(rf"/forms/drafts/[0-9a-f-]{{36}}\?page={index}$"))


def test_barrier_assessment_asks_which_practice_without_javascript(
    js_disabled_page: Page, live_session: Session
) -> None:
    page = js_disabled_page
    login_as(page, TALA)
    page.goto("/forms/barrier_assessment/fill?lang=en")
    page.locator('input[name=consent][value="yes"]').check()
    page.locator("button[value=next]").click()
    expect_page_in_address(page, 1)
    expect(page.locator('section.form-page[data-page="1"]')).to_be_visible()
    page.locator("#in-person_name").fill("Sefo")
    page.locator('input[name=main_language][value="samoan"]').check()
    page.locator('input[name=interpreter_needed][value="no"]').check()
    page.locator("button[value=next]").click()
    expect_page_in_address(page, 2)
    which = page.get_by_label("Which practice?")
    expect(which).to_be_hidden()
    page.locator('input[name=enrolment_status][value="enrolled_seen"]').check()
    page.locator('input[name=eligibility][value="citizen_resident"]').check()
    page.locator("button[value=next]").click()
    # Still on the enrolment page: the question the answer brought up is asked first.
    expect(page.locator('section.form-page[data-page="2"]')).to_be_visible()
    expect(page.get_by_text("Because of your answers, there is more on this page:")).to_be_visible()
    expect(which).to_be_visible()
    which.fill("Riccarton Medical Centre")
    page.locator("button[value=next]").click()
    expect(page.locator('section.form-page[data-page="3"]')).to_be_visible()
    expect_page_in_address(page, 3)
    instance_id = page.locator("input[name=instance_id]").input_value()
    live_session.expire_all()
    draft = live_session.exec(select(FormDraft).where(FormDraft.instance_id == instance_id)).one()
    assert json.loads(draft.answers)["practice_name"] == "Riccarton Medical Centre"
    # The language control changes the whole form, and is named so.
    page.get_by_label("Language of this form").select_option("ar")
    page.locator("button[value=lang]").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("h1")).to_have_text("تقييم العوائق")
    expect(page.locator('section.form-page[data-page="3"]')).to_be_visible()
    expect_page_in_address(page, 3)
    page.reload()  # the address brings back the page on screen
    expect(page.locator('section.form-page[data-page="3"]')).to_be_visible()
