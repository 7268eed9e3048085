"""Database engine, sessions and migrations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

ROOT = Path(__file__).resolve().parent.parent

_engines: dict[str, Engine] = {}


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def get_engine(url: str) -> Engine:
    """One engine per URL for the life of the process."""
    if url not in _engines:
        _engines[url] = make_engine(url)
    return _engines[url]


def session_for(url: str) -> Iterator[Session]:
    with Session(get_engine(url)) as session:
        yield session


def alembic_config(url: str):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "assistant" / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # configparser escaping
    return cfg


def migrate(url: str) -> None:
    """Bring the database at ``url`` to the latest revision of every branch."""
    from alembic import command

    command.upgrade(alembic_config(url), "heads")


def is_reachable(engine: Engine) -> bool:
    from sqlalchemy import text

    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
