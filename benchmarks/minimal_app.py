"""The minimal correct versions of what people wait for, served the same way as ours.

The served benchmark (``bench_http``) measures each of our request paths against one of these,
in the same run, on the same kind of database and behind the same uvicorn settings:

- ``POST /sms/twilio``: the Twilio signature checked, the message stored once by its MessageSid
  in one transaction (a retry stores nothing more), TwiML returned;
- ``POST /chat/ask``: a signed-in user (session cookie looked up, CSRF token checked), the
  question stored, an HTML fragment returned;
- ``POST /api/forms/{form_id}/submissions``: a signed-in user, the JSON stored once by its
  ``instance_id`` (201; the same again 200; different answers 409).

Run with ``uvicorn benchmarks.minimal_app:app``; ``BENCH_MINIMAL_DATABASE_URL`` names the
database, ``BENCH_TWILIO_TOKEN`` and ``BENCH_PUBLIC_URL`` the webhook's signing token and public
address. ``create_tables`` and ``add_user`` prepare the database (the benchmark calls them).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import os
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from twilio.request_validator import RequestValidator

metadata = sa.MetaData()
users = sa.Table(
    "min_user",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
)
sessions = sa.Table(
    "min_session",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("min_user.id"), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)
inbound = sa.Table(
    "min_sms",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("message_sid", sa.String(64), nullable=False, unique=True),
    sa.Column("phone", sa.String(20), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
)
questions = sa.Table(
    "min_question",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.ForeignKey("min_user.id"), nullable=False, index=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
submissions = sa.Table(
    "min_submission",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("instance_id", sa.String(64), nullable=False, unique=True),
    sa.Column("form_id", sa.String(60), nullable=False),
    sa.Column("user_id", sa.ForeignKey("min_user.id"), nullable=False),
    sa.Column("answers", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


# Its routes' blocking work runs on anyio's default thread pool, as a plain FastAPI app's does.
THREADS = 40


def engine_for(url: str) -> Engine:
    """An engine with ours' settings (``assistant.db.make_engine``): a connection kept for each
    thread (ours keeps one for each of its ``WEB_THREADS``), the same extra ones, and for
    SQLite the same WAL mode, busy timeout and queue of writers. Its pool follows its own
    threads, not ours: with fewer connections than threads, its requests would wait for one."""
    from assistant.db import make_engine

    return make_engine(url, kept=THREADS)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_tables(engine: Engine) -> None:
    metadata.create_all(engine)


def add_user(engine: Engine, *, role: str = "practice_staff") -> str:
    """A user with a session; returns the session cookie's token."""
    token = secrets.token_urlsafe(32)
    with engine.begin() as conn:
        user_id = conn.execute(users.insert().values(role=role, active=True)).inserted_primary_key
        conn.execute(
            sessions.insert().values(
                id=_digest(token),
                user_id=user_id[0],
                expires_at=datetime.now(UTC) + timedelta(hours=12),
            )
        )
    return token


def _insert_once(engine: Engine, table: sa.Table, key: str, values: dict[str, Any]) -> int | None:
    """Insert unless a row with the same ``key`` exists: the new row's id, or None."""
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    stmt = insert(table).values(**values).on_conflict_do_nothing(index_elements=[key])
    with engine.begin() as conn:
        return conn.execute(stmt.returning(table.c.id)).scalar()


