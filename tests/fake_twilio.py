"""A fake of Twilio's Messages REST API on 127.0.0.1, in a thread, with scripted answers.

Script the next answers for a message body (or for every message) with ``script``; each POST
for that body takes the next step. Steps: ``ok()``, ``error(status, code)``,
``timeout(accepted)`` (answer only after the client gave up; ``accepted`` says whether the
message was taken anyway). The fake counts POSTs per body and keeps what it accepted.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ACCOUNT_SID = "AC00000000000000000000000000000000"
AUTH_TOKEN = "test-auth-token"


@dataclass(frozen=True)
class Step:
    kind: str  # ok | error | timeout
    status: int = 201
    code: int | None = None
    accepted: bool = False


def ok() -> Step:
    return Step("ok")


def error(status: int, code: int | None = None) -> Step:
    return Step("error", status=status, code=code)


def timeout(accepted: bool = False) -> Step:
    return Step("timeout", accepted=accepted)


@dataclass
class Accepted:
    sid: str
    to: str
    from_: str
    body: str
    status_callback: str | None
    created: datetime


@dataclass
class FakeTwilio:
    send_delay: float = 0.0
    timeout_delay: float = 1.0
    list_error: int | None = None  # answer GET Messages with this status
    # Hold every POST until this many different client connections have posted (so that
    # concurrent senders are really concurrent); 0: no gate.
    gate_clients: int = 0
    posts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    accepted: list[Accepted] = field(default_factory=list)
    lists: int = 0
    _scripts: dict[str | None, deque[Step]] = field(default_factory=lambda: defaultdict(deque))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _gate: threading.Condition = field(default_factory=threading.Condition)
    _clients: set[tuple[str, int]] = field(default_factory=set)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def script(self, body: str | None, *steps: Step) -> None:
        """Answers for the next POSTs of ``body`` (None: any body without its own script)."""
        with self._lock:
            self._scripts[body].extend(steps)

    def accepted_for(self, body: str) -> list[Accepted]:
        with self._lock:
            return [a for a in self.accepted if a.body == body]

    def total_posts(self) -> int:
        with self._lock:
            return sum(self.posts.values())

    # -- server -----------------------------------------------------------------------------

    def start(self) -> FakeTwilio:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                fake._post(self)

            def do_GET(self) -> None:
                fake._get(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _authorised(self, handler: BaseHTTPRequestHandler) -> bool:
        expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        return handler.headers.get("Authorization") == f"Basic {expected}" and (
            f"/Accounts/{ACCOUNT_SID}/" in handler.path
        )

    def _post(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(handler.rfile.read(length).decode()).items()}
        if not self._authorised(handler):
            return _send(handler, 401, {"code": 20003, "message": "Authenticate", "status": 401})
        if not urlsplit(handler.path).path.endswith("/Messages.json"):
            return _send(handler, 404, {"code": 20404, "message": "Not found", "status": 404})
        body = form.get("Body", "")
        if self.gate_clients:
            with self._gate:
                self._clients.add(handler.client_address[:2])
                self._gate.notify_all()
                self._gate.wait_for(lambda: len(self._clients) >= self.gate_clients, timeout=60)
        with self._lock:
            self.posts[body] += 1
            queue = self._scripts.get(body) or self._scripts.get(None)
            step = queue.popleft() if queue else ok()
        if self.send_delay:
            time.sleep(self.send_delay)
        if step.kind == "error":
            payload = {
                "code": step.code,
                "message": f"Scripted error {step.code or step.status}",
                "more_info": f"https://www.twilio.com/docs/errors/{step.code}",
                "status": step.status,
            }
            return _send(handler, step.status, payload)
        record = None
        if step.kind == "ok" or step.accepted:
            record = Accepted(
                sid="SM" + uuid.uuid4().hex,
                to=form.get("To", ""),
                from_=form.get("From", ""),
                body=body,
                status_callback=form.get("StatusCallback"),
                created=datetime.now(UTC),
            )
            with self._lock:
                self.accepted.append(record)
        if step.kind == "timeout":
            time.sleep(self.timeout_delay)  # the client has given up by now
            if record is None:
                return _send(handler, 500, {"code": None, "message": "late", "status": 500})
        assert record is not None
        return _send(handler, 201, _resource(record))

    def _get(self, handler: BaseHTTPRequestHandler) -> None:
        if not self._authorised(handler):
            return _send(handler, 401, {"code": 20003, "message": "Authenticate", "status": 401})
        with self._lock:
            self.lists += 1
        if self.list_error:
            return _send(handler, self.list_error, {"code": None, "message": "down", "status": 500})
        query = {k: v[0] for k, v in parse_qs(urlsplit(handler.path).query).items()}
        with self._lock:
            found = [
                _resource(a)
                for a in reversed(self.accepted)
                if a.to == query.get("To", a.to) and a.from_ == query.get("From", a.from_)
            ]
        path = urlsplit(handler.path).path
        return _send(
            handler,
            200,
            {
                "messages": found,
                "page": 0,
                "page_size": 50,
                "first_page_uri": path,
                "next_page_uri": None,
                "previous_page_uri": None,
                "uri": path,
                "end": len(found),
                "start": 0,
            },
        )


def _resource(a: Accepted) -> dict[str, Any]:
    created = format_datetime(a.created, usegmt=True)
    return {
        "sid": a.sid,
        "account_sid": ACCOUNT_SID,
        "to": a.to,
        "from": a.from_,
        "body": a.body,
        "status": "queued",
        "num_segments": "1",
        "direction": "outbound-api",
        "date_created": created,
        "date_updated": created,
        "date_sent": None,
        "error_code": None,
        "error_message": None,
        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{a.sid}.json",
    }


def _send(handler: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
    data = json.dumps(payload).encode()
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client timed out and left
