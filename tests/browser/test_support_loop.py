"""The whole practice-support loop in real Chromium: ask, answer, hand off, reply, see the reply."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import (
    contrast_problems,
    has_horizontal_scroll,
    overflowing_elements,
    unlabelled_controls,
)

pytestmark = pytest.mark.browser

PRACTICE_USER = "reception@riccarton.example.nz"  # Riccarton: Mere's portfolio
LIAISON = "liaison.mere@pho.example.nz"


def ask(page: Page, question: str) -> None:
    """Ask, and wait for the answer to arrive (the box is replaced for the next question)."""
    before = page.locator("#conversation > li").count()
    page.locator("#q").fill(question)
    page.locator("form.ask button[type=submit]").click()
    page.wait_for_function(
        "n => document.querySelectorAll('#conversation > li').length > n", arg=before
    )


def test_ask_answer_hand_off_reply_and_see_the_reply(
    page: Page, browser: Browser, live_server: str, login_as: Callable[..., None]
) -> None:
    marker = uuid.uuid4().hex[:8]
    unknown = f"What is the weather on Mars for our open day {marker}?"
    reply = f"Cold and dusty. Reference {marker}."

    # The practice user asks a known question and gets the answer card.
    login_as(page, PRACTICE_USER)
    page.goto("/chat")
    ask(page, "How do I submit a claim?")
    card = page.locator("#conversation article.answer").last
    expect(card.locator("h3")).to_contain_text("claim")
    expect(card).to_contain_text("Last reviewed")
    expect(page.locator("#q")).to_have_value("")  # htmx appended the turn and reset the form
    expect(page.locator("#q")).to_be_focused()  # ready for the next question
    card.get_by_role("button", name="Helpful", exact=True).click()
    expect(card.locator(".feedback")).to_contain_text("glad that helped")

    # An unknown question: the hand-off is offered with the question filled in; send it.
    ask(page, unknown)
    handoff = page.locator("form.handoff").last
    expect(handoff.locator("textarea[name=question]")).to_have_value(unknown)
    handoff.locator("textarea[name=detail]").fill("We need it for the programme.")
    # The emptied question box does not take the focus (and the typing) from the form.
    expect(handoff.locator("textarea[name=detail]")).to_be_focused()
    expect(page.locator("#q")).to_have_value("")
    handoff.get_by_role("button", name="Send to the liaison team").click()
    expect(page.locator(".sent-card").last).to_contain_text("Sent to the PHO")
    questions = page.locator("#questions")
    expect(questions).to_contain_text(unknown)
    expect(questions.locator(f"li:has-text('{marker}') .tag")).to_have_text("With the PHO")

    # The liaison sees it in the inbox, opens it and replies.
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(10_000)
    liaison = context.new_page()
    try:
        login_as(liaison, LIAISON)
        liaison.goto("/inbox?view=team")
        liaison.get_by_role("link", name=unknown).click()
        expect(liaison.locator(".question-text")).to_have_text(unknown)
        expect(liaison.locator(".detail-text")).to_have_text("We need it for the programme.")
        liaison.locator("#reply-body").fill(reply)
        liaison.get_by_role("button", name="Send reply").click()
        expect(liaison.locator(".event-reply .reply-text")).to_have_text(reply)
    finally:
        context.close()

    # The practice user sees the reply and the badge without reloading (polled every 10 s:
    # the page's clock is moved on 10 s rather than waited for).
    page.clock.fast_forward(10_000)
    expect(questions).to_contain_text(reply, timeout=20_000)
    mine = questions.locator(f"li:has-text('{marker}')")
    expect(mine.locator(".badge")).to_have_text("1 new reply")
    expect(page.locator("#unread-badge")).to_be_visible()
    questions.get_by_role("link", name=unknown).click()
    expect(page.locator(".timeline .reply-text")).to_have_text(reply)
    page.goto("/chat")
    expect(mine.locator(".tag")).to_have_text("Replied")
    expect(mine.locator(".badge")).to_have_count(0)


def test_hand_off_works_without_javascript(
    js_disabled_page: Page, login_as: Callable[..., None]
) -> None:
    page = js_disabled_page
    marker = uuid.uuid4().hex[:8]
    unknown = f"Can we borrow a telescope for the Mars open day {marker}?"
    login_as(page, PRACTICE_USER)
    page.goto("/chat")
    ask(page, unknown)
    page.wait_for_url("**/chat#m-*")
    handoff = page.locator("form.handoff").last
    expect(handoff.locator("textarea[name=question]")).to_have_value(unknown)
    handoff.get_by_role("button", name="Send to the liaison team").click()
    page.wait_for_url("**/chat#m-*")
    expect(page.locator("#questions")).to_contain_text(unknown)


@pytest.mark.parametrize(
    ("email", "path"),
    [
        (PRACTICE_USER, "/chat"),
        (LIAISON, "/inbox?view=team"),
        (LIAISON, "/inbox/drafts"),
        ("admin@pho.example.nz", "/inbox?view=team"),
    ],
)
def test_support_pages_at_360px_with_good_contrast_and_labels(
    page_as: Callable[..., Page], email: str, path: str
) -> None:
    page = page_as(email, viewport={"width": 360, "height": 740}, has_touch=True)
    page.goto(path)
    if path == "/chat":
        ask(page, "How do I submit a claim?")
        expect(page.locator("#conversation article.answer").last).to_be_visible()
        ask(page, "What is the weather on Mars?")
        expect(page.locator("form.handoff").last).to_be_visible()
    assert not has_horizontal_scroll(page), f"{path} scrolls sideways at 360px"
    assert overflowing_elements(page) == []
    assert contrast_problems(page) == []
    assert unlabelled_controls(page) == []


def test_ticket_page_at_360px(page_as: Callable[..., Page]) -> None:
    page = page_as(LIAISON, viewport={"width": 360, "height": 740}, has_touch=True)
    page.goto("/inbox?view=team")
    page.locator("table.tickets a").first.click()
    expect(page.locator("#ticket")).to_be_visible()
    assert not has_horizontal_scroll(page)
    assert overflowing_elements(page) == []
    assert contrast_problems(page) == []
    assert unlabelled_controls(page) == []
