"""One visit to the forms page with signal is enough, in real Chromium on a 390 px phone: in the
same session, without signal, the forms list and every form the person may fill open, and a
form started without signal resumes. Signing out still clears what the phone keeps."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import login_as
from tests.browser.form_steps import (
    answer_about_the_person,
    choose,
    goto_page,
    next_page,
    resume_from_the_forms_list,
)

TALA = "pcw.tala@pacifictrust.example.nz"  # works in Samoan
BARRIER = "/forms/barrier_assessment/fill"

# Whether the phone's caches (whichever keeps them) hold every address within ten seconds.
_KEPT_SOON = """async (urls) => {
  const kept = async () => {
    for (const url of urls) { if (!(await caches.match(url))) return false; }
    return true;
  };
  for (const until = performance.now() + 10000; performance.now() < until; ) {
    if (await kept()) return true;
    await new Promise((done) => setTimeout(done, 100));
  }
  return kept();
}"""
# Whether the phone's caches are all gone within ten seconds.
_CLEARED_SOON = """async () => {
  for (const until = performance.now() + 10000; performance.now() < until; ) {
    if (!(await caches.keys()).length) return true;
    await new Promise((done) => setTimeout(done, 100));
  }
  return !(await caches.keys()).length;
}"""


def on_a_phone(page: Page) -> Page:
    page.set_viewport_size({"width": 390, "height": 844})
    return page


def wait_until_kept(page: Page, urls: list[str]) -> None:
    """What a worker waits for without knowing it: the pages kept on the phone in the background
    (a few hundred milliseconds with signal)."""
    assert page.evaluate(_KEPT_SOON, urls), f"not kept on the phone: {urls}"


def tiles(page: Page) -> list[str]:
    return list(page.eval_on_selector_all("a.tile", "els => els.map(a => a.getAttribute('href'))"))


def test_one_visit_to_the_forms_page_opens_its_forms_without_signal(mobile_page: Page) -> None:
    page = on_a_phone(mobile_page)
    login_as(page, TALA)
    page.goto("/forms")  # once: the service worker is installed after this page has loaded
    hrefs = tiles(page)
    assert BARRIER in hrefs
    wait_until_kept(page, ["/forms", *hrefs])
    context: Any = page.context
    context.set_offline(True)
    page.locator(f'a.tile[href="{BARRIER}"]').tap()
    goto_page(page, 0)
    choose(page, "consent", "yes")
    next_page(page, 1)  # turned on the phone, without signal
    instance_id = answer_about_the_person(page, "Sefo")
    expect(page.locator("#send-status")).to_be_visible()
    # Back to the list, still without signal: the form started here resumes
    resume_from_the_forms_list(page, instance_id=instance_id, name="Sefo")
    # Every other form on the list opens too
    for href in hrefs:
        page.goto(href)
        expect(page.locator("#fill-form")).to_be_visible()


def test_a_form_opened_with_signal_keeps_the_forms_page_for_use_without_it(
    mobile_page: Page,
) -> None:
    page = on_a_phone(mobile_page)
    login_as(page, TALA)
    page.goto(BARRIER)  # straight to the form, never to the list
    goto_page(page, 0)
    choose(page, "consent", "yes")
    next_page(page, 1)  # with signal: the server keeps the draft
    wait_until_kept(page, ["/forms", BARRIER])
    context: Any = page.context
    context.set_offline(True)
    instance_id = answer_about_the_person(page, "Lagi")
    resume_from_the_forms_list(page, instance_id=instance_id, name="Lagi")


def test_after_signing_out_and_in_again_one_visit_is_still_enough(mobile_page: Page) -> None:
    page = on_a_phone(mobile_page)
    login_as(page, TALA)
    page.goto("/forms")
    wait_until_kept(page, ["/forms", BARRIER])
    menu = page.locator("details.menu > summary")
    if menu.count() and menu.is_visible():  # on a phone, sign-out sits behind "Menu"
        menu.click()
    page.locator("form[action='/logout'] button").click()
    page.wait_for_url("**/login")
    # Nothing of the last session is left on the phone
    assert page.evaluate(_CLEARED_SOON)
    login_as(page, TALA)
    page.goto("/forms")
    wait_until_kept(page, ["/forms", BARRIER])
    context: Any = page.context
    context.set_offline(True)
    page.locator(f'a.tile[href="{BARRIER}"]').tap()
    goto_page(page, 0)
    choose(page, "consent", "yes")
    next_page(page, 1)
    expect(page.locator("#in-person_name")).to_be_editable()
