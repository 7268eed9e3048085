"""Steps a community worker takes through a form on a phone, shared by the browser tests."""

from __future__ import annotations

from playwright.sync_api import Page, expect


def goto_page(page: Page, index: int) -> None:
    """Wait until the form shows its page `index` (0-based)."""
    expect(page.locator("input[name=page]")).to_have_value(str(index))
    expect(page.locator(f'section.form-page[data-page="{index}"]')).to_be_visible()


def choose(page: Page, name: str, value: str) -> None:
    page.locator(f'input[name="{name}"][value="{value}"]').check()


def next_page(page: Page, index: int) -> None:
    page.locator("button[value=next]").click()
    goto_page(page, index)


def answer_about_the_person(page: Page, name: str) -> str:
    """On the barrier assessment's page 1: a Samoan speaker who needs no interpreter; goes on
    to page 2 and returns the form's instance id."""
    page.locator("#in-person_name").fill(name)
    choose(page, "main_language", "samoan")
    choose(page, "interpreter_needed", "no")
    next_page(page, 2)
    return page.locator("input[name=instance_id]").input_value()


def resume_from_the_forms_list(page: Page, *, instance_id: str, name: str) -> None:
    """Open /forms, follow its one started form, and see it where it was left (page 2)."""
    page.goto("/forms")
    started = page.locator("#local-drafts")
    expect(started).to_be_visible()
    started.locator("a").click()
    goto_page(page, 2)
    expect(page.locator("input[name=instance_id]")).to_have_value(instance_id)
    expect(page.locator("#in-person_name")).to_have_value(name)
