"""The SMS simulator in real Chromium: with htmx, without JavaScript, on a small screen."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from assistant.i18n import use_locale
from assistant.sms import messages as msg
from tests.browser.conftest import (
    ADMIN_EMAIL,
    contrast_problems,
    has_horizontal_scroll,
    login_as,
    unlabelled_controls,
)

pytestmark = pytest.mark.browser


_numbers = itertools.count(2000)


def _number() -> str:
    """A fresh number of the simulator's test range for each conversation."""
    return f"021 0000 {next(_numbers)}"


def _mi(build: Callable[[], str]) -> str:
    with use_locale("mi"):
        return build().splitlines()[0]


def _send(page: Page, body: str) -> None:
    page.get_by_label("Message").fill(body)
    page.get_by_role("button", name="Send").click()


def test_texting_with_htmx_updates_the_conversation_in_place(
    page_as: Callable[..., Page],
) -> None:
    page = page_as(ADMIN_EMAIL)
    page.goto("/sms/simulator")
    page.get_by_label("From phone number").fill(_number())
    _send(page, "Kia ora")
    thread = page.get_by_role("list", name="Conversation")
    thread.get_by_text(_mi(msg.welcome)).wait_for()
    assert page.url.endswith("/sms/simulator")  # swapped in place, no navigation
    _send(page, "1")
    thread.get_by_text(_mi(msg.eligibility_citizen)).wait_for()
    assert thread.locator("li.sms-out[lang=mi]").count() == 2
    assert page.get_by_label("Message").input_value() == ""
    assert unlabelled_controls(page) == []
    assert contrast_problems(page) == []


def test_texting_without_javascript(js_disabled_page: Page) -> None:
    page = js_disabled_page
    login_as(page, ADMIN_EMAIL)
    page.goto("/sms/simulator")
    page.get_by_label("From phone number").fill(_number())
    with page.expect_navigation():
        _send(page, "مرحبا")
    assert "phone=%2B6421" in page.url
    reply = page.locator("li.sms-out").first
    assert reply.get_attribute("dir") == "rtl"
    with use_locale("ar"):
        assert msg.welcome().splitlines()[0] in reply.inner_text()


def test_the_simulator_fits_a_small_screen(page_as: Callable[..., Page]) -> None:
    page = page_as(ADMIN_EMAIL, viewport={"width": 360, "height": 740}, has_touch=True)
    page.goto("/sms/simulator")
    page.get_by_label("From phone number").fill(_number())
    _send(page, "hello")
    page.get_by_text("5 Call me back").wait_for()
    assert not has_horizontal_scroll(page)
