"""Keyboard focus after htmx replaces part of a page: to the error it brought, or to the new
content when the focused element was replaced (never lost to the page's body)."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

RECEPTION = "reception@riccarton.example.nz"


def _open_request(page: Page) -> None:
    page.goto("/practice/new-patients")
    page.locator("[data-request][data-status='sent'] a").first.click()
    expect(page.locator("#request")).to_be_visible()


def test_an_answer_sent_empty_puts_the_focus_on_the_error_summary(
    page_as: Callable[..., Page],
) -> None:
    page = page_as(RECEPTION)
    _open_request(page)
    page.locator("#book-message").fill("")
    page.get_by_role("button", name="Accept and send").focus()
    page.keyboard.press("Enter")
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()


def test_a_question_sent_to_the_liaison_team_keeps_the_focus_on_the_page(
    page_as: Callable[..., Page],
) -> None:
    page = page_as(RECEPTION)
    page.goto("/chat")
    page.locator("#q").fill("can someone look at the wifi in our nurses room please")
    page.locator("#q").press("Enter")
    send = page.get_by_role("button", name="Send to the liaison team").last
    send.focus()
    page.keyboard.press("Enter")
    expect(page.locator("p.sent").last).to_be_visible()
    # focus.js moves the focus after htmx settles: wait for it (a timeout fails the test)
    page.wait_for_function(
        "document.activeElement !== null && document.activeElement.closest('.sent-card') !== null"
    )
