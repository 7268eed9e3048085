"""The coordinators' dashboard on a 360 px phone, in English and Arabic, in real Chromium."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

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
    page.wait_for_url(re.compile(r"/dashboard\?weeks=4(&|$)"))
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


# Anything in the board (filters, figures, tables) sticking out of a 360 px screen sideways.
_BOARD_OVERFLOW_JS = """
() => [...document.querySelectorAll('#board *')]
  .filter((el) => { const b = el.getBoundingClientRect();
    return b.width > 0 && (b.left < -1 || b.right > document.documentElement.clientWidth + 1); })
  .map((el) => el.tagName + (el.id ? '#' + el.id : ''))
"""


def _agency_rows(page: Page) -> dict[str, str]:
    figure = page.locator("figure", has=page.locator("#chart-agencies"))
    rows = figure.locator("tbody tr")
    return {
        str(rows.nth(i).locator("th").text_content()): str(rows.nth(i).locator("td").text_content())
        for i in range(rows.count())
    }


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_filters_swap_the_board_in_place_and_stay_in_the_url(
    page_as: Callable[..., Page],
) -> None:
    page = page_as(COORDINATOR, **PHONE)
    page.goto("/dashboard?weeks=26")
    everyone = _agency_rows(page)
    assert set(everyone) >= {"Pacific Trust Canterbury", "Refugee and Migrant Centre"}
    page.evaluate("window.__same_page = true")  # gone if the browser loads a new page
    filters = page.get_by_role("form", name="Filters")

    filters.get_by_label("Agency").select_option(label="Refugee and Migrant Centre")
    filters.get_by_label("Assessment language").select_option("ar")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"language=ar"))
    assert page.evaluate("window.__same_page") is True  # htmx swapped the board in place
    query = _query(page.url)
    assert query["weeks"] == ["26"] and query["language"] == ["ar"]
    assert query["agency"][0].isdigit()
    assert list(_agency_rows(page)) == ["Refugee and Migrant Centre"]
    # the tables follow the filters: no more than the agency's count in every language
    assert int(_agency_rows(page)["Refugee and Migrant Centre"]) <= int(
        everyone["Refugee and Migrant Centre"]
    )
    assert filters.get_by_label("Assessment language").input_value() == "ar"

    # the filtered URL is a page of its own: reloading it shows the same
    page.reload()
    assert filters.get_by_label("Assessment language").input_value() == "ar"
    assert list(_agency_rows(page)) == ["Refugee and Migrant Centre"]

    # back to every agency and language, the period kept
    page.get_by_role("link", name="Show every agency, language and worker").click()
    page.wait_for_url(re.compile(r"/dashboard\?weeks=26$"))
    assert _agency_rows(page) == everyone
    page.go_back()
    page.wait_for_url(re.compile(r"language=ar"))
    assert list(_agency_rows(page)) == ["Refugee and Migrant Centre"]
    assert page.locator("h1").count() == 1 and page.locator("#board").count() == 1
    assert unlabelled_controls(page) == []
    assert not has_horizontal_scroll(page)
    assert page.evaluate(_BOARD_OVERFLOW_JS) == []


def test_filters_work_without_javascript(page_as: Callable[..., Page]) -> None:
    page = page_as(COORDINATOR, java_script_enabled=False)
    page.goto("/dashboard")
    filters = page.get_by_role("form", name="Filters")
    worker = filters.get_by_label("Worker")
    name = worker.locator("option").nth(1).inner_text()
    worker.select_option(label=name)
    with page.expect_navigation():
        page.get_by_role("button", name="Show").click()
    query = _query(page.url)
    assert query["worker"][0].isdigit() and query["weeks"] == ["12"]
    assert filters.get_by_label("Worker").input_value() == query["worker"][0]
    total = int(page.locator(".dash-stats li").first.locator("strong").inner_text())
    assert sum(int(n) for n in _agency_rows(page).values()) == total
