"""Shared fixtures: a fresh, migrated database per test (SQLite, or PostgreSQL with TEST_DB)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from assistant import db as dbmod
from assistant.app import create_app
from assistant.models_registry import import_all
from assistant.people import accounts
from assistant.security import passwords
from assistant.security.csrf import CSRF_COOKIE
from assistant.settings import Settings
from tests.clock import FIXED_NOW

USE_POSTGRES = os.environ.get("TEST_DB") == "postgres"
PG_URL = os.environ.get("TEST_DATABASE_URL", "")


# Empties every table and restarts every used sequence, as TRUNCATE ... RESTART IDENTITY would,
# in one round trip: TRUNCATE gives each table new files and took about half a second per test.
# Tables are emptied children first (the order of ``tables``), so foreign keys hold throughout.
_RESET_FUNCTION = """
CREATE FUNCTION {schema}.reset_test_data(tables text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    name text;
    seq record;
BEGIN
    FOREACH name IN ARRAY tables LOOP
        EXECUTE format('DELETE FROM {schema}.%I', name);
    END LOOP;
    FOR seq IN
        SELECT sequencename FROM pg_sequences
        WHERE schemaname = '{schema}' AND last_value IS NOT NULL
    LOOP
        PERFORM setval(format('{schema}.%I', seq.sequencename), 1, false);
    END LOOP;
END
$$
"""


def reset_postgres(engine: Engine) -> None:
    """Empty every table of the worker's schema and restart its ids from 1."""
    children_first = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    with engine.begin() as conn:
        conn.execute(text("SELECT reset_test_data(:tables)"), {"tables": children_first})


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session", autouse=True)
def _fixed_clock_for_the_session() -> Iterator[None]:
    """Session fixtures (the live server's demo data, template databases) are made at
    ``FIXED_NOW`` too, whatever the date the suite runs on."""
    with time_machine.travel(FIXED_NOW, tick=True):
        yield


@pytest.fixture(autouse=True)
def _fixed_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test starts at ``FIXED_NOW`` (time flows from there) unless marked ``real_clock``."""
    real = time_machine.escape_hatch.time.time()
    moment = real if request.node.get_closest_marker("real_clock") else FIXED_NOW
    with time_machine.travel(moment, tick=True):
        yield


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    """Real argon2id hashing and checking everywhere, at the lowest cost parameters: at the
    production cost each hash or sign-in takes a large share of a second on a busy machine."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    dummy = cheap.hash("not-a-real-password")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_hasher", cheap)
        patch.setattr(passwords, "DUMMY_HASH", dummy)
        patch.setattr(accounts, "DUMMY_HASH", dummy)
        yield


@pytest.fixture(scope="session")
def _template_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Migrate once per worker: a SQLite file to copy, or a PostgreSQL schema to truncate."""
    import_all()
    if USE_POSTGRES:
        if not PG_URL:
            pytest.exit("TEST_DB=postgres needs TEST_DATABASE_URL", returncode=2)
        schema = f"t_{re.sub(r'[^a-z0-9]', '_', _worker().lower())}"
        admin = dbmod.make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        admin.dispose()
        sep = "&" if "?" in PG_URL else "?"
        url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
        dbmod.migrate(url)
        with dbmod.get_engine(url).begin() as conn:
            conn.execute(text(_RESET_FUNCTION.format(schema=schema)))
        return url
    path = tmp_path_factory.mktemp("template") / "template.db"
    dbmod.migrate(f"sqlite:///{path}")
    return str(path)


@pytest.fixture
def db_url(_template_db: str, tmp_path: Path) -> Iterator[str]:
    if USE_POSTGRES:
        url = _template_db
        yield url
        reset_postgres(dbmod.get_engine(url))
        return
    path = tmp_path / "test.db"
    shutil.copyfile(_template_db, path)
    url = f"sqlite:///{path}"
    yield url
    engine = dbmod._engines.pop(url, None)
    if engine is not None:
        engine.dispose()


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(
        environment="test",
        database_url=db_url,
        secret_key="test-secret",
        public_base_url="http://testserver",
        login_slow_delay_seconds=0.0,
        run_worker_in_app=False,
        twilio_account_sid="AC00000000000000000000000000000000",
        twilio_auth_token="test-auth-token",
        twilio_from_number="+6435550100",
    )


@pytest.fixture
def engine(settings: Settings) -> Engine:
    return dbmod.get_engine(settings.database_url)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as s:
        yield s


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


class Client(TestClient):
    """A browser-like client: sends the CSRF cookie's token back, as our pages do."""

    def request(self, method: str, url: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if method.upper() not in {"GET", "HEAD", "OPTIONS"}:
            if CSRF_COOKIE not in self.cookies:
                super().request("GET", "/login")
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRF-Token", self.cookies.get(CSRF_COOKIE, ""))
            kwargs["headers"] = headers
        return super().request(method, url, **kwargs)


@pytest.fixture
def client(app: FastAPI) -> Iterator[Client]:
    with Client(app, follow_redirects=False) as c:
        yield c


@pytest.fixture
def login(client: Client, settings: Settings) -> Any:
    """``login(user)`` signs the test client in as that user (password from factories)."""
    from tests.factories import PASSWORD

    def _login(user: Any, c: Client | None = None) -> Client:
        c = c or client
        response = c.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 303, response.text
        return c

    return _login
