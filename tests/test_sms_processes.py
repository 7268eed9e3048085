"""Two app processes on one PostgreSQL database: each inbound message is handled once.

PostgreSQL pass only (TEST_DB=postgres): SQLite is a single-machine store, and the SQLite run
covers duplicates across threads in tests/test_sms_webhook.py.
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import Session, select
from twilio.request_validator import RequestValidator

from assistant.contacts.models import SmsContact
from assistant.pcw.models import Referral
from assistant.sms.models import SmsInbound
from tests.conftest import USE_POSTGRES

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not USE_POSTGRES, reason="PostgreSQL pass only (TEST_DB=postgres)"),
]

PUBLIC = "https://sms.pho.example.nz"
TOKEN = "two-process-token"
_sids = itertools.count(1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def servers(db_url: str) -> Iterator[list[str]]:
    """Two uvicorn processes serving the app on the same database schema."""
    env = os.environ | {
        "DATABASE_URL": db_url,
        "ENVIRONMENT": "test",
        "SECRET_KEY": "two-process-secret",
        "PUBLIC_BASE_URL": PUBLIC,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "RUN_WORKER_IN_APP": "false",
    }
    procs: list[subprocess.Popen[bytes]] = []
    urls = []
    try:
        for _ in range(2):
            port = _free_port()
            cmd = [sys.executable, "-m", "uvicorn", "assistant.main:app"]
            cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
            procs.append(
                subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            )
            urls.append(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 60
        for url, proc in zip(urls, procs, strict=True):
            while True:
                if proc.poll() is not None:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    pytest.fail(f"server exited: {err}")
                try:
                    if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"{url} did not start")
                time.sleep(0.2)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stderr:
                proc.stderr.close()


def _signed(body: str, phone: str, sid: str) -> tuple[dict[str, str], str]:
    params = {"MessageSid": sid, "From": phone, "To": "+6435550100", "Body": body}
    return params, RequestValidator(TOKEN).compute_signature(PUBLIC + "/sms/twilio", params)


# The app processes read the machine's clock, so this test does too.
@pytest.mark.real_clock
def test_copies_sent_to_two_processes_at_once_are_handled_once(
    servers: list[str], session: Session
) -> None:
    phones = [f"+6421555{n:04d}" for n in range(6)]
    # Each phone: a greeting, then "5" (call me back, which makes a referral), then "1".
    script = ["hello", "5", "1"]
    copies_per_server = 2
    replies: dict[str, set[str]] = {}
    lock = threading.Lock()

    def deliver(job: tuple[str, str, str, str]) -> None:
        server, body, phone, sid = job
        params, signature = _signed(body, phone, sid)
        response = httpx.post(
            server + "/sms/twilio",
            data=params,
            headers={"X-Twilio-Signature": signature},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        with lock:
            replies.setdefault(sid, set()).add(response.text)

    with ThreadPoolExecutor(len(phones) * len(servers) * copies_per_server) as pool:
        for body in script:
            jobs = []
            for phone in phones:
                sid = f"SM{next(_sids):032x}"
                jobs += [(s, body, phone, sid) for s in servers for _ in range(copies_per_server)]
            list(pool.map(deliver, jobs))

    assert len(replies) == len(phones) * len(script)
    assert all(len(texts) == 1 for texts in replies.values()), "copies got different replies"
    session.expire_all()
    assert session.exec(select(func.count()).select_from(SmsContact)).one() == len(phones)
    assert session.exec(select(func.count()).select_from(SmsInbound)).one() == len(replies)
    referrals = session.exec(select(Referral.phone)).all()
    assert sorted(r for r in referrals if r) == sorted(phones)  # one call-back each
    steps = {c.phone: c.step for c in session.exec(select(SmsContact))}
    assert set(steps.values()) == {"elig_citizen"}
