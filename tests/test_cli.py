"""The command line: migrate, demo, check, createadmin."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po
from sqlalchemy import inspect
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from assistant import db as dbmod
from assistant import i18n_tools
from assistant.cli import app
from assistant.people.accounts import authenticate, find_by_email
from assistant.people.models import Role, User
from assistant.settings import get_settings
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
