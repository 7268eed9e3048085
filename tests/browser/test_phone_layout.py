"""Phones (360x740): a compact header on every page, and a chat that keeps the question box
and the latest exchange on screen however long the conversation grows."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect
from sqlmodel import Session, select

from assistant.people.models import Practice, Role
from tests import factories
from tests.browser.conftest import (
    ADMIN_EMAIL,
    has_horizontal_scroll,
    login_as,
)

pytestmark = pytest.mark.browser

PHONE_SIZE: ViewportSize = {"width": 360, "height": 740}
PHONE: dict[str, Any] = {"viewport": PHONE_SIZE, "has_touch": True}
HEADER_MAX = 100  # px of a 740 px screen

# Questions the knowledge base answers (practice audience), one answer card each.
QUESTIONS = [
    "How do I submit a claim?",
    "how is our capitation calculated",
    "whats funded in the diabetes annual review",
    "how do we book an interpreter for a consult",
    "when do we get paid this month",
    "when will we get our quarterly report",
    "how do i refer a pt to the stop smoking service",
    "any training for new receptionists",
]


# The header's own elements sticking out sideways (the page's content has its own tests).
_HEADER_OVERFLOW_JS = """
() => [...document.querySelectorAll('header.top *')]
  .filter((el) => { const b = el.getBoundingClientRect();
    const w = document.documentElement.clientWidth;
    return b.width > 0 && (b.left < -1 || b.right > w + 1); })
  .map((el) => el.tagName + (el.id ? '#' + el.id : '') + (el.className ? '.' + el.className : ''))
"""


def header_overflow(page: Page) -> list[str]:
    return list(page.evaluate(_HEADER_OVERFLOW_JS))


def header_height(page: Page) -> float:
    box = page.locator("header.top").bounding_box()
    assert box is not None
    return float(box["height"])


@pytest.mark.parametrize(
    ("email", "path"),
    [
        ("reception@riccarton.example.nz", "/chat"),
        ("liaison.mere@pho.example.nz", "/inbox"),
        ("coordinator@pho.example.nz", "/dashboard"),
        ("pcw.tala@pacifictrust.example.nz", "/forms"),
        (ADMIN_EMAIL, "/"),
        (ADMIN_EMAIL, "/admin/users"),
    ],
)
def test_header_is_compact_on_a_phone(page_as: Callable[..., Page], email: str, path: str) -> None:
    page = page_as(email, **PHONE)
    page.goto(path)
    assert header_height(page) < HEADER_MAX
    # The links are one tap away, behind the menu.
    menu = page.locator("header.top details.menu")
    expect(menu.locator("nav")).to_be_hidden()
    menu.locator("summary").click()
    expect(menu.locator("nav a").first).to_be_visible()
    expect(menu.locator("form.logout button")).to_be_visible()
    expect(menu.locator("#lang-select")).to_be_visible()
    assert not has_horizontal_scroll(page)
    assert header_overflow(page) == []


def test_header_is_compact_when_signed_out(mobile_page: Page) -> None:
    mobile_page.goto("/login")
    assert header_height(mobile_page) < HEADER_MAX
    expect(mobile_page.get_by_label("Language")).to_be_visible()  # not hidden behind a menu
    assert header_overflow(mobile_page) == []


def test_the_menu_opens_without_javascript(browser: Browser, live_server: str) -> None:
    context = browser.new_context(
        base_url=live_server, java_script_enabled=False, viewport=PHONE_SIZE, has_touch=True
    )
    try:
        page = context.new_page()
        login_as(page, ADMIN_EMAIL)
        assert header_height(page) < HEADER_MAX
        page.locator("details.menu summary").click()
        page.locator("details.menu nav").get_by_role("link", name="Administration").click()
        page.wait_for_url("**/admin")
    finally:
        context.close()


def test_wide_screens_show_the_links_without_a_menu(page_as: Callable[..., Page]) -> None:
    page = page_as(ADMIN_EMAIL, viewport={"width": 1280, "height": 800})
    page.goto("/")
    expect(page.locator("header.top summary")).to_be_hidden()
    expect(page.locator("header.top nav a").first).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert header_height(page) < HEADER_MAX


def new_practice_user(live_session: Session) -> str:
    practice = live_session.exec(
        select(Practice).where(Practice.name.startswith("Riccarton"))
    ).first()
    assert practice is not None
    user = factories.user(
        live_session,
        Role.practice_staff,
        practice_id=practice.id,
        email=f"phone-{uuid.uuid4().hex[:10]}@riccarton.example.nz",
    )
    return user.email


def ask(page: Page, question: str, asked_before: int) -> None:
    page.locator("#q").fill(question)
    page.locator("form.ask button[type=submit]").click()
    expect(page.locator("#conversation .msg-user")).to_have_count(asked_before + 1)
    expect(page.locator("#conversation .msg-bot")).to_have_count(asked_before + 1)


def expect_input_and_latest_exchange_on_screen(page: Page) -> None:
    expect(page.locator("#q")).to_be_in_viewport()
    expect(page.locator("form.ask button[type=submit]")).to_be_in_viewport()
    expect(page.locator("#conversation .msg-user").last).to_be_in_viewport()
    expect(page.locator("#conversation .msg-bot").last.locator("h3")).to_be_in_viewport()


def test_chat_on_a_phone_keeps_the_input_and_latest_exchange_in_view(
    page_as: Callable[..., Page], live_session: Session
) -> None:
    page = page_as(new_practice_user(live_session), password=factories.PASSWORD, **PHONE)
    page.goto("/chat")
    for n, question in enumerate(QUESTIONS):
        ask(page, question, n)
        expect(
            page.locator("#conversation .msg-bot").last.locator("article.answer")
        ).to_be_visible()
        expect_input_and_latest_exchange_on_screen(page)
    assert not has_horizontal_scroll(page)
    # The whole conversation is still there, above, in its own scrolling area rather than an
    # endless page.
    area = page.locator(".chat-scroll")
    box = area.bounding_box()
    assert box is not None and box["height"] < PHONE_SIZE["height"] - 200
    assert area.evaluate("(el) => el.scrollHeight > 3 * el.clientHeight")
    first = page.locator("#conversation .msg-user").first
    expect(first).to_have_text(QUESTIONS[0])
    first.scroll_into_view_if_needed()
    expect(first).to_be_in_viewport()

    # Coming back to the chat later shows the same, without scrolling.
    page.goto("/chat")
    expect_input_and_latest_exchange_on_screen(page)
    assert page.evaluate("window.scrollY") == 0


def test_chat_on_a_phone_without_javascript(
    browser: Browser, live_server: str, live_session: Session
) -> None:
    email = new_practice_user(live_session)
    context = browser.new_context(
        base_url=live_server, java_script_enabled=False, viewport=PHONE_SIZE, has_touch=True
    )
    try:
        page = context.new_page()
        login_as(page, email, factories.PASSWORD)
        page.goto("/chat")
        for n, question in enumerate(QUESTIONS):
            with page.expect_navigation():
                page.locator("#q").fill(question)
                page.locator("form.ask button[type=submit]").click()
            page.wait_for_url("**/chat#m-*")
            expect(page.locator("#conversation .msg-user")).to_have_count(n + 1)
            # The answer the page jumps to, with the question box still on screen.
            expect_input_and_latest_exchange_on_screen(page)
        page.goto("/chat")
        expect(page.locator("#q")).to_be_in_viewport()
        expect(page.locator("#conversation .msg-bot").last).to_be_in_viewport()
    finally:
        context.close()
