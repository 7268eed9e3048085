"""The command line: migrate, demo, check, createadmin, serve --workers."""

from __future__ import annotations

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


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the web processes through /proc")
def test_serve_with_two_workers_answers_from_each_and_leaves_the_outbox_alone(
    db_url: str, session: Session, tmp_path: Path
) -> None:
    factories.user(session)  # not empty: no demo data to load
    queued = enqueue_sms(session, to="+64215550199", body="Kia ora", purpose="test")
    session.commit()
    queued.next_attempt_at = datetime(2000, 1, 1, tzinfo=UTC)  # due by any clock
    session.add(queued)
    session.commit()
    port = _free_port()
    env = os.environ | {
        "DATABASE_URL": db_url,
        "ENVIRONMENT": "development",  # where the app would run the outbox worker itself
        "WORKER_POLL_SECONDS": "0.05",
        "TWILIO_ACCOUNT_SID": "",
    }
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "assistant", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while time.monotonic() < deadline and len(workers) < 2:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            workers = _web_processes(server.pid)
            time.sleep(0.1)
        assert len(workers) == 2, (tmp_path / "serve.log").read_text()
        while (tmp_path / "serve.log").read_text().count("Application startup complete") < 2:
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.1)
        # Each process alone answers on the shared port while the other is paused (briefly:
        # uvicorn replaces a worker that does not answer its health checks for 5 s).
        for serving in workers:
            paused = [pid for pid in workers if pid != serving]
            for pid in paused:
                os.kill(pid, signal.SIGSTOP)
            try:
                assert _healthz(port, timeout=3) == 200
            finally:
                for pid in paused:
                    os.kill(pid, signal.SIGCONT)
        time.sleep(0.5)  # an outbox worker in either process would have passed ten times
        session.expire_all()
        row = session.get(OutboxMessage, queued.id)
        assert row is not None and row.status == OutboxStatus.queued
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=15) == 0
        assert all(not Path(f"/proc/{pid}").exists() for pid in workers)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        log.close()
