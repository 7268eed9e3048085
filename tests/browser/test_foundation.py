"""Signing in, languages, small screens and contrast, in real Chromium."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Browser, Page
from sqlmodel import Session

from assistant.people.models import Role
from tests import factories
from tests.browser.conftest import ADMIN_EMAIL, login_as

pytestmark = pytest.mark.browser

# Relative luminance contrast of each visible text element against its effective background.
CONTRAST_JS = """
() => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(',').map((x) => parseFloat(x));
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const lum = ({r, g, b}) => {
    const f = (v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let n = el; n; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c && c.a > 0.5) return c;
    }
    return {r: 255, g: 255, b: 255, a: 1};
  };
  const bad = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const box = el.getBoundingClientRect();
    if (!own || box.width === 0 || box.height === 0) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden') continue;
    const fg = parse(style.color), bg = background(el);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight) >= 700;
    const large = size >= 24 || (size >= 18.66 && bold);
    const text = el.textContent.trim().slice(0, 30);
    if (ratio < (large ? 3 : 4.5)) bad.push(`${el.tagName} "${text}" ${ratio.toFixed(2)}`);
  }
  return bad;
}
"""

OVERFLOWING_JS = """
() => [...document.querySelectorAll('body *')]
  .filter((el) => { const b = el.getBoundingClientRect();
    const w = document.documentElement.clientWidth;  // wholly off-screen (skip link) is fine
    return b.width > 0 && b.right > 0 && b.left < w && (b.left < -1 || b.right > w + 1); })
  .map((el) => el.tagName + (el.id ? '#' + el.id : '') + (el.className ? '.' + el.className : ''))
"""

NO_HORIZONTAL_SCROLL_JS = (
    "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
)


def test_sign_in_and_out(page: Page) -> None:
    login_as(page, ADMIN_EMAIL)
    assert page.get_by_role("heading", level=1).inner_text().startswith("Kia ora")
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
    page.get_by_label("Language").select_option("ar")
    with page.expect_navigation():
        page.locator("form.lang-switch button").click()
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


def test_login_works_with_javascript_disabled(js_disabled_page: Page) -> None:
    page = js_disabled_page
    page.goto("/login")
    page.get_by_label("Email").fill("wrong@example.nz")
    page.get_by_label("Password").fill("nope")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert "do not match" in page.get_by_role("alert").inner_text()
    login_as(page, ADMIN_EMAIL)
    assert page.get_by_role("heading", level=1).inner_text().startswith("Kia ora")


@pytest.mark.parametrize("path", ["/login", "/"])
def test_usable_at_360px_without_horizontal_scrolling(mobile_page: Page, path: str) -> None:
    if path != "/login":
        login_as(mobile_page, ADMIN_EMAIL)
    mobile_page.goto(path)
    assert mobile_page.evaluate(NO_HORIZONTAL_SCROLL_JS), f"{path} scrolls sideways at 360px"
    overflowing = mobile_page.evaluate(OVERFLOWING_JS)
    assert overflowing == [], f"{path}: these stick out of a 360px screen"


@pytest.mark.parametrize("path", ["/login", "/", "/admin", "/admin/practices", "/admin/users"])
def test_text_contrast_passes_wcag_aa(page: Page, path: str) -> None:
    login_as(page, ADMIN_EMAIL)
    page.goto(path)
    assert page.evaluate(CONTRAST_JS) == []


def test_focus_is_visible(page: Page) -> None:
    page.goto("/login")
    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Tab")
    outline = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"
    )
    assert outline[0] != "none" and outline[1] >= 2