def create_app() -> FastAPI:
    engine = engine_for(os.environ["BENCH_MINIMAL_DATABASE_URL"])
    validator = RequestValidator(os.environ["BENCH_TWILIO_TOKEN"])
    webhook_url = os.environ["BENCH_PUBLIC_URL"].rstrip("/") + "/sms/twilio"
    app = FastAPI()

    def signed_in(request: Request, *, roles: frozenset[str]) -> int | None:
        """The user id, when the session cookie is live and the CSRF token matches."""
        expected = request.cookies.get("csrftoken", "")
        sent = request.headers.get("x-csrf-token", "")
        if not expected or not hmac.compare_digest(expected, sent):
            return None
        token = request.cookies.get("session")
        if not token:
            return None
        query = (
            sa.select(users.c.id, users.c.role)
            .join(sessions, sessions.c.user_id == users.c.id)
            .where(sessions.c.id == _digest(token))
            .where(sessions.c.expires_at > datetime.now(UTC))
            .where(users.c.active.is_(True))
        )
        with engine.connect() as conn:
            row = conn.execute(query).first()
        return int(row.id) if row is not None and row.role in roles else None

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return {"status": "ok"}

    @app.post("/sms/twilio")
    async def sms(request: Request) -> Response:
        form = await request.form()
        params = {k: v for k, v in form.items() if isinstance(v, str)}

        def store() -> Response:
            signature = request.headers.get("x-twilio-signature", "")
            if not validator.validate(webhook_url, params, signature):
                return Response("Forbidden", status_code=403, media_type="text/plain")
            sid, phone = params.get("MessageSid", ""), params.get("From", "")
            if not sid or len(sid) > 64 or not phone or len(phone) > 20:
                return Response(status_code=400)
            values = {
                "message_sid": sid,
                "phone": phone,
                "body": params.get("Body", "").replace("\x00", ""),
                "received_at": datetime.now(UTC),
            }
            _insert_once(engine, inbound, "message_sid", values)
            xml = (
                '<?xml version="1.0" encoding="UTF-8"?>'
                "<Response><Message>Thank you, we have your message.</Message></Response>"
            )
            return Response(xml, media_type="application/xml")

        return await run_in_threadpool(store)

    @app.post("/chat/ask")
    async def ask(request: Request) -> Response:
        form = await request.form()
        q = form.get("q")
        text = " ".join(q.split()) if isinstance(q, str) else ""

        def store() -> Response:
            user_id = signed_in(request, roles=frozenset({"practice_staff"}))
            if user_id is None:
                return Response(status_code=403)
            if not text or len(text) > 1000:
                return HTMLResponse('<p class="error">Please type a question.</p>')
            with engine.begin() as conn:
                conn.execute(
                    questions.insert().values(
                        user_id=user_id, text=text, created_at=datetime.now(UTC)
                    )
                )
            return HTMLResponse(f'<div class="message user"><p>{html.escape(text)}</p></div>')

        return await run_in_threadpool(store)

    @app.post("/api/forms/{form_id}/submissions")
    async def submit(request: Request, form_id: str) -> Response:
        raw = await request.body()

        def store() -> Response:
            user_id = signed_in(request, roles=frozenset({"practice_staff", "pcw"}))
            if user_id is None:
                return JSONResponse({"detail": "not allowed"}, status_code=403)
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            instance = body.get("instance_id") if isinstance(body, dict) else None
            answers = body.get("answers") if isinstance(body, dict) else None
            if not isinstance(instance, str) or not 0 < len(instance) <= 64:
                return JSONResponse({"errors": {"instance_id": "missing"}}, status_code=422)
            if not isinstance(answers, dict):
                return JSONResponse({"errors": {"answers": "missing"}}, status_code=422)
            stored = json.dumps(answers, sort_keys=True)
            values = {
                "instance_id": instance,
                "form_id": form_id,
                "user_id": user_id,
                "answers": stored,
                "created_at": datetime.now(UTC),
            }
            new_id = _insert_once(engine, submissions, "instance_id", values)
            if new_id is not None:
                reply = {"id": new_id, "instance_id": instance, "status": "stored"}
                return JSONResponse(reply, status_code=201)
            query = sa.select(submissions.c.id, submissions.c.answers).where(
                submissions.c.instance_id == instance
            )
            with engine.connect() as conn:
                row = conn.execute(query).one()
            if row.answers != stored:
                return JSONResponse({"detail": "conflict"}, status_code=409)
            reply = {"id": row.id, "instance_id": instance, "status": "already stored"}
            return JSONResponse(reply, status_code=200)

        return await run_in_threadpool(store)

    return app


app = create_app() if "BENCH_MINIMAL_DATABASE_URL" in os.environ else FastAPI()
