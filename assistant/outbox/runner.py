"""Running the worker: in the foreground (``python -m assistant worker``) or in a thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime

from assistant.outbox.worker import OutboxWorker, RunStats, worker_for
from assistant.settings import Settings

log = logging.getLogger(__name__)


Step = Callable[[datetime | None], None]


def run_steps(steps: Sequence[Step]) -> None:
    """The scheduled steps of one pass; one failing does not stop the others or the outbox."""
    for step in steps:
        try:
            step(None)
        except Exception:  # the database may be back next time
            log.exception("scheduled step failed")


def run_until(
    worker: OutboxWorker, stop: threading.Event, poll_seconds: float, steps: Sequence[Step] = ()
) -> None:
    """Run the scheduled steps and drain, then wait ``poll_seconds`` (or until stopped)."""
    while not stop.is_set():
        run_steps(steps)
        stats = RunStats()
        try:
            stats = worker.run_once()
        except Exception:  # keep going: the database or Twilio may be back next time
            log.exception("outbox pass failed")
        if stats.claimed == 0:
            stop.wait(poll_seconds)


def start_in_background(settings: Settings, steps: Sequence[Step] = ()) -> Callable[[], None]:
    """Start a daemon thread running ``steps`` and draining the outbox; returns a function
    that stops it."""
    stop = threading.Event()
    worker = worker_for(settings)
    thread = threading.Thread(
        target=run_until,
        args=(worker, stop, settings.worker_poll_seconds, steps),
        name="outbox-worker",
        daemon=True,
    )
    thread.start()
    email = "off" if worker.email is None or worker.email.transport is None else "smtp"
    log.info(
        "outbox worker started in the app (%s transport, email %s)", worker.transport.name, email
    )

    def stop_worker() -> None:
        stop.set()
        thread.join(timeout=settings.twilio_timeout_seconds + 5)

    return stop_worker
