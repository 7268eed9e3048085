"""The flag-a-problem form in Chromium with JavaScript turned off: plain HTML posts."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from assistant.forms.models import FormSubmission
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
