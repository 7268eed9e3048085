"""Signing in, languages, small screens and contrast, in real Chromium."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import Browser, Page
from sqlmodel import Session

from assistant.people.models import Role
from tests import factories
from tests.browser.conftest import (
    ADMIN_EMAIL,
    contrast_problems,
    has_horizontal_scroll,
    login_as,
    overflowing_elements,
    unlabelled_controls,
)

pytestmark = pytest.mark.browser


def test_sign_in_and_out(page: Page) -> None:
    login_as(page, ADMIN_EMAIL)
    # An admin works the inbox: signing in lands there.
    assert page.url.endswith("/inbox")
    assert page.get_by_role("heading", level=1).inner_text() == "Inbox"
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    page.goto("/")
    assert "/login" in page.url


def test_wrong_password_shows_a_clear_message_and_keeps_the_email(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill("reception@riccarton.example.nz")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert")
    assert "do not match" in alert.inner_text()
    assert page.get_by_label("Email").input_value() == "reception@riccarton.example.nz"


def test_switching_to_arabic_renders_right_to_left_and_sticks(
    page: Page, browser: Browser, live_server: str, live_session: Session
) -> None:
    user = factories.user(live_session, Role.liaison, email=f"rtl-{uuid.uuid4().hex}@example.nz")
    login_as(page, user.email, factories.PASSWORD)
    assert page.locator("html").get_attribute("dir") == "ltr"
    with page.expect_navigation():  # with JavaScript on, choosing applies at once
        page.get_by_label("Language").select_option("ar")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("html").get_attribute("lang") == "ar"
    # The choice is saved for the user: signing in from a fresh browser brings Arabic back.
    context = browser.new_context(base_url=live_server)
    try:
        other = context.new_page()
        other.goto("/login")
        assert other.locator("html").get_attribute("dir") == "ltr"
        login_as(other, user.email, factories.PASSWORD)
        assert other.locator("html").get_attribute("dir") == "rtl"
    finally:
        context.close()


def test_language_preference_follows_the_user(page: Page) -> None:
    # Amina's saved preference is Arabic (demo data).
    login_as(page, "pcw.amina@refugeecentre.example.nz")
    assert page.locator("html").get_attribute("dir") == "rtl"


def test_language_switch_works_with_javascript_disabled(js_disabled_page: Page) -> None:
    page = js_disabled_page
    page.goto("/login")
    page.get_by_label("Language").select_option("zh_Hans")
    with page.expect_navigation():
        page.locator("form.lang-switch button").click()
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert page.get_by_role("heading", level=1).inner_text() == "登录"


def test_login_works_with_javascript_disabled(js_disabled_page: Page) -> None:
    page = js_disabled_page
    page.goto("/login")
    page.get_by_label("Email").fill("wrong@example.nz")
    page.get_by_label("Password").fill("nope")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert "do not match" in page.get_by_role("alert").inner_text()
    login_as(page, ADMIN_EMAIL)
    assert page.get_by_role("heading", level=1).inner_text() == "Inbox"


SMALL_SCREEN_PAGES = [
    "/login",
    "/",
    "/admin",
    "/admin/practices",
    "/admin/practices/new",
    "/admin/users",
    "/admin/users/new",
    "/admin/portfolios",
]


@pytest.mark.parametrize("path", SMALL_SCREEN_PAGES)
def test_usable_at_360px_without_horizontal_scrolling(page_as: Any, path: str) -> None:
    mobile_page = page_as(ADMIN_EMAIL, viewport={"width": 360, "height": 740}, has_touch=True)
    if path == "/login":
        mobile_page.context.clear_cookies()
    mobile_page.goto(path)
    assert not has_horizontal_scroll(mobile_page), f"{path} scrolls sideways at 360px"
    assert overflowing_elements(mobile_page) == [], f"{path}: these stick out of a 360px screen"


@pytest.mark.parametrize("path", SMALL_SCREEN_PAGES)
def test_text_contrast_and_labels(page_as: Any, path: str) -> None:
    page = page_as(ADMIN_EMAIL)
    if path == "/login":
        page.context.clear_cookies()
    page.goto(path)
    assert contrast_problems(page) == []
    assert unlabelled_controls(page) == []


def test_focus_is_visible(page: Page) -> None:
    page.goto("/login")
    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Tab")
    outline = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"
    )
    assert outline[0] != "none" and outline[1] >= 2
