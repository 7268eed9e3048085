"""Real-Chromium fixtures: a live server with demo data, and Playwright pages.

Fixtures (use them from any test module in tests/browser/, marked ``@pytest.mark.browser``):

- ``live_server``: the base URL (``http://127.0.0.1:PORT``) of the app served by uvicorn in a
  background thread, once per test session (per xdist worker). Its database is its own
  migrated SQLite file with the demo data loaded (``assistant.demo.load_demo``), so every
  demo login works with ``DEMO_PASSWORD``. Tests share this database: create what you need
  with unique names rather than relying on a clean slate.
- ``live_settings``: the Settings the live server runs with.
- ``live_session``: a database Session on the live server's database (for setting up data or
  checking what a page stored).
- ``browser``: one headless Chromium (Debian's /usr/bin/chromium) per session.
- ``page``: a fresh browser context and page per test (no cookies carried over), 1280x800.
- ``mobile_page``: the same at 360x740 with touch, for small-screen checks.
- ``js_disabled_page``: a fresh context with JavaScript turned off.
- ``login_as(page, email, password=DEMO_PASSWORD)``: signs the page in through the login form
  and waits for the home page.
- ``page_as(email, password=DEMO_PASSWORD, **context_options)``: a new page already signed in
  (the sign-in is done once per session and user, then reused: faster than ``login_as``).
  Signing that page out ends the shared session: use ``login_as`` for sign-out tests, and do
  not change a demo user's saved language (create your own user for that).

Checks for what a user notices, to call on any page (each returns a list of problems):
``contrast_problems(page)`` (text below WCAG AA contrast), ``unlabelled_controls(page)``
(inputs without a label), ``overflowing_elements(page)`` (things sticking out sideways, for
``mobile_page``), and ``has_horizontal_scroll(page)``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from argon2 import PasswordHasher
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from sqlmodel import Session, select

from assistant import db as dbmod
from assistant.app import create_app
from assistant.demo import load_demo
from assistant.models_registry import import_all
from assistant.people.models import User
from assistant.settings import Settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DEMO_PASSWORD = "demo-pass-2026"
ADMIN_EMAIL = "admin@pho.example.nz"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def live_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    path = tmp_path_factory.mktemp("live") / "live.db"
    port = _free_port()
    return Settings(
        environment="test",
        database_url=f"sqlite:///{path}",
        secret_key="browser-test-secret",
        public_base_url=f"http://127.0.0.1:{port}",
        run_worker_in_app=False,
        demo_password=DEMO_PASSWORD,
        # Many tests sign in from 127.0.0.1; throttling has its own tests.
        login_slow_after=10_000,
        login_block_after=20_000,
        login_slow_delay_seconds=0.0,
        twilio_account_sid="AC00000000000000000000000000000000",
        twilio_auth_token="browser-auth-token",
        twilio_from_number="+6435550100",
    )


@pytest.fixture(scope="session")
def live_server(live_settings: Settings) -> Iterator[str]:
    import_all()
    dbmod.migrate(live_settings.database_url)
    with Session(dbmod.get_engine(live_settings.database_url)) as session:
        load_demo(session, password=DEMO_PASSWORD)
        # The same password as a real argon2id hash of the lowest cost: every sign-in still goes
        # through verify_password, without a large share of a second of hashing each time.
        cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(DEMO_PASSWORD)
        for user in session.exec(select(User)):
            user.password_hash = cheap
        session.commit()
    port = int(live_settings.public_base_url.rsplit(":", 1)[1])
    config = uvicorn.Config(
        create_app(live_settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the live server did not start")
        time.sleep(0.05)
    yield live_settings.public_base_url
    server.should_exit = True
    thread.join(timeout=10)
    engine = dbmod._engines.pop(live_settings.database_url, None)
    if engine is not None:
        engine.dispose()


@pytest.fixture
def live_session(live_server: str, live_settings: Settings) -> Iterator[Session]:
    with Session(dbmod.get_engine(live_settings.database_url)) as session:
        yield session


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser-deps` (apt-get install chromium)")
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    chromium = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


def _same_clock_as_the_server(context: BrowserContext) -> None:
    """The pages' clock starts where the server's is (the suite's fixed moment) and flows on, so
    dates a page computes ("today", relative times) agree with the server's; a test can move
    it on with ``page.clock``."""
    context.clock.install(time=datetime.now(UTC))


def _new_page(browser: Browser, live_server: str, **options: object) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server, **options)  # type: ignore[arg-type]
    _same_clock_as_the_server(context)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def page(browser: Browser, live_server: str) -> Iterator[Page]:
    yield from _new_page(browser, live_server, viewport={"width": 1280, "height": 800})


@pytest.fixture
def mobile_page(browser: Browser, live_server: str) -> Iterator[Page]:
    yield from _new_page(
        browser, live_server, viewport={"width": 360, "height": 740}, has_touch=True
    )


@pytest.fixture
def js_disabled_page(browser: Browser, live_server: str) -> Iterator[Page]:
    yield from _new_page(browser, live_server, java_script_enabled=False)


def login_as(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the login form (works with or without JavaScript)."""
    page.goto("/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    with page.expect_navigation():
        page.locator("form[action='/login'] button[type=submit]").click()
    assert "/login" not in page.url, f"could not sign in as {email}"


@pytest.fixture(scope="session")
def _signed_in_states(browser: Browser, live_server: str) -> dict[str, Any]:
    return {}


@pytest.fixture
def page_as(
    browser: Browser, live_server: str, _signed_in_states: dict[str, Any]
) -> Iterator[Callable[..., Page]]:
    contexts: list[BrowserContext] = []

    def _page_as(email: str, password: str = DEMO_PASSWORD, **options: Any) -> Page:
        if email not in _signed_in_states:
            context = browser.new_context(base_url=live_server)
            login_as(context.new_page(), email, password)
            _signed_in_states[email] = context.storage_state()
            context.close()
        context = browser.new_context(
            base_url=live_server, storage_state=_signed_in_states[email], **options
        )
        _same_clock_as_the_server(context)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield _page_as
    for context in contexts:
        context.close()


@pytest.fixture(name="login_as")
def login_as_fixture() -> Callable[..., None]:
    """The ``login_as`` helper as a fixture, for tests that prefer fixtures to imports."""
    return login_as


# Relative luminance contrast of each visible text element against its effective background.
_CONTRAST_JS = """
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

_OVERFLOWING_JS = """
() => [...document.querySelectorAll('body *')]
  .filter((el) => { const b = el.getBoundingClientRect();
    const w = document.documentElement.clientWidth;  // wholly off-screen (skip link) is fine
    return b.width > 0 && b.right > 0 && b.left < w && (b.left < -1 || b.right > w + 1); })
  .map((el) => el.tagName + (el.id ? '#' + el.id : '') + (el.className ? '.' + el.className : ''))
"""

_NO_HORIZONTAL_SCROLL_JS = (
    "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
)

_UNLABELLED_JS = """
() => [...document.querySelectorAll('input, select, textarea')]
  .filter((el) => el.type !== 'hidden' && !(el.labels && el.labels.length)
    && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
  .map((el) => `${el.tagName} name=${el.name || el.id}`)
"""


def contrast_problems(page: Page) -> list[str]:
    """Visible text whose contrast with its background is below WCAG AA."""
    return list(page.evaluate(_CONTRAST_JS))


def unlabelled_controls(page: Page) -> list[str]:
    """Form controls without a label (or aria-label)."""
    return list(page.evaluate(_UNLABELLED_JS))


def overflowing_elements(page: Page) -> list[str]:
    """Elements sticking out of the viewport sideways (wholly off-screen ones are fine)."""
    return list(page.evaluate(_OVERFLOWING_JS))


def has_horizontal_scroll(page: Page) -> bool:
    return not page.evaluate(_NO_HORIZONTAL_SCROLL_JS)
