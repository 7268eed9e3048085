"""Outbox: messages/s drained through the Twilio client against the local fake Twilio server.

Baseline, in the same run: the same Twilio client sending the same messages straight to the
fake (no database). The ratio is the cost of the outbox (claims, opt-out checks, recording
each send). Also one and two concurrent workers, and the development transport (no HTTP:
the database work alone). SQLite always; PostgreSQL too when TEST_DATABASE_URL (or
BENCH_DATABASE_URL) is set, in a scratch schema dropped afterwards.
``python -m benchmarks outbox``.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlmodel import Session

from assistant import db as dbmod
from assistant.outbox.queue import enqueue_sms
from assistant.outbox.transport import DevTransport, Transport, TwilioTransport
from assistant.outbox.worker import OutboxWorker
from tests import fake_twilio as ft

N = 300


def _transport(fake: ft.FakeTwilio) -> TwilioTransport:
    return TwilioTransport(
        account_sid=ft.ACCOUNT_SID,
        auth_token=ft.AUTH_TOKEN,
        from_number="+6435550100",
        base_url=fake.url,
        timeout=10,
    )


def _fill(url: str, tag: str) -> None:
    with Session(dbmod.get_engine(url)) as session:
        for n in range(N):
            phone = f"+6421{5550000 + n % 50}"
            enqueue_sms(session, to=phone, body=f"{tag} {n}", purpose="bench")
        session.commit()


def _rate(fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return N / (time.perf_counter() - start)


def _drain(url: str, transports: list[Transport]) -> None:
    engine = dbmod.get_engine(url)
    workers = [OutboxWorker(engine=engine, transport=t, batch_size=20) for t in transports]
    threads = [threading.Thread(target=w.drain, kwargs={"max_passes": 10_000}) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


@contextmanager
def _sqlite() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        dbmod.migrate(url)
        yield url
        dbmod._engines.pop(url).dispose()


@contextmanager
def _postgres(base: str) -> Iterator[str]:
    schema = "bench_outbox"
    admin = dbmod.make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options=-csearch_path%3D{schema}"
    try:
        dbmod.migrate(url)
        yield url
    finally:
        dbmod._engines.pop(url, None)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


def _run(name: str, url: str, fake: ft.FakeTwilio) -> None:
    baseline_transport = _transport(fake)

    def baseline() -> None:
        for n in range(N):
            baseline_transport.send(to="+64215550000", body=f"direct {n}", status_callback=None)

    base = _rate(baseline)
    results = {}
    for label, transports in [
        ("outbox, 1 worker", [_transport(fake)]),
        ("outbox, 2 workers", [_transport(fake), _transport(fake)]),
        ("outbox, development transport", [DevTransport()]),
    ]:
        tag = label.replace(" ", "-")
        _fill(url, tag)
        results[label] = _rate(lambda t=transports: _drain(url, t))  # type: ignore[misc]
    print(f"[{name}] direct Twilio client baseline: {base:8.0f} msg/s  (1.00x)")
    for label, rate in results.items():
        print(f"[{name}] {label:30}: {rate:8.0f} msg/s  ({rate / base:.2f}x of baseline)")
    sent = sum(fake.posts.values())
    duplicates = [body for body, count in fake.posts.items() if count != 1]
    print(f"[{name}] requests at the fake: {sent}, sent more than once: {len(duplicates)}")
    fake.posts.clear()


def main() -> None:
    fake = ft.FakeTwilio().start()
    try:
        with _sqlite() as url:
            _run("sqlite", url, fake)
        pg = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
        if pg:
            with _postgres(pg) as url:
                _run("postgresql", url, fake)
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
