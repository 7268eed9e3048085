"""Database engine, sessions and migrations."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.sql.dml import Insert
from sqlmodel import Session, create_engine

from assistant.settings import get_settings

ROOT = Path(__file__).resolve().parent.parent

_engines: dict[str, Engine] = {}


SQLITE_BUSY_TIMEOUT_SECONDS = 30
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLAC")
# Connections opened beyond the kept ones (the in-app worker, start-up), closed when given back.
EXTRA_CONNECTIONS = 8
# A PostgreSQL connection unused for this long is checked before it is handed out.
PING_AFTER_IDLE_SECONDS = 1.0


def make_engine(
    url: str, *, kept: int | None = None, ping_after_idle: float = PING_AFTER_IDLE_SECONDS
) -> Engine:
    """The engine for ``url``, keeping ``kept`` connections open for reuse (default: one for
    each web thread, ``WEB_THREADS``), opened as needed.

    Every web thread can hold a connection at once. With fewer kept, each connection beyond them
    was closed when given back and a new one opened for the next request: on PostgreSQL a new
    server process each time (``make bench``, 32 connections to two web processes: a new
    PostgreSQL session for every third request, and two processes answered no more than one).

    A PostgreSQL connection that sat unused for ``ping_after_idle`` seconds is checked with a
    round trip before it is handed out, and replaced if the server closed it (a restart, an
    idle timeout); one given back a moment ago is handed out as it is (HikariCP's rule), so
    a busy server does not pay a round trip per request for it.
    """
    pool = {
        "pool_size": kept if kept is not None else get_settings().web_threads,
        "max_overflow": EXTRA_CONNECTIONS,
    }
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            **pool,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            # Each commit is on disk before the request is answered, power cut or not: a phone
            # deletes its offline copy of a form once the server has answered, and Twilio does
            # not send again a text that was answered (WAL's default; NORMAL would be faster).
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
            cur.close()

        _queue_sqlite_writers(engine)
        return engine
    engine = create_engine(url, **pool)
    _ping_when_idle(engine, ping_after_idle)
    return engine


# NULL while the transaction has written nothing (PostgreSQL gives a transaction its id at its
# first write or row lock).
_WRITTEN = sa.text("SELECT pg_current_xact_id_if_assigned()")


def close_session(session: Session, *, only_read: bool = False) -> None:
    """Close ``session``, ending its transaction as leaving it open would: undone. On
    PostgreSQL a transaction that only read (the server gave it no id: no write, no row lock;
    no error; nothing waiting to be flushed) is ended with COMMIT instead, which undoes nothing
    either and keeps the connection's prepared statements: psycopg drops every one of them
    after a ROLLBACK, so each page that only read cost the next requests on its connection
    theirs. Asked only here, at the end of a transaction the request left open (a page that
    read): the paths that commit pay nothing for it. ``only_read``: the caller knows it did
    (one SELECT), so the server is not asked."""
    with contextlib.suppress(sa.exc.SQLAlchemyError):  # closing undoes what is left
        if (only_read and session.in_transaction()) or _only_read(session):
            session.commit()
    session.close()


def _only_read(session: Session) -> bool:
    if not session.in_transaction() or not session.is_active:  # none, or failed
        return False
    if session.new or session.dirty or session.deleted:
        return False
    conn = session.connection()
    return conn.dialect.name == "postgresql" and conn.execute(_WRITTEN).scalar() is None


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    @event.listens_for(engine, "checkin")
    def _given_back(_dbapi_conn: Any, record: Any) -> None:
        record.info["given_back"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        given_back = record.info.get("given_back")
        if given_back is None or time.monotonic() - given_back < idle_seconds:
            return  # just opened, or just used
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # whatever the driver raises for a closed connection
            # The pool closes this one and hands out another (or opens one).
            raise sa.exc.DisconnectionError(str(exc)) from exc


def _queue_sqlite_writers(engine: Engine) -> None:
    """Writers of one process take turns on a lock instead of in SQLite's busy handler.

    SQLite lets one connection write at a time; a connection that finds the file locked sleeps
    and retries (1, 2, 5 ... 100 ms apart), so under concurrent requests some waited for
    seconds while others came and went. Here a connection takes the engine's lock just before
    its transaction's first write (when SQLite takes its write lock) and gives it back when the
    transaction ends, so the next writer starts the moment the file is free (``make bench``,
    the SMS webhook at 8 connections: p99 1.1 s before, 0.13 s after; p50 27 ms before, 61 ms
    after, as nobody jumps the queue). Other processes (more web processes, the worker) still
    meet in SQLite's busy handler. A connection waits at most the busy timeout for the lock,
    then goes on to SQLite's own waiting, and a thread never waits for the lock it holds itself
    on another connection.
    """
    lock = threading.Lock()
    holder: dict[str, int | None] = {"connection": None, "thread": None}  # who has the lock
    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def _release(dbapi_conn: Any) -> None:
        raw = getattr(dbapi_conn, "dbapi_connection", dbapi_conn)  # a pool proxy or the raw one
        if holder["connection"] == id(raw):
            holder["connection"] = holder["thread"] = None
            lock.release()

    @event.listens_for(engine, "before_cursor_execute")
    def _before_write(conn, _cursor, statement, _params, _context, _many):  # type: ignore[no-untyped-def]
        raw = conn.connection.dbapi_connection
        if raw.in_transaction:
            return  # this transaction writes already
        if statement.lstrip()[:6].upper() not in _WRITES:
            return  # reads need no lock in WAL mode; the driver opens no transaction for them
        if holder["thread"] == threading.get_ident():
            return  # this thread writes on another connection: SQLite decides
        if lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_SECONDS):
            holder["connection"], holder["thread"] = id(raw), threading.get_ident()

    def do_commit(dbapi_conn: Any) -> None:
        try:
            commit(dbapi_conn)
        finally:
            _release(dbapi_conn)

    def do_rollback(dbapi_conn: Any) -> None:
        try:
            rollback(dbapi_conn)
        finally:
            _release(dbapi_conn)

    dialect.do_commit = do_commit  # type: ignore[method-assign,assignment]
    dialect.do_rollback = do_rollback  # type: ignore[method-assign,assignment]
    for closing in ("close", "close_detached", "invalidate"):
        event.listen(engine, closing, lambda dbapi_conn, *_: _release(dbapi_conn))


def conflict_insert(dialect: str, table: sa.Table) -> PgInsert | SqliteInsert:
    """An INSERT into ``table`` that can say what to do ``ON CONFLICT``, for the database
    named by ``dialect`` (``connection.dialect.name``): PostgreSQL's, else SQLite's."""
    return pg_insert(table) if dialect == "postgresql" else sqlite_insert(table)


@cache
def insert_or_skip(dialect: str, model: type[Any], keys: tuple[str, ...]) -> Insert:
    """``INSERT ... ON CONFLICT (keys) DO NOTHING`` into ``model``'s table: rows whose unique
    ``keys`` are stored already (or are being stored by another transaction) are skipped, in
    the same statement. Built once for each database and table; execute it with the rows as
    parameters."""
    table = sa.inspect(model).local_table
    assert isinstance(table, sa.Table)
    return conflict_insert(dialect, table).on_conflict_do_nothing(index_elements=list(keys))


@cache
def _insert_returning_key(table: sa.Table) -> Insert:
    return sa.insert(table).returning(*table.primary_key.columns)


def add_inserted(session: Session, obj: Any) -> None:
    """Store ``obj``, a new table model whose key the database makes, by one plain
    ``INSERT ... RETURNING``, and hold it in ``session`` as though flushed: its key is set, and
    later changes to it are flushed as UPDATEs.

    A third of the work of a flush for one new object (the unit of work sorts, compares and
    copies). For models without relationships; the caller's transaction holds the row.
    """
    table = sa.inspect(type(obj)).local_table
    assert isinstance(table, sa.Table)
    row = session.connection().execute(_insert_returning_key(table), insert_values(obj)).one()
    hold_as_flushed(session, obj, row._mapping)


def insert_values(obj: Any) -> dict[str, Any]:
    """The values of ``obj``'s row for its INSERT, by column (a key the database makes left
    out)."""
    mapper = sa.inspect(type(obj))
    keys = {column.key for column in mapper.local_table.primary_key.columns}
    state = obj.__dict__  # the values as set (an attribute not there is read as usual)
    values = {}
    for prop in mapper.column_attrs:
        value = state[prop.key] if prop.key in state else getattr(obj, prop.key)
        if value is not None or prop.columns[0].key not in keys:
            values[prop.columns[0].key] = value
    return values


def hold_as_flushed(session: Session, obj: Any, key: Mapping[str, Any] | sa.RowMapping) -> None:
    """Hold ``obj``, whose row a plain INSERT stored, in ``session`` as though flushed, its key
    columns set from ``key`` (the INSERT's RETURNING)."""
    for name, value in key.items():
        setattr(obj, name, value)
    make_transient_to_detached(obj)
    session.add(obj)


Model = TypeVar("Model")


def build(model: type[Model], **values: Any) -> Model:
    """A new ``model`` instance (a SQLModel table model), as ``model(**values)`` builds it: the
    fields not given take their defaults, nothing is validated (SQLModel validates no table
    model). Built as the ORM builds the rows it loads, with the values put in place at once:
    SQLModel's constructor sets each field through the ORM's attribute events, which on the
    busiest paths costs more than storing the row. Added to a session (or ``add_inserted``), it
    is stored as the constructor's would be."""
    fields = model.model_fields  # type: ignore[attr-defined]
    unknown = values.keys() - fields.keys()
    if unknown:
        raise TypeError(f"{model.__name__} has no field {', '.join(sorted(unknown))}")
    obj: Model = sa.inspect(model).class_manager.new_instance()
    state = obj.__dict__
    for name, field in fields.items():
        if name in values:
            state[name] = values[name]
        elif not field.is_required():
            state[name] = field.get_default(call_default_factory=True)
    object.__setattr__(obj, "__pydantic_fields_set__", set(values))
    return obj


def loaded(model: type[Model], row: Mapping[str, Any] | sa.RowMapping) -> Model:
    """A ``model`` instance for a row read by a plain (Core) SELECT of all its table's columns,
    detached: what the ORM would build loading that row, then expunged, without its per-row
    work (the identity map, the loading events). Its attributes read without SQL; added to a
    session, its changes flush as UPDATEs."""
    obj: Model = sa.inspect(model).class_manager.new_instance()
    sa.inspect(obj).dict.update(row)
    make_transient_to_detached(obj)
    return obj


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
