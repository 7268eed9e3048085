"""Draining the outbox: claim due messages, send each at most once, retry or give up.

At-most-once rests on three things:
- A claim picks due rows and moves them ``queued`` -> ``sending`` with a fresh claim token,
  in one transaction, by an UPDATE that only matches rows still ``queued``; on PostgreSQL
  the pick is ``FOR UPDATE SKIP LOCKED``, so concurrent workers never wait on each other.
- Every later change is guarded by that claim token, so a worker that lost its claim changes
  nothing.
- A send whose outcome is unknown (a timeout or a dropped connection after the request left)
  is never simply repeated: before trying again we ask Twilio whether it already accepted a
  message with this body for this number since the row was created, and record that one
  instead. A row left in ``sending`` past its lease (a worker died mid-send) gets the same
  check before it goes back to the queue; if Twilio cannot be asked, it is flagged for review
  and left alone.
"""

from __future__ import annotations

import logging
import random
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from assistant.clock import utcnow
from assistant.contacts.optout import is_opted_out, mark_opted_out
from assistant.contacts.phone import mask_phone
from assistant.db import get_engine
from assistant.jobs.backoff import Backoff
from assistant.jobs.claiming import claim_due, update_claimed
from assistant.notify.worker import EmailWorker, email_worker_for
from assistant.outbox.models import OutboxMessage, OutboxStatus
from assistant.outbox.transport import (
    OPTED_OUT_CODE,
    SendFailure,
    Sent,
    Transport,
    make_transport,
)
from assistant.settings import Settings

log = logging.getLogger(__name__)

AMBIGUOUS_CODES = frozenset({"timeout", "network"})
DEFAULT_LEASE = timedelta(minutes=5)


@dataclass
class RunStats:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    recovered: int = 0
    review: int = 0

    def __add__(self, other: RunStats) -> RunStats:
        return RunStats(*(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__))


@dataclass(frozen=True)
class _Claimed:
    id: int
    token: str
    to: str
    body: str
    attempts: int
    created_at: datetime
    last_error_code: str | None


