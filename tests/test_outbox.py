"""The outbox worker against a fake Twilio REST server: retries, final errors, exactly once."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from assistant.clock import utcnow
from assistant.contacts.optout import is_opted_out, mark_opted_out
from assistant.outbox.models import OutboxMessage, OutboxStatus
from assistant.outbox.queue import InvalidRecipient, enqueue_sms
from assistant.outbox.transport import DevTransport, TwilioTransport, make_transport
from assistant.outbox.worker import Backoff, OutboxWorker
from assistant.settings import Settings
from tests import fake_twilio as ft

PHONE = "+64211234567"
OTHER = "+64221234568"


@pytest.fixture
def fake() -> Iterator[ft.FakeTwilio]:
    server = ft.FakeTwilio(timeout_delay=0.6).start()
    yield server
    server.stop()


def _transport(fake: ft.FakeTwilio, timeout: float = 0.25) -> TwilioTransport:
    return TwilioTransport(
        account_sid=ft.ACCOUNT_SID,
        auth_token=ft.AUTH_TOKEN,
        from_number="+6435550100",
        base_url=fake.url,
        timeout=timeout,
    )


@pytest.fixture
def transport(fake: ft.FakeTwilio) -> TwilioTransport:
    return _transport(fake)


@pytest.fixture
def worker(engine: Engine, transport: TwilioTransport) -> OutboxWorker:
    return OutboxWorker(engine=engine, transport=transport, rng=random.Random(7))


def _reload(session: Session, message: OutboxMessage) -> OutboxMessage:
    session.expire_all()
    found = session.get(OutboxMessage, message.id)
    assert found is not None
    return found


def _drain_over_time(worker: OutboxWorker, hours: int = 12) -> None:
    """Run the worker as time passes, so back-offs come due."""
    now = utcnow()
    for step in range(hours * 4):
        worker.drain(now + timedelta(minutes=15 * step))


def test_retryable_failures_then_success_send_each_message_exactly_once(
    session: Session, worker: OutboxWorker, fake: ft.FakeTwilio
) -> None:
    bodies = ["Kia ora, your call back is at 2pm.", "Talofa, we will ring you tomorrow."]
    fake.script(bodies[0], ft.error(500), ft.error(429, 20429), ft.timeout(), ft.ok())
    fake.script(bodies[1], ft.error(400, 63018), ft.error(503), ft.ok())
    messages = [enqueue_sms(session, to=PHONE, body=b, purpose="pcw-reply") for b in bodies]
    session.commit()

    _drain_over_time(worker)

    assert fake.posts[bodies[0]] == 4
    assert fake.posts[bodies[1]] == 3
    for message, body in zip(messages, bodies, strict=True):
        accepted = fake.accepted_for(body)
        assert len(accepted) == 1
        row = _reload(session, message)
        assert row.status == OutboxStatus.sent
        assert row.twilio_sid == accepted[0].sid
        assert row.sent_at is not None
        assert accepted[0].to == PHONE and accepted[0].from_ == "+6435550100"
    assert _reload(session, messages[0]).attempts == 4


def test_a_failed_attempt_waits_for_its_back_off(
    session: Session, worker: OutboxWorker, fake: ft.FakeTwilio
) -> None:
    fake.script("Hello", ft.error(500), ft.ok())
    message = enqueue_sms(session, to=PHONE, body="Hello", purpose="reminder")
    session.commit()
    now = utcnow()
    worker.drain(now)
    worker.drain(now + timedelta(seconds=5))
    row = _reload(session, message)
    assert (row.status, row.last_error_code, fake.posts["Hello"]) == ("queued", "http-500", 1)
    assert row.next_attempt_at > now + timedelta(seconds=10)
    worker.drain(row.next_attempt_at)
    assert _reload(session, message).status == OutboxStatus.sent
    assert fake.posts["Hello"] == 2


def test_a_timeout_after_twilio_accepted_is_not_sent_again(
    session: Session, worker: OutboxWorker, fake: ft.FakeTwilio
) -> None:
    fake.script("Slow", ft.timeout(accepted=True))
    message = enqueue_sms(session, to=PHONE, body="Slow", purpose="reminder")
    session.commit()
    _drain_over_time(worker, hours=2)
    accepted = fake.accepted_for("Slow")
    assert fake.posts["Slow"] == 1 and len(accepted) == 1
    row = _reload(session, message)
    assert row.status == OutboxStatus.sent and row.twilio_sid == accepted[0].sid
    assert fake.lists >= 1  # it asked Twilio before deciding


def test_opted_out_error_fails_the_message_marks_the_contact_and_sends_nothing_more(
    session: Session, worker: OutboxWorker, fake: ft.FakeTwilio
) -> None:
    fake.script("First", ft.error(400, 21610))
    first = enqueue_sms(session, to=PHONE, body="First", purpose="follow-up")
    session.commit()
    second = enqueue_sms(session, to=PHONE, body="Second", purpose="follow-up")
    session.commit()
    other = enqueue_sms(session, to=OTHER, body="To someone else", purpose="follow-up")
    session.commit()

    _drain_over_time(worker, hours=2)

    assert is_opted_out(session, phone=PHONE)
    assert not is_opted_out(session, phone=OTHER)
    assert (_reload(session, first).status, _reload(session, first).last_error_code) == (
        "failed",
        "21610",
    )
    assert _reload(session, second).status == OutboxStatus.cancelled
    assert _reload(session, other).status == OutboxStatus.sent
    assert fake.total_posts() == 2 and fake.posts["Second"] == 0
    later = enqueue_sms(session, to=PHONE, body="Later", purpose="follow-up")
    session.commit()
    assert later.status == OutboxStatus.cancelled
    _drain_over_time(worker, hours=1)
    assert fake.posts["Later"] == 0


@pytest.mark.parametrize(
    ("status", "code", "label"),
    [(400, 21211, "21211"), (400, 21408, "21408"), (404, None, "http-404")],
)
def test_permanent_errors_fail_without_retrying(
    session: Session,
    worker: OutboxWorker,
    fake: ft.FakeTwilio,
    status: int,
    code: int | None,
    label: str,
) -> None:
    fake.script("Bad", ft.error(status, code))
    message = enqueue_sms(session, to=PHONE, body="Bad", purpose="reminder")
    session.commit()
    _drain_over_time(worker, hours=2)
    row = _reload(session, message)
    assert (row.status, row.last_error_code, row.attempts) == ("failed", label, 1)
    assert fake.posts["Bad"] == 1
    assert not is_opted_out(session, phone=PHONE)


def test_retries_stop_after_the_last_attempt(
    session: Session, engine: Engine, transport: TwilioTransport, fake: ft.FakeTwilio
) -> None:
    worker = OutboxWorker(engine=engine, transport=transport, backoff=Backoff(max_attempts=3))
    fake.script("Down", ft.error(500), ft.error(500), ft.error(500), ft.ok())
    message = enqueue_sms(session, to=PHONE, body="Down", purpose="reminder")
    session.commit()
    _drain_over_time(worker, hours=3)
    row = _reload(session, message)
    assert (row.status, row.attempts, fake.posts["Down"]) == ("failed", 3, 3)


def test_never_sends_to_a_contact_who_opted_out_after_it_was_queued(
    session: Session, worker: OutboxWorker, fake: ft.FakeTwilio
) -> None:
    message = enqueue_sms(session, to=PHONE, body="Queued before STOP", purpose="reminder")
    session.commit()
    mark_opted_out(session, phone=PHONE)
    session.commit()
    worker.drain()
    assert _reload(session, message).status == OutboxStatus.cancelled
    assert fake.total_posts() == 0


def test_two_workers_at_once_never_send_a_message_twice(
    session: Session, engine: Engine, fake: ft.FakeTwilio
) -> None:
    fake.send_delay = 0.005
    fake.gate_clients = 2
    bodies = [f"Message {n}" for n in range(40)]
    for body in bodies:
        enqueue_sms(session, to=PHONE, body=body, purpose="bulk")
    session.commit()
    workers = [  # a transport each: their own HTTP connections, as two hosts would have
        OutboxWorker(
            engine=engine, transport=_transport(fake, 10), batch_size=3, rng=random.Random(n)
        )
        for n in range(2)
    ]
    claimed = [0, 0]
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            claimed[n] = workers[n].drain().claimed
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert all(fake.posts[b] == 1 for b in bodies)
    assert sum(claimed) == 40 and min(claimed) > 0  # both took part
    session.expire_all()
    rows = session.exec(select(OutboxMessage)).all()
    assert {r.status for r in rows} == {"sent"}
    assert len({r.twilio_sid for r in rows}) == 40


def test_a_claim_takes_at_most_one_batch_and_a_second_claim_takes_the_next(
    session: Session, engine: Engine
) -> None:
    for n in range(7):
        enqueue_sms(session, to=PHONE, body=f"Batch {n}", purpose="bulk")
    session.commit()
    worker = OutboxWorker(engine=engine, transport=DevTransport(), batch_size=3)
    now = utcnow()
    first, second, third = (worker.claim(now) for _ in range(3))
    assert [len(first), len(second), len(third)] == [3, 3, 1]
    assert not {c.id for c in first} & {c.id for c in second}
    assert worker.claim(now) == []


def _stuck(session: Session, body: str, minutes_ago: int) -> OutboxMessage:
    message = enqueue_sms(session, to=PHONE, body=body, purpose="reminder")
    session.commit()
    message.status = OutboxStatus.sending
    message.attempts = 1
    message.claim_token = "dead-worker"
    message.claimed_at = utcnow() - timedelta(minutes=minutes_ago)
    session.add(message)
    session.commit()
    return message


def test_a_message_stuck_in_sending_that_twilio_has_is_recorded_not_resent(
    session: Session, worker: OutboxWorker, fake: ft.FakeTwilio, transport: TwilioTransport
) -> None:
    message = _stuck(session, "Stuck", minutes_ago=30)
    transport.send(to=PHONE, body="Stuck", status_callback=None)  # the dead worker's send
    worker.drain()
    row = _reload(session, message)
    assert row.status == OutboxStatus.sent
    assert row.twilio_sid == fake.accepted_for("Stuck")[0].sid
    assert fake.posts["Stuck"] == 1


def test_a_message_stuck_in_sending_that_twilio_never_got_is_sent_once(
    session: Session, worker: OutboxWorker, fake: ft.FakeTwilio
) -> None:
    message = _stuck(session, "Never left", minutes_ago=30)
    worker.drain()
    worker.drain()
    assert _reload(session, message).status == OutboxStatus.sent
    assert fake.posts["Never left"] == 1


def test_a_stuck_message_is_left_for_review_when_twilio_cannot_be_asked(
    session: Session, worker: OutboxWorker, fake: ft.FakeTwilio
) -> None:
    fake.list_error = 500
    message = _stuck(session, "Unknown", minutes_ago=30)
    recent = _stuck(session, "Still in its lease", minutes_ago=1)
    worker.drain()
    row = _reload(session, message)
    assert (row.status, row.needs_review) == ("sending", True)
    assert _reload(session, recent).needs_review is False
    assert fake.total_posts() == 0


def test_without_credentials_the_development_transport_records_instead(
    session: Session, settings: Settings, engine: Engine
) -> None:
    dev_settings = settings.model_copy(update={"twilio_account_sid": ""})
    transport = make_transport(dev_settings)
    assert isinstance(transport, DevTransport)
    message = enqueue_sms(session, to=PHONE, body="Local only", purpose="reminder")
    session.commit()
    OutboxWorker(engine=engine, transport=transport).drain()
    row = _reload(session, message)
    assert row.status == OutboxStatus.sent and (row.twilio_sid or "").startswith("DV")
    assert transport.sent == [(row.twilio_sid, PHONE, "Local only")]


def test_status_callback_url_carries_the_message_id(
    session: Session, engine: Engine, transport: TwilioTransport, fake: ft.FakeTwilio
) -> None:
    base = "https://pho.example.nz/sms/twilio/status"
    worker = OutboxWorker(engine=engine, transport=transport, status_callback_base=base)
    message = enqueue_sms(session, to=PHONE, body="With callback", purpose="reminder")
    session.commit()
    worker.drain()
    assert fake.accepted_for("With callback")[0].status_callback == f"{base}?m={message.id}"


@pytest.mark.parametrize("bad", ["021 123 4567", "64211234567", "+0211234567", ""])
def test_enqueue_refuses_numbers_not_in_e164(session: Session, bad: str) -> None:
    with pytest.raises(InvalidRecipient):
        enqueue_sms(session, to=bad, body="x", purpose="reminder")
        session.commit()


@pytest.mark.parametrize(
    ("attempts", "low", "high"),
    [(1, 15, 30), (2, 30, 60), (3, 60, 120), (8, 1800, 3600), (20, 1800, 3600)],
)
def test_back_off_doubles_with_jitter_up_to_the_cap(attempts: int, low: int, high: int) -> None:
    backoff = Backoff(base_seconds=30, cap_seconds=3600)
    rng = random.Random(1)
    delays = [backoff.delay(attempts, rng).total_seconds() for _ in range(50)]
    assert all(low <= d <= high for d in delays)
    assert len(set(delays)) > 1


# Worker processes read the machine's clock, so the messages are queued by it too.
@pytest.mark.real_clock
def test_two_worker_processes_never_send_a_message_twice(
    session: Session, settings: Settings, fake: ft.FakeTwilio
) -> None:
    """``python -m assistant worker --once`` twice at the same time, on this test's database."""
    import os
    import re
    import subprocess
    import sys
    from pathlib import Path

    fake.send_delay = 0.01
    fake.gate_clients = 2
    bodies = [f"Process message {n}" for n in range(60)]
    for body in bodies:
        enqueue_sms(session, to=PHONE, body=body, purpose="bulk")
    session.commit()
    env = os.environ | {
        "ENVIRONMENT": "test",
        "DATABASE_URL": settings.database_url,
        "TWILIO_ACCOUNT_SID": ft.ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": ft.AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": "+6435550100",
        "TWILIO_API_BASE_URL": fake.url,
        "TWILIO_TIMEOUT_SECONDS": "5",
    }
    root = Path(__file__).resolve().parent.parent
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "assistant", "worker", "--once"],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    claimed = [int(re.search(r"Claimed (\d+)", out).group(1)) for out, _ in outputs]  # type: ignore[union-attr]
    assert sum(claimed) == 60 and min(claimed) > 0, claimed
    assert all(fake.posts[b] == 1 for b in bodies)
    session.expire_all()
    assert {m.status for m in session.exec(select(OutboxMessage))} == {"sent"}
