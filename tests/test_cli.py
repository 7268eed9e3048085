"""The command line: migrate, demo, check, createadmin, serve --workers."""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po
from sqlalchemy import inspect
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from assistant import db as dbmod
from assistant import i18n_tools
from assistant.cli import app
from assistant.clock import utcnow
from assistant.outbox.models import OutboxMessage, OutboxStatus
from assistant.outbox.queue import enqueue_sms
from assistant.people.accounts import authenticate, find_by_email
from assistant.people.models import Role, User
from assistant.serving import port_socket, reserve_port
from assistant.settings import get_settings
from assistant.support import tickets
from tests import factories

runner = CliRunner()


@pytest.fixture
def env_db(monkeypatch: pytest.MonkeyPatch, db_url: str) -> Iterator[str]:
    """Point the CLI (which reads settings from the environment) at the test database."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("ENVIRONMENT", "test")
    get_settings.cache_clear()
    yield db_url
    get_settings.cache_clear()


def test_migrate_creates_the_schema_on_a_fresh_database(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["migrate"])
        assert result.exit_code == 0, result.output
        assert "Database is up to date." in result.output
        engine = dbmod.get_engine(url)
        tables = set(inspect(engine).get_table_names())
        assert {"user", "practice", "portfolioassignment", "audit_event"} <= tables
        again = runner.invoke(app, ["migrate"])
        assert again.exit_code == 0, again.output
    finally:
        get_settings.cache_clear()
        engine = dbmod._engines.pop(url, None)
        if engine is not None:
            engine.dispose()


def test_demo_is_idempotent_and_prints_the_logins(env_db: str, session: Session) -> None:
    first = runner.invoke(app, ["demo"])
    assert first.exit_code == 0, first.output
    assert "password for all: demo-pass-2026" in first.output
    assert "admin@pho.example.nz" in first.output
    assert "reception@riccarton.example.nz" in first.output
    count = session.exec(select(func.count()).select_from(User)).one()
    second = runner.invoke(app, ["demo"])
    assert second.exit_code == 0, second.output
    assert session.exec(select(func.count()).select_from(User)).one() == count
    assert authenticate(session, email="admin@pho.example.nz", password="demo-pass-2026")


def _copy_locales(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "locales"
    shutil.copytree(i18n_tools.LOCALES_DIR, copy, ignore=shutil.ignore_patterns("*.mo", ".lock"))
    monkeypatch.setattr(i18n_tools, "LOCALES_DIR", copy)
    return copy


def test_check_lists_an_untranslated_message_and_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = _copy_locales(tmp_path, monkeypatch)
    po = copy / "mi" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as fp:
        catalog = read_po(fp, locale="mi")
    catalog["Sign in"].string = ""
    with po.open("wb") as fp:
        write_po(fp, catalog, width=0)
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 1
    assert "locales/mi: untranslated: 'Sign in'" in result.output
    assert "problem(s) found" in result.output


def test_check_reports_a_catalog_that_cannot_be_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = _copy_locales(tmp_path, monkeypatch)
    po = copy / "ar" / "LC_MESSAGES" / "messages.po"
    po.write_text('msgid "Sign in"\nmsgstr "unterminated\n', encoding="utf-8")
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 1
    assert "locales/ar: not in catalog: 'Kia ora, %(name)s'" in result.output
    assert "problem(s) found" in result.output


def test_createadmin_creates_then_resets(env_db: str, session: Session) -> None:
    args = ["createadmin", "--email", "boss@pho.example.nz", "--name", "Boss"]
    created = runner.invoke(app, [*args, "--password", "first password 1"])
    assert created.exit_code == 0, created.output
    assert "Created admin boss@pho.example.nz." in created.output
    user = find_by_email(session, "boss@pho.example.nz")
    assert user is not None and user.role == Role.admin
    reset = runner.invoke(app, [*args, "--password", "second password 2"])
    assert reset.exit_code == 0, reset.output
    assert "Reset the password" in reset.output
    session.expire_all()
    assert authenticate(session, email="boss@pho.example.nz", password="second password 2")


def test_createadmin_refuses_a_short_password_and_a_non_admin(
    env_db: str, session: Session
) -> None:
    short = runner.invoke(
        app, ["createadmin", "--email", "a@b.nz", "--name", "A", "--password", "short"]
    )
    assert short.exit_code == 2
    assert "at least 10 characters" in short.output
    staff = factories.user(session, Role.liaison)
    refused = runner.invoke(
        app, ["createadmin", "--email", staff.email, "--name", "X", "--password", "long enough 123"]
    )
    assert refused.exit_code == 1
    assert "is not an admin" in refused.output


def test_escalate_overdue_moves_an_overdue_question_to_its_teams_queue(
    env_db: str, session: Session
) -> None:
    practice = factories.practice(session)
    liaison = factories.user(session, Role.liaison)
    factories.portfolio(session, practice, liaison)
    asker = factories.user(session, practice_id=practice.id)
    assert practice.id is not None and asker.id is not None
    ticket = tickets.create_ticket(
        session,
        practice_id=practice.id,
        asker_id=asker.id,
        question="Who fixes the fax?",
        now=utcnow() - timedelta(days=10),
    )
    session.commit()
    assert ticket.assignee_id == liaison.id
    result = runner.invoke(app, ["escalate-overdue"])
    assert result.exit_code == 0, result.output
    assert "Escalated 1 overdue question(s)." in result.output
    session.refresh(ticket)  # stored by the command, read here
    assert ticket.escalated_at is not None and ticket.assignee_id is None
    again = runner.invoke(app, ["escalate-overdue"])
    assert "Escalated 0 overdue question(s)." in again.output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _healthz(port: int, timeout: float) -> int:
    url = f"http://127.0.0.1:{port}/healthz"
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback
        return int(response.status)


def _web_processes(parent: int) -> list[int]:
    """The uvicorn worker processes started by ``parent`` (not multiprocessing's tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return sorted(found)


STARTED = "Application startup complete"
needs_proc = pytest.mark.skipif(
    not Path("/proc/net/tcp").is_file(), reason="finds processes and connections through /proc"
)


def _serve(db_url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    """``serve --workers 2`` in a database that has data (no demo data to load)."""
    env = os.environ | {
        "DATABASE_URL": db_url,
        "ENVIRONMENT": "development",  # where the app would run the outbox worker itself
        "WORKER_POLL_SECONDS": "0.05",
        "TWILIO_ACCOUNT_SID": "",
    }
    command = [sys.executable, "-m", "assistant", "serve", "--port", str(port), "--workers", "2"]
    with log.open("wb") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


def _wait_for_workers(
    server: subprocess.Popen[bytes],
    log: Path,
    port: int,
    *,
    started: int,
    gone: tuple[int, ...] = (),
) -> list[int]:
    """The two web processes, once the log shows ``started`` app start-ups, none of ``gone``
    is among them, and each listens on ``port`` (a moment after its start-up line)."""
    deadline = time.monotonic() + 120
    while True:
        text = log.read_text()
        assert server.poll() is None, text
        workers = _web_processes(server.pid)
        if (
            text.count(STARTED) >= started
            and len(workers) == 2
            and not set(gone) & set(workers)
            and all(_held(pid, _sockets(port, "0A")) == 1 for pid in workers)
        ):
            return workers
        assert time.monotonic() < deadline, text
        time.sleep(0.1)


def _stop(server: subprocess.Popen[bytes]) -> None:
    """Ctrl-C if still running; the web processes and the supervisor killed if that fails."""
    if server.poll() is not None:
        return
    workers = _web_processes(server.pid)
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        for pid in [*workers, server.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        server.wait()


def _sockets(port: int, state: str, remote_ports: set[int] | None = None) -> set[str]:
    """The kernel's TCP sockets on local ``port`` in ``state`` (01 established, 0A listening),
    from ``remote_ports`` if given, as the ``socket:[inode]`` a process's descriptors link to."""
    found = set()
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        if not table.is_file():
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            local = int(fields[1].rsplit(":", 1)[1], 16)
            remote = int(fields[2].rsplit(":", 1)[1], 16)
            wanted = remote_ports is None or remote in remote_ports
            if fields[3] == state and local == port and wanted:
                found.add(f"socket:[{fields[9]}]")
    return found


def _held(pid: int, sockets: set[str]) -> int:
    """How many of ``sockets`` the process ``pid`` has open."""
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):  # closed meanwhile
            count += os.readlink(fd) in sockets
    return count


def _burst(workers: list[int], port: int, size: int) -> dict[int, int]:
    """``size`` keep-alive connections opened together, then a request on each: how many of
    them each web process holds once all are answered."""
    connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(size)]
    try:
        for connection in connections:
            connection.connect()
        for connection in connections:
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            response.read()
            assert response.status == 200
        clients = {int(c.sock.getsockname()[1]) for c in connections}
        established = _sockets(port, "01", clients)
        return {pid: _held(pid, established) for pid in workers}
    finally:
        for connection in connections:
            connection.close()


@needs_proc
def test_serve_with_two_workers_spreads_connections_and_leaves_the_outbox_alone(
    db_url: str, session: Session, tmp_path: Path
) -> None:
    factories.user(session)  # not empty: no demo data to load
    queued = enqueue_sms(session, to="+64215550199", body="Kia ora", purpose="test")
    session.commit()
    queued.next_attempt_at = datetime(2000, 1, 1, tzinfo=UTC)  # due by any clock
    session.add(queued)
    session.commit()
    port, log = _free_port(), tmp_path / "serve.log"
    server = _serve(db_url, port, log)
    try:
        workers = _wait_for_workers(server, log, port, started=2)
        # Bursts of keep-alive connections, as from a busy proxy: each process serves a share
        # of every burst, not one process all of it.
        for _ in range(3):
            held = _burst(workers, port, 16)
            assert sum(held.values()) == 16, held
            assert all(count >= 2 for count in held.values()), held
        time.sleep(0.5)  # an outbox worker in either process would have passed ten times
        session.expire_all()
        row = session.get(OutboxMessage, queued.id)
        assert row is not None and row.status == OutboxStatus.queued
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0, log.read_text()
        assert all(not Path(f"/proc/{pid}").exists() for pid in workers)
    finally:
        _stop(server)


@needs_proc
@pytest.mark.timed_waits  # the supervisor looks at its processes every 0.5 s (a timed wait)
def test_serve_with_two_workers_replaces_a_killed_process_and_every_connection_is_answered(
    db_url: str, session: Session, tmp_path: Path
) -> None:
    factories.user(session)
    session.commit()
    port, log = _free_port(), tmp_path / "serve.log"
    server = _serve(db_url, port, log)
    try:
        workers = _wait_for_workers(server, log, port, started=2)
        os.kill(workers[0], signal.SIGKILL)
        now = _wait_for_workers(server, log, port, started=3, gone=(workers[0],))
        assert workers[1] in now
        # Nothing is left listening for the killed process: each new connection reaches one
        # that answers.
        for _ in range(20):
            assert _healthz(port, timeout=3) == 200
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0, log.read_text()
        assert all(not Path(f"/proc/{pid}").exists() for pid in now)
    finally:
        _stop(server)


def test_serve_with_two_workers_on_a_port_in_use_exits_before_starting_a_process(
    db_url: str, session: Session, tmp_path: Path
) -> None:
    factories.user(session)
    session.commit()
    log = tmp_path / "serve.log"
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = int(other.getsockname()[1])
        server = _serve(db_url, port, log)
        try:
            assert server.wait(timeout=120) == 1, log.read_text()
        finally:
            _stop(server)
    text = log.read_text()
    assert f"Cannot listen on 127.0.0.1:{port}:" in text
    assert "Started parent process" not in text and STARTED not in text


def test_a_reserved_port_is_joined_by_the_web_processes_and_taken_by_no_other_server() -> None:
    reservation = reserve_port("127.0.0.1", 0)
    port = int(reservation.getsockname()[1])
    web = [port_socket("127.0.0.1", port) for _ in range(2)]
    try:
        for sock in web:
            sock.listen()
        for reuse_address in (False, True):  # most servers set SO_REUSEADDR
            with socket.socket() as other:
                other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, int(reuse_address))
                with pytest.raises(OSError):
                    other.bind(("127.0.0.1", port))
                    other.listen()
        for sock in web:
            sock.close()  # no web process listening: the port is still ours
        with socket.socket() as other:
            other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            with pytest.raises(OSError):
                other.bind(("127.0.0.1", port))
                other.listen()
        with pytest.raises(ConnectionRefusedError):  # a reservation accepts no connection
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
    finally:
        for sock in web:
            sock.close()
        reservation.close()