@dataclass
class OutboxWorker:
    engine: Engine
    transport: Transport
    status_callback_base: str | None = None  # e.g. https://host/sms/twilio/status
    batch_size: int = 20
    lease: timedelta = DEFAULT_LEASE
    backoff: Backoff = field(default_factory=Backoff)
    rng: random.Random = field(default_factory=random.Random)
    # The email outbox, drained in the same pass (its counts are added to the SMS ones).
    email: EmailWorker | None = None

    def run_once(self, now: datetime | None = None) -> RunStats:
        """One pass: look after stale claims, then send what is due (SMS, then email)."""
        now = now or utcnow()
        stats = RunStats()
        self.recover_stale(now, stats)
        for claimed in self.claim(now):
            stats.claimed += 1
            self.deliver(claimed, now, stats)
        if self.email is not None:
            stats = stats + RunStats(**asdict(self.email.run_once(now)))
        return stats

    def drain(self, now: datetime | None = None, max_passes: int = 100) -> RunStats:
        """Run passes until nothing is due (messages backing off wait for a later ``now``)."""
        total = RunStats()
        for _ in range(max_passes):
            stats = self.run_once(now)
            total = total + stats
            if stats.claimed == 0:
                break
        return total

    # -- claiming ---------------------------------------------------------------------------

    def claim(self, now: datetime) -> list[_Claimed]:
        token = claim_due(
            self.engine,
            OutboxMessage,
            queued=OutboxStatus.queued,
            sending=OutboxStatus.sending,
            now=now,
            batch_size=self.batch_size,
        )
        if token is None:
            return []
        with Session(self.engine) as session:
            rows = session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.claim_token == token)
                .order_by(col(OutboxMessage.id))
            ).all()
            return [
                _Claimed(
                    id=m.id or 0,
                    token=token,
                    to=m.to,
                    body=m.body,
                    attempts=m.attempts,
                    created_at=m.created_at,
                    last_error_code=m.last_error_code,
                )
                for m in rows
            ]

    # -- sending ----------------------------------------------------------------------------

    def deliver(self, claimed: _Claimed, now: datetime, stats: RunStats) -> None:
        with Session(self.engine) as session:
            opted_out = is_opted_out(session, phone=claimed.to)
        if opted_out:
            self._finish(claimed, OutboxStatus.cancelled, now, code="opted-out")
            stats.cancelled += 1
            return
        try:
            found = None
            if claimed.last_error_code in AMBIGUOUS_CODES:
                found = self._find_sent(claimed.to, claimed.body, claimed.created_at)
            sent = found or self.transport.send(
                to=claimed.to, body=claimed.body, status_callback=self._callback_url(claimed.id)
            )
        except SendFailure as failure:
            self._failed(claimed, failure, now, stats)
            return
        if found is not None:
            stats.recovered += 1
        self._mark_sent(claimed.id, claimed.token, sent, now)
        stats.sent += 1

    def _callback_url(self, message_id: int) -> str | None:
        if not self.status_callback_base:
            return None
        return f"{self.status_callback_base}?m={message_id}"

    def _find_sent(self, to: str, body: str, since: datetime) -> Sent | None:
        with Session(self.engine) as session:
            known = set(
                session.exec(
                    select(OutboxMessage.twilio_sid).where(
                        OutboxMessage.to == to, col(OutboxMessage.twilio_sid).is_not(None)
                    )
                ).all()
            )
        return self.transport.find_sent(
            to=to, body=body, since=since, exclude={s for s in known if s}
        )

    def _failed(
        self, claimed: _Claimed, failure: SendFailure, now: datetime, stats: RunStats
    ) -> None:
        log.info(
            "outbox %s to %s: attempt %d failed (%s)",
            claimed.id,
            mask_phone(claimed.to),
            claimed.attempts,
            failure.code,
        )
        if failure.code == str(OPTED_OUT_CODE):
            with Session(self.engine) as session:
                mark_opted_out(session, phone=claimed.to)
                session.commit()
        if failure.retryable and claimed.attempts < self.backoff.max_attempts:
            next_at = now + self.backoff.delay(claimed.attempts, self.rng)
            self._update(
                claimed,
                status=OutboxStatus.queued,
                next_attempt_at=next_at,
                claim_token=None,
                last_error_code=failure.code,
                last_error=failure.message[:300],
                updated_at=now,
            )
            stats.retried += 1
        else:
            self._finish(claimed, OutboxStatus.failed, now, failure.code, failure.message)
            stats.failed += 1

    def _finish(
        self,
        claimed: _Claimed,
        status: OutboxStatus,
        now: datetime,
        code: str | None = None,
        message: str = "",
    ) -> None:
        self._update(
            claimed,
            status=status,
            claim_token=None,
            last_error_code=code,
            last_error=message[:300],
            delivery_status=None if status == OutboxStatus.cancelled else status.value,
            updated_at=now,
        )

    def _update(self, claimed: _Claimed, **values: object) -> int:
        return update_claimed(
            self.engine,
            OutboxMessage,
            row_id=claimed.id,
            token=claimed.token,
            sending=OutboxStatus.sending,
            **values,
        )

    def _mark_sent(self, message_id: int, token: str, sent: Sent, now: datetime) -> None:
        with Session(self.engine) as session:
            result = session.exec(
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.id) == message_id,
                    col(OutboxMessage.claim_token) == token,
                    col(OutboxMessage.status) == OutboxStatus.sending,
                )
                .values(
                    status=OutboxStatus.sent,
                    twilio_sid=sent.sid,
                    claim_token=None,
                    needs_review=False,
                    last_error_code=None,
                    last_error="",
                    sent_at=now,
                    updated_at=now,
                )
            )
            if result.rowcount == 0:
                # A delivery callback got here first and moved the status on: keep its
                # status, just record the sid and the time.
                session.exec(
                    update(OutboxMessage)
                    .where(
                        col(OutboxMessage.id) == message_id,
                        col(OutboxMessage.twilio_sid).is_(None),
                    )
                    .values(twilio_sid=sent.sid)
                )
                session.exec(
                    update(OutboxMessage)
                    .where(
                        col(OutboxMessage.id) == message_id,
                        col(OutboxMessage.claim_token) == token,
                    )
                    .values(claim_token=None, sent_at=now, updated_at=now)
                )
            session.commit()

    # -- stale claims -----------------------------------------------------------------------

    def recover_stale(self, now: datetime, stats: RunStats) -> None:
        """Rows left in ``sending`` past the lease: ask Twilio, then record or requeue."""
        cutoff = now - self.lease
        with Session(self.engine) as session:
            stale = session.exec(
                select(OutboxMessage)
                .where(
                    OutboxMessage.status == OutboxStatus.sending,
                    col(OutboxMessage.claimed_at) < cutoff,
                )
                .limit(self.batch_size)
            ).all()
            candidates = [(m.id or 0, m.claim_token) for m in stale]
        for message_id, old_token in candidates:
            token = uuid.uuid4().hex
            with Session(self.engine) as session:
                took = session.exec(
                    update(OutboxMessage)
                    .where(
                        col(OutboxMessage.id) == message_id,
                        col(OutboxMessage.status) == OutboxStatus.sending,
                        col(OutboxMessage.claim_token) == old_token,
                    )
                    .values(claim_token=token, claimed_at=now, updated_at=now)
                ).rowcount
                session.commit()
                message = session.get(OutboxMessage, message_id)
            if not took or message is None:
                continue  # another worker is on it
            claimed = _Claimed(
                id=message_id,
                token=token,
                to=message.to,
                body=message.body,
                attempts=message.attempts,
                created_at=message.created_at,
                last_error_code=message.last_error_code,
            )
            try:
                found = self._find_sent(claimed.to, claimed.body, claimed.created_at)
            except SendFailure as failure:
                self._update(
                    claimed,
                    needs_review=True,
                    last_error_code="lease-expired",
                    last_error=f"could not check with the provider: {failure.code}",
                )
                stats.review += 1
                continue
            if found is not None:
                self._mark_sent(message_id, token, found, now)
                stats.recovered += 1
            else:
                self._update(
                    claimed,
                    status=OutboxStatus.queued,
                    claim_token=None,
                    next_attempt_at=now,
                    last_error_code="lease-expired",
                    last_error="not found at the provider; queued again",
                )
                stats.retried += 1


def worker_for(settings: Settings) -> OutboxWorker:
    """The worker the app and the CLI use, from settings."""
    base = settings.public_base_url.rstrip("/")
    # Twilio can only call back a public HTTPS address.
    callback = f"{base}/sms/twilio/status" if base.startswith("https://") else None
    return OutboxWorker(
        engine=get_engine(settings.database_url),
        transport=make_transport(settings),
        status_callback_base=callback,
        email=email_worker_for(settings),
    )
