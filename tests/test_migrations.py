"""Migrations: they build the schema from nothing, and the models match them.

A difference here usually means a model changed without a migration: write one in
assistant/migrations/versions/ (see the common brief for naming and branch labels).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from assistant import db as dbmod
from assistant.models_registry import import_all
from tests.conftest import PG_URL, USE_POSTGRES


def _dispose(url: str) -> None:
    engine = dbmod._engines.pop(url, None)
    if engine is not None:
        engine.dispose()


@pytest.fixture
def fresh_url(tmp_path: Path) -> Iterator[str]:
    """An empty database: a new SQLite file, or a new PostgreSQL schema with TEST_DB=postgres."""
    if not USE_POSTGRES:
        url = f"sqlite:///{tmp_path}/fresh.db"
        yield url
        _dispose(url)
        return
    worker = re.sub(r"[^a-z0-9]", "_", os.environ.get("PYTEST_XDIST_WORKER", "main").lower())
    schema = f"mig_{worker}"
    admin = dbmod.make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    yield url
    _dispose(url)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


def _describe(diff: Any) -> str:
    return repr(diff)[:300]


def test_every_branch_has_one_head_and_reaches_the_foundation() -> None:
    script = ScriptDirectory.from_config(dbmod.alembic_config("sqlite://"))
    bases = script.get_bases()
    assert bases == ["0001_foundation"], f"one base revision expected, found {bases}"
    for head in script.get_heads():
        revisions = {rev.revision for rev in script.iterate_revisions(head, "base")}
        assert "0001_foundation" in revisions, f"{head} does not descend from 0001_foundation"


def test_upgrade_heads_builds_the_whole_schema_and_models_match(fresh_url: str) -> None:
    import_all()
    dbmod.migrate(fresh_url)
    engine = dbmod.get_engine(fresh_url)
    tables = set(inspect(engine).get_table_names())
    wanted = set(SQLModel.metadata.tables)
    assert wanted <= tables, f"tables without a migration: {sorted(wanted - tables)}"
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": False}
        )
        diffs = compare_metadata(context, SQLModel.metadata)
    assert not diffs, "The models and the migrations differ; write a migration for:\n" + "\n".join(
        _describe(d) for d in diffs
    )
    # Running it again is a no-op.
    dbmod.migrate(fresh_url)
