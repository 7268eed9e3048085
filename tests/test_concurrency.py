"""A burst of form submissions must not freeze the server (a real uvicorn in this process)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session, select

from assistant.people.models import Role
from assistant.security.csrf import CSRF_COOKIE, CSRF_FIELD
from assistant.security.throttle import LoginFailure
from assistant.settings import Settings
from tests import factories
from tests.forms_data import flag_payload
from tests.serving import serving


@pytest.fixture
def server(settings: Settings) -> Iterator[str]:
    with serving(settings) as base:
        yield base


def _signed_in(base: str, email: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60)
    client.get("/login")
    token = client.cookies[CSRF_COOKIE]
    data = {"email": email, "password": factories.PASSWORD, CSRF_FIELD: token}
    assert client.post("/login", data=data).status_code == 303
    client.headers["X-CSRF-Token"] = token
    return client


@pytest.mark.real_clock  # the server thread and the client share the machine's clock
def test_a_burst_of_submissions_leaves_the_server_answering(server: str, session: Session) -> None:
    user = factories.user(session, Role.practice_staff)
    body = flag_payload()  # twenty copies of one submission, as a retrying phone might send
    codes: list[int] = []
    health: list[float] = []

    clients = [_signed_in(server, user.email) for _ in range(20)]
    fresh: list[int] = []

    def submit_new(n: int) -> None:
        response = clients[n].post("/api/forms/flag_problem/submissions", json=flag_payload())
        fresh.append(response.status_code)

    def submit(n: int) -> None:
        response = clients[n].post("/api/forms/flag_problem/submissions", json=body)
        codes.append(response.status_code)

    def watch() -> None:
        with httpx.Client(base_url=server, timeout=60) as client:
            for _ in range(10):
                started = time.perf_counter()
                assert client.get("/healthz").status_code == 200
                health.append(time.perf_counter() - started)
                time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    with ThreadPoolExecutor(max_workers=20) as pool:
        list(pool.map(submit, range(20)))
        # ... and twenty different ones at once: twenty writers queueing for the database.
        list(pool.map(submit_new, range(20)))
    watcher.join()
    for client in clients:
        client.close()
    assert sorted(set(codes)) in ([200, 201], [201])  # stored once, the rest "already stored"
    assert codes.count(201) == 1
    assert fresh == [201] * 20  # every one stored, none refused or failed
    # A stall detector, not a speed test: the loop froze for ~30 s when routes blocked it.
    assert max(health) < 5.0, health


@pytest.mark.real_clock
def test_busy_requests_reuse_their_database_connections(
    server: str, session: Session, engine: Engine
) -> None:
    """Twenty people at once, twice: each web thread keeps its connection. Before, every
    connection beyond five was closed when its request ended and a new one opened for the next
    (on PostgreSQL a new server process each time, which cost more than the request)."""
    user = factories.user(session, Role.practice_staff)
    clients = [_signed_in(server, user.email) for _ in range(20)]
    closed: list[object] = []

    def on_close(dbapi_connection: object, _record: object) -> None:
        closed.append(dbapi_connection)

    event.listen(engine, "close", on_close)
    try:

        def submit(n: int) -> int:
            response = clients[n].post("/api/forms/flag_problem/submissions", json=flag_payload())
            return response.status_code

        with ThreadPoolExecutor(max_workers=20) as pool:
            for _ in range(3):
                assert list(pool.map(submit, range(20))) == [201] * 20
    finally:
        event.remove(engine, "close", on_close)
        for client in clients:
            client.close()
    assert closed == []


@pytest.mark.real_clock
def test_slowed_sign_in_attempts_leave_the_server_answering(
    settings: Settings, session: Session
) -> None:
    """Someone trying passwords is slowed down; while they wait, the server's threads (two
    here) and database connections are free for everyone else."""
    slow = settings.model_copy(
        update={"web_threads": 2, "login_slow_after": 1, "login_slow_delay_seconds": 3.0}
    )
    user = factories.user(session, Role.practice_staff)
    with serving(slow) as base, ThreadPoolExecutor(max_workers=2) as pool:

        def wrong_password() -> int:
            with httpx.Client(base_url=base, timeout=60) as client:
                client.get("/login")
                data = {
                    "email": user.email,
                    "password": "not-the-password",
                    CSRF_FIELD: client.cookies[CSRF_COOKIE],
                }
                return client.post("/login", data=data).status_code

        assert wrong_password() == 401  # the next attempts wait 3 s or more
        slowed = [pool.submit(wrong_password) for _ in range(2)]
        deadline = time.monotonic() + 30
        while _attempts(session) < 3:  # both counted: both are waiting now
            assert time.monotonic() < deadline
            time.sleep(0.05)
        with httpx.Client(base_url=base, timeout=60) as other:
            assert other.get("/login").status_code == 200  # a page drawn in a thread
        assert not any(attempt.done() for attempt in slowed)
        assert [attempt.result() for attempt in slowed] == [401, 401]


def _attempts(session: Session) -> int:
    session.expire_all()
    return len(session.exec(select(LoginFailure)).all())
