"""The outbox worker inside the app process (development) and its start and stop."""

from __future__ import annotations

import threading
import time

from fastapi.testclient import TestClient
from sqlmodel import Session

from assistant.app import create_app
from assistant.outbox.models import OutboxMessage, OutboxStatus
from assistant.outbox.queue import enqueue_sms
from assistant.settings import Settings


def _worker_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "outbox-worker" and t.is_alive()]


def test_the_app_drains_the_outbox_in_development_and_stops_on_shutdown(
    settings: Settings, session: Session
) -> None:
    dev = settings.model_copy(
        update={
            "environment": "development",
            "run_worker_in_app": True,
            "worker_poll_seconds": 0.05,
            "twilio_account_sid": "",
        }
    )
    message = enqueue_sms(session, to="+64211234567", body="From the app", purpose="reminder")
    session.commit()
    with TestClient(create_app(dev)):
        assert len(_worker_threads()) == 1
        deadline = time.monotonic() + 10
        status = OutboxStatus.queued.value
        while time.monotonic() < deadline:
            session.expire_all()
            row = session.get(OutboxMessage, message.id)
            assert row is not None
            status = row.status
            if status == OutboxStatus.sent:
                break
            time.sleep(0.05)
        assert status == OutboxStatus.sent
        assert (row.twilio_sid or "").startswith("DV")
    assert _worker_threads() == []


def test_no_worker_in_tests_or_when_switched_off(settings: Settings) -> None:
    for cfg in (
        settings.model_copy(update={"run_worker_in_app": True}),  # environment "test"
        settings.model_copy(update={"environment": "development", "run_worker_in_app": False}),
    ):
        with TestClient(create_app(cfg)):
            assert _worker_threads() == []
