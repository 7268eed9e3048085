"""The PCW inbox in real Chromium on a phone-sized screen: claim, text, outcome, tasks."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from playwright.sync_api import Page
from sqlmodel import Session, select

from assistant.outbox.models import OutboxMessage
from assistant.pcw.referrals import create_referral
from tests.browser.conftest import (
    contrast_problems,
    has_horizontal_scroll,
    login_as,
    overflowing_elements,
    unlabelled_controls,
)

pytestmark = pytest.mark.browser

TALA = "pcw.tala@pacifictrust.example.nz"  # a demo PCW whose pages are in Samoan


def _referral(session: Session) -> tuple[int, str]:
    phone = f"+64215{random.randint(100000, 999999)}"
    referral = create_referral(
        session,
        source="sms",
        phone=phone,
        language="sm",
        transcript="> Talofa\n< Talofa! ...\n> Ou te mana'o e vala'au mai se tasi",
        barriers=["transport"],
        reason="callback",
        urgent=True,
    )
    session.commit()
    assert referral.id is not None
    return referral.id, phone


def test_a_pcw_works_a_referral_with_htmx_on_a_phone(
    page_as: Callable[..., Page], live_session: Session
) -> None:
    rid, phone = _referral(live_session)
    page = page_as(TALA, viewport={"width": 360, "height": 740}, has_touch=True)
    page.goto("/pcw/referrals")
    page.locator(f"[data-referral='{rid}'] a").first.click()
    page.wait_for_url(f"**/pcw/referrals/{rid}")
    assert page.locator("html").get_attribute("lang") == "sm"

    page.evaluate("window.stillHere = true")
    page.locator(f"form[action='/pcw/referrals/{rid}/claim'] button").click()
    page.locator("#referral p.ok").wait_for()
    assert page.evaluate("window.stillHere") is True  # swapped in place, no page load

    page.locator("#sms-body").fill("Talofa, o Tala lenei mai le PHO.")
    page.locator(f"form[action='/pcw/referrals/{rid}/sms'] button").click()
    page.locator("li[data-kind='sms']").wait_for()
    page.locator(f"form[action='/pcw/referrals/{rid}/status'] button[value='contacted']").click()
    page.locator("li[data-kind='status']").wait_for()
    assert page.locator("button[value='contacted']").get_attribute("aria-pressed") == "true"
    assert page.evaluate("window.stillHere") is True

    live_session.expire_all()
    sent = live_session.exec(select(OutboxMessage).where(OutboxMessage.referral_id == rid)).all()
    assert [(m.to, m.body) for m in sent] == [(phone, "Talofa, o Tala lenei mai le PHO.")]
    assert unlabelled_controls(page) == []
    assert overflowing_elements(page) == []
    assert not has_horizontal_scroll(page)
    assert contrast_problems(page) == []

    page.goto("/pcw/tasks")
    task = page.locator("li[data-task]").filter(has=page.locator(f"a[href='/pcw/referrals/{rid}']"))
    task.locator("form button").click()
    task.locator("input[name='done'][value='0']").wait_for(state="attached")


def test_the_inbox_without_javascript(js_disabled_page: Page, live_session: Session) -> None:
    rid, _phone = _referral(live_session)
    page = js_disabled_page
    login_as(page, TALA)
    page.goto(f"/pcw/referrals/{rid}")
    with page.expect_navigation():
        page.locator(f"form[action='/pcw/referrals/{rid}/claim'] button").click()
    assert page.url.endswith(f"/pcw/referrals/{rid}")
    page.locator("#note-body").fill("Rang twice, left a message.")
    with page.expect_navigation():
        page.locator(f"form[action='/pcw/referrals/{rid}/notes'] button").click()
    assert page.locator("li[data-kind='note']").inner_text().endswith("Rang twice, left a message.")
