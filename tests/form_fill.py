"""Reading the form-filling page (templates/forms/fill.html) as a person sees it."""

from __future__ import annotations

from tests.html import Page


def current_page(page: Page) -> int:
    """The form page the form says it is on (its hidden ``page`` field)."""
    return int(page.field("page").value() or 0)


def on_screen(page: Page) -> list[int]:
    """The form pages shown (every other one is hidden)."""
    sections = page.find_all("section.form-page")
    return [int(s.attr("data-page")) for s in sections if not s.hidden]


def visible(page: Page, element_id: str) -> bool:
    """Whether the element with this id is on screen (neither it nor what holds it hidden)."""
    return not page.by_id(element_id).hidden
