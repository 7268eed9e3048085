"""SMS webhook: requests/s and p50/p99 latency for a stream of signed inbound messages.

Beside it, in the same run and through the same test client, a bare FastAPI endpoint that
parses the same form and returns TwiML: the ratio is the cost of our work (signature check,
exactly-once storage, the conversation, the matcher, practice look-up).

SQLite always; PostgreSQL too when TEST_DATABASE_URL (or BENCH_DATABASE_URL) is set, in a
scratch schema dropped afterwards. ``python -m benchmarks sms_webhook``.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

PUBLIC = "https://sms.pho.example.nz"
TOKEN = "bench-token"
PHONES = 24
# One person's conversation: the enrolment guide, a question, a retry of a message.
SCRIPT = [
    "Kia ora",
    "1",
    "kāo",
    "kāo",
    "āe",
    "Riccarton",
    "1",
    "1",
    "kāo",
    "What do I need to bring to enrol?",
    "0",
    "4",
]
RETRY_EVERY = 10  # every 10th message is delivered twice, as a Twilio retry


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _stream() -> list[tuple[dict[str, str], str]]:
    validator = RequestValidator(TOKEN)
    url = PUBLIC + "/sms/twilio"
    messages = []
    n = 0
    for step, body in enumerate(SCRIPT):
        for p in range(PHONES):
            n += 1
            params = {
                "MessageSid": f"SM{step:04d}{p:04d}{'0' * 24}",
                "AccountSid": "AC" + "0" * 32,
                "From": f"+6421{5550000 + p}",
                "To": "+6435550100",
                "Body": body,
                "NumMedia": "0",
            }
            signed = (params, validator.compute_signature(url, params))
            messages.append(signed)
            if n % RETRY_EVERY == 0:
                messages.append(signed)
    return messages


def _bare_app() -> FastAPI:
    app = FastAPI()

    @app.post("/sms/twilio")
    async def bare(request: Request) -> Response:
        form = await request.form()
        body = str(form.get("Body", ""))
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f"<Response><Message>{len(body)}</Message></Response>"
        )
        return Response(xml, media_type="application/xml")

    return app


def _run(client: TestClient, stream: list[tuple[dict[str, str], str]]) -> tuple[float, list[float]]:
    latencies = []
    started = time.perf_counter()
    for params, signature in stream:
        t0 = time.perf_counter()
        response = client.post(
            "/sms/twilio", data=params, headers={"X-Twilio-Signature": signature}
        )
        latencies.append((time.perf_counter() - t0) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"webhook answered {response.status_code}: {response.text[:200]}")
    elapsed = time.perf_counter() - started
    return len(stream) / elapsed, latencies


@contextmanager
def _sqlite() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{Path(tmp) / 'bench.db'}"


@contextmanager
def _postgres(base: str) -> Iterator[str]:
    from sqlalchemy import text

    from assistant.db import make_engine

    schema = "bench_sms_webhook"
    admin = make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        from assistant import db

        for url in [u for u in db._engines if schema in u]:
            db._engines.pop(url).dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


def _measure(label: str, database: Callable[[], AbstractContextManager[str]]) -> None:
    from sqlmodel import Session

    from assistant.app import create_app
    from assistant.db import get_engine, migrate
    from assistant.demo import load_people
    from assistant.settings import Settings

    stream = _stream()
    with database() as url:
        migrate(url)
        with Session(get_engine(url)) as session:
            load_people(session, password="bench-password")
        settings = Settings(
            environment="test",
            database_url=url,
            secret_key="bench",
            public_base_url=PUBLIC,
            twilio_auth_token=TOKEN,
            run_worker_in_app=False,
        )
        with TestClient(create_app(settings)) as client:
            # Warm up: load the knowledge base and the matcher, open connections.
            validator = RequestValidator(TOKEN)
            warm = {"MessageSid": "SMwarm" + "0" * 28, "From": "+6421000000", "Body": "hello"}
            sig = validator.compute_signature(PUBLIC + "/sms/twilio", warm)
            client.post("/sms/twilio", data=warm, headers={"X-Twilio-Signature": sig})
            rate, lat = _run(client, stream)
    with TestClient(_bare_app()) as bare_client:
        _run(bare_client, stream[:20])
        base_rate, base_lat = _run(bare_client, stream)

    def fmt(rate: float, lat: list[float]) -> str:
        return (
            f"{rate:8.1f} req/s  p50 {statistics.median(lat):6.2f} ms"
            f"  p99 {_percentile(lat, 0.99):6.2f} ms"
        )

    print(f"  {label}: {len(stream)} inbound messages ({PHONES} people, retries included)")
    print(f"    webhook      {fmt(rate, lat)}")
    print(f"    bare FastAPI {fmt(base_rate, base_lat)}")
    print(
        f"    webhook / bare: {rate / base_rate:.2f}x the throughput, "
        f"p50 {statistics.median(lat) / statistics.median(base_lat):.1f}x, "
        f"p99 {_percentile(lat, 0.99) / _percentile(base_lat, 0.99):.1f}x the latency"
    )


def main() -> None:
    print("SMS webhook: a stream of signed inbound messages")
    _measure("SQLite", _sqlite)
    pg = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if pg:
        _measure("PostgreSQL", lambda: _postgres(pg))
    else:
        print("  PostgreSQL: set TEST_DATABASE_URL (or BENCH_DATABASE_URL) to measure it too")


if __name__ == "__main__":
    main()
