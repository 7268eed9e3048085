"""Login throttling: slowed, then refused for a while; per address and per account."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlmodel import Session, select

from assistant.clock import utcnow
from assistant.security import throttle
from assistant.security.csrf import CSRF_COOKIE, CSRF_FIELD
from assistant.security.throttle import LoginFailure
from assistant.settings import Settings
from tests import factories
from tests.conftest import Client

LIMITS = {"window_seconds": 900, "slow_after": 3, "block_after": 5, "slow_delay_seconds": 2.0}


def state(session: Session, ip: str = "10.0.0.1", account: str = "a@example.nz") -> Any:
    return throttle.state_for(session, ip=ip, account=account, **LIMITS)


def fail(session: Session, n: int, ip: str = "10.0.0.1", account: str = "a@example.nz") -> None:
    for _ in range(n):
        throttle.record_failure(session, ip=ip, account=account)


def age_failures(session: Session, seconds: int) -> None:
    """Move every recorded failure ``seconds`` into the past."""
    rows = session.exec(select(LoginFailure)).all()
    for row in rows:
        row.at = row.at - timedelta(seconds=seconds)
        session.add(row)
    session.commit()


@pytest.mark.parametrize(
    ("failures", "delay", "blocked"),
    [(0, 0.0, False), (2, 0.0, False), (3, 2.0, False), (4, 4.0, False), (5, 0.0, True)],
)
def test_slowed_then_refused(session: Session, failures: int, delay: float, blocked: bool) -> None:
    fail(session, failures)
    got = state(session)
    assert (got.failures, got.delay_seconds, got.blocked) == (failures, delay, blocked)


def test_counted_per_address_across_accounts(session: Session) -> None:
    for n in range(5):
        fail(session, 1, account=f"guess{n}@example.nz")
    assert state(session, account="someone-else@example.nz").blocked
    assert not state(session, ip="10.9.9.9", account="someone-else@example.nz").blocked


def test_counted_per_account_across_addresses(session: Session) -> None:
    for n in range(5):
        fail(session, 1, ip=f"10.0.1.{n}", account="Target@Example.nz")
    assert state(session, ip="10.0.2.1", account=" target@example.NZ ").blocked
    assert not state(session, ip="10.0.2.1", account="other@example.nz").blocked


def test_block_lasts_a_whole_window_from_the_last_failure(session: Session) -> None:
    fail(session, 5)
    blocked = state(session)
    assert blocked.blocked_until is not None
    assert blocked.blocked_until > utcnow() + timedelta(seconds=890)
    age_failures(session, 600)  # the oldest failures are still within the window
    assert state(session).blocked
    age_failures(session, 301)
    after = state(session)
    assert not after.blocked and after.failures == 0


def test_block_is_not_cut_short_when_early_failures_age_out(session: Session) -> None:
    # Failures spread over the window: the block started by the fifth still lasts its window.
    now = utcnow()
    for minutes_ago in (14, 13, 12, 11, 1):
        at = now - timedelta(minutes=minutes_ago)
        session.add(LoginFailure(ip="10.0.0.1", account="a@example.nz", at=at))
    session.commit()
    age_failures(session, 120)  # now the first two are older than the window
    assert state(session).failures == 3
    assert state(session).blocked


def test_success_forgives_the_account_not_the_address(session: Session) -> None:
    fail(session, 4, account="victim@example.nz")
    fail(session, 2, account="me@example.nz")
    throttle.clear_account(session, account="me@example.nz")
    assert state(session, account="me@example.nz").failures == 4  # the address still counts
    assert state(session, ip="10.7.7.7", account="victim@example.nz").failures == 4


# Through HTTP: the login form.


@pytest.fixture
def strict_app(settings: Settings) -> FastAPI:
    from assistant.app import create_app

    return create_app(
        settings.model_copy(
            update={"login_slow_after": 2, "login_block_after": 4, "login_slow_delay_seconds": 0.5}
        )
    )


def _post(client: Client, email: str, password: str) -> Any:
    return client.post("/login", data={"email": email, "password": password})


def test_login_form_slows_then_refuses_even_the_right_password(
    strict_app: FastAPI, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = factories.user(session)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr("assistant.web.auth.sleep", sleep)
    client = Client(strict_app, follow_redirects=False)
    for _ in range(4):
        assert _post(client, user.email, "wrong").status_code == 401
    assert slept == [0.5, 1.0]  # the third and fourth attempts waited
    refused = _post(client, user.email, factories.PASSWORD)
    assert refused.status_code == 429
    assert "Too many failed sign-in attempts. Try again in 15 minutes." in refused.text
    assert client.get("/").status_code == 302  # still signed out
    age_failures(session, 901)
    assert _post(client, user.email, factories.PASSWORD).status_code == 303


def test_login_form_refuses_an_account_from_every_address(
    strict_app: FastAPI, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def sleep(seconds: float) -> None:
        pass

    monkeypatch.setattr("assistant.web.auth.sleep", sleep)
    user = factories.user(session)
    for n in range(4):
        attacker = Client(strict_app, follow_redirects=False, client=(f"192.0.2.{n}", 4000))
        assert _post(attacker, user.email, "guess").status_code == 401
    owner = Client(strict_app, follow_redirects=False, client=("198.51.100.7", 4000))
    assert _post(owner, user.email, factories.PASSWORD).status_code == 429
    other = factories.user(session)
    assert _post(owner, other.email, factories.PASSWORD).status_code == 303


def test_successful_login_clears_the_accounts_failures(client: Client, session: Session) -> None:
    user = factories.user(session)
    for _ in range(3):
        _post(client, user.email, "wrong")
    assert _post(client, user.email, factories.PASSWORD).status_code == 303
    accounts = session.exec(select(LoginFailure.account)).all()
    assert user.email.lower() not in accounts


def test_attempts_at_the_same_moment_cannot_all_slip_under_the_limit(session: Session) -> None:
    """Sixteen wrong passwords sent at once: each is counted before its password is checked,
    so only the first ``block_after`` are checked at all."""
    ids = [
        throttle.begin_attempt(
            session, ip="10.0.0.9", account="a@example.nz", window_seconds=900, block_after=10
        )
        for _ in range(16)
    ]
    assert sum(1 for i in ids if i is not None) == 10
    assert ids[10:] == [None] * 6
    assert len(session.exec(select(LoginFailure)).all()) == 10  # the refused are not counted


@pytest.mark.real_clock  # a real server in another thread: it reads the machine clock
def test_a_made_up_forwarded_address_does_not_escape_the_limit(settings: Settings) -> None:
    """Served as `serve` serves it: X-Forwarded-For is believed only from trusted proxies
    (none by default), so inventing a new address per guess changes nothing."""
    import socket
    import threading
    import time

    import httpx
    import uvicorn

    from assistant.app import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        **settings.proxy_options(),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        codes = []
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            client.get("/login")  # the form's CSRF cookie, sent back as the form's field
            token = client.cookies[CSRF_COOKIE]
            for n in range(settings.login_block_after + 2):
                response = client.post(
                    "/login",
                    data={"email": f"guess{n}@example.nz", "password": "wrong", CSRF_FIELD: token},
                    headers={"X-Forwarded-For": f"203.0.113.{n}"},
                )
                codes.append(response.status_code)
        assert codes[: settings.login_block_after] == [401] * settings.login_block_after
        assert codes[-1] == 429
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_forwarded_headers_are_believed_only_from_configured_proxies() -> None:
    assert Settings().proxy_options() == {"proxy_headers": False, "forwarded_allow_ips": ""}
    trusted = Settings(trusted_proxies=" 10.0.0.5, 10.0.0.6 ")
    assert trusted.proxy_options() == {
        "proxy_headers": True,
        "forwarded_allow_ips": "10.0.0.5,10.0.0.6",
    }
