"""The coordinators' dashboard on a 360 px phone, in English and Arabic, in real Chromium."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page
from sqlmodel import Session

from assistant.people.models import Role
from tests import factories
from tests.browser.conftest import (
    contrast_problems,
    has_horizontal_scroll,
    login_as,
    overflowing_elements,
    unlabelled_controls,
)
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

COORDINATOR = "coordinator@pho.example.nz"
PHONE = {"viewport": {"width": 360, "height": 740}, "has_touch": True, "is_mobile": True}

# Every text inside each chart lies within its chart's box (nothing cut off at the edges).
_TEXT_OUTSIDE_CHART_JS = """
() => [...document.querySelectorAll('svg.chart')].flatMap((svg) => {
  const box = svg.getBoundingClientRect();
  return [...svg.querySelectorAll('text')]
    .filter((t) => { const b = t.getBoundingClientRect();
      return b.width > 0 && (b.left < box.left - 1 || b.right > box.right + 1); })
    .map((t) => `${svg.id}: ${t.textContent}`);
})
"""


def test_dashboard_reads_well_on_a_phone(page_as: Callable[..., Page]) -> None:
    page = page_as(COORDINATOR, **PHONE)
    page.goto("/dashboard")
    assert page.get_by_role("heading", level=1).inner_text() == "Barrier assessments dashboard"
    charts = page.locator("svg.chart[role=img]")
    assert charts.count() == 4
    for i in range(4):
        box = charts.nth(i).bounding_box()
        assert box is not None and box["width"] <= 360 and box["height"] > 50
    # the demo assessments show up as bars with their numbers
    assert page.locator("#chart-barriers g.bar").count() > 0
    assert not has_horizontal_scroll(page)
    assert overflowing_elements(page) == []
    assert page.evaluate(_TEXT_OUTSIDE_CHART_JS) == []
    assert contrast_problems(page) == []
    assert unlabelled_controls(page) == []


def test_numbers_table_opens_and_period_switches_in_place(page_as: Callable[..., Page]) -> None:
    page = page_as(COORDINATOR, **PHONE)
    page.goto("/dashboard")
    figure = page.locator("figure", has=page.locator("#chart-weekly"))
    figure.get_by_text("Show the numbers").click()
    assert figure.locator("tbody tr").count() == 12
    page.get_by_label("Period").select_option("4")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/dashboard?weeks=4")
    figure = page.locator("figure", has=page.locator("#chart-weekly"))
    figure.get_by_text("Show the numbers").click()
    assert figure.locator("tbody tr").count() == 4
    assert page.locator("svg.chart").count() == 4


def test_dashboard_in_arabic_keeps_chart_text_inside(
    live_session: Session, browser: Any, live_server: str
) -> None:
    user = factories.user(live_session, Role.coordinator, locale="ar")
    context = browser.new_context(base_url=live_server, **PHONE)
    try:
        phone = context.new_page()
        login_as(phone, user.email, PASSWORD)
        phone.goto("/dashboard")
        assert phone.locator("html").get_attribute("dir") == "rtl"
        assert phone.locator("svg.chart").count() == 4
        assert phone.evaluate(_TEXT_OUTSIDE_CHART_JS) == []
        assert not has_horizontal_scroll(phone)
        # bar labels start at the right-hand edge, as Arabic is read
        label = phone.locator("#chart-barriers g.bar text").first.bounding_box()
        chart = phone.locator("#chart-barriers").bounding_box()
        assert label is not None and chart is not None
        assert abs((label["x"] + label["width"]) - (chart["x"] + chart["width"])) < 4
    finally:
        context.close()
