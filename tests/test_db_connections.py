"""Database connections: kept for reuse, and replaced when the server closed one."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from assistant import db as dbmod

pytestmark = pytest.mark.postgres_only


def _backend(engine: dbmod.Engine) -> int:
    with engine.connect() as conn:
        pid: int = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        return pid


def test_a_connection_the_server_closed_while_unused_is_replaced(db_url: str) -> None:
    """PostgreSQL restarted, or closed an idle connection: the next request still works."""
    engine = dbmod.make_engine(db_url, kept=2, ping_after_idle=0.0)
    admin = dbmod.make_engine(db_url, kept=1)
    try:
        first = _backend(engine)
        with admin.begin() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        second = _backend(engine)  # raised "server closed the connection" without the check
        assert second != first
        assert _backend(engine) == second  # the new one is kept
    finally:
        engine.dispose()
        admin.dispose()


def test_a_connection_given_back_a_moment_ago_is_handed_out_without_a_round_trip(
    db_url: str,
) -> None:
    """A busy server pays no extra round trip per request to check its connections."""
    engine = dbmod.make_engine(db_url, kept=2, ping_after_idle=60.0)
    pings: list[object] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        pings.append(dbapi_connection)
        return ping(dbapi_connection)

    engine.dialect.do_ping = counted  # type: ignore[method-assign]
    try:
        assert len({_backend(engine) for _ in range(5)}) == 1
        assert pings == []
    finally:
        engine.dispose()


def test_a_twilio_retry_leaves_the_connections_prepared_statements(db_url: str) -> None:
    """psycopg prepares a statement once it has run it a few times, and drops every prepared
    statement after a ROLLBACK: a retry of a message handled before (nothing to write) must
    not cost the messages after it on that connection their prepared statements."""
    from sqlmodel import Session

    from assistant.sms.conversation import handle_inbound

    engine = dbmod.make_engine(db_url, kept=1)

    def prepared() -> int:
        with engine.connect() as conn:
            count: int = conn.execute(
                text("SELECT count(*) FROM pg_prepared_statements")
            ).scalar_one()
            conn.commit()  # not a ROLLBACK, which would drop them
            return count

    try:
        with Session(engine) as session:
            for n in range(8):
                handle_inbound(session, phone="+64211234567", body="Kia ora", message_sid=f"SM{n}")
            assert prepared() > 0
            reply = handle_inbound(session, phone="+64211234567", body="Kia ora", message_sid="SM7")
            assert reply  # the stored reply, again
            assert prepared() > 0  # 0 when the retry ended with ROLLBACK
    finally:
        engine.dispose()


def test_pages_that_only_read_leave_the_connections_prepared_statements(
    client: Any, session: Any, login: Any, engine: dbmod.Engine
) -> None:
    """A page that only reads ends its transaction with COMMIT, not ROLLBACK (after which
    psycopg drops every prepared statement of the connection): the texts, questions and
    submissions that come after it on the same connection keep theirs."""
    from assistant.people.models import Role
    from tests import factories

    login(factories.user(session, Role.practice_staff))
    session.close()
    # A fresh pool: one request after another then use one connection, and psycopg prepares a
    # statement once it has run it five times on a connection.
    engine.dispose()
    for _ in range(8):
        assert client.get("/chat").status_code == 200
    idle = engine.pool.checkedin()  # type: ignore[attr-defined]
    conns = [engine.connect() for _ in range(idle)]  # every connection the pages used
    try:
        counts = []
        for conn in conns:
            counts.append(
                conn.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar_one()
            )
            conn.commit()
    finally:
        for conn in conns:
            conn.close()
    assert max(counts) > 0  # 0 when each page ended with ROLLBACK
