"""Draining the email outbox: claim due emails, send each at most once, retry or give up.

The same claim discipline as the SMS outbox (assistant/outbox/worker.py): a claim moves due
rows ``queued`` -> ``sending`` with a fresh token in one guarded UPDATE (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL), and every later change is guarded by that token. SMTP cannot be asked
afterwards whether it took a message, so "never twice" rests on knowing when a message was
handed over: just before DATA the row records it. A try that fails before then goes back to the
queue (with back-off); a lost answer after the whole message was sent, or a claim that outlived
its lease after the hand-over, is flagged for a person to check and never sent again by itself.
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from assistant.clock import utcnow
from assistant.db import get_engine
from assistant.i18n import DEFAULT_LOCALE, LANGUAGES
from assistant.jobs.backoff import Backoff
from assistant.jobs.claiming import claim_due, update_claimed
from assistant.notify.messages import compose
from assistant.notify.models import OPTIONAL_KINDS, EmailKind, EmailStatus, QueuedEmail
from assistant.notify.preferences import wants
from assistant.notify.smtp import EmailFailure, Outgoing, SmtpTransport, transport_for
from assistant.people.models import Practice, User
from assistant.settings import Settings

log = logging.getLogger(__name__)

_PRACTICE_NAME = select(Practice.name).where(Practice.id == bindparam("id"))

DEFAULT_LEASE = timedelta(minutes=5)


@dataclass
class EmailStats:
    """The same counts as the SMS worker's RunStats, so a pass can add them up."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    recovered: int = 0
    review: int = 0


@dataclass(frozen=True)
class _Claimed:
    id: int
    token: str
    attempts: int


@dataclass
class EmailWorker:
    engine: Engine
    transport: SmtpTransport | None  # None: email is off; due emails are settled as not sent
    base_url: str
    default_locale: str = DEFAULT_LOCALE
    batch_size: int = 20
    lease: timedelta = DEFAULT_LEASE
    backoff: Backoff = field(default_factory=Backoff)
    rng: random.Random = field(default_factory=random.Random)

    def run_once(self, now: datetime | None = None) -> EmailStats:
        """One pass: look after stale claims, then send what is due."""
        now = now or utcnow()
        stats = EmailStats()
        self.recover_stale(now, stats)
        for claimed in self.claim(now):
            stats.claimed += 1
            self.deliver(claimed, now, stats)
        return stats

    def drain(self, now: datetime | None = None, max_passes: int = 100) -> EmailStats:
        total = EmailStats()
        for _ in range(max_passes):
            stats = self.run_once(now)
            for name in total.__dataclass_fields__:
                setattr(total, name, getattr(total, name) + getattr(stats, name))
            if stats.claimed == 0:
                break
        return total

    # -- claiming ---------------------------------------------------------------------------

    def claim(self, now: datetime) -> list[_Claimed]:
        token = claim_due(
            self.engine,
            QueuedEmail,
            queued=EmailStatus.queued,
            sending=EmailStatus.sending,
            now=now,
            batch_size=self.batch_size,
            handed_over_at=None,
        )
        if token is None:
            return []
        with Session(self.engine) as session:
            rows = session.exec(
                select(QueuedEmail.id, QueuedEmail.attempts)
                .where(QueuedEmail.claim_token == token)
                .order_by(col(QueuedEmail.id))
            ).all()
            return [_Claimed(id=row_id or 0, token=token, attempts=n) for row_id, n in rows]

    # -- sending ----------------------------------------------------------------------------

    def deliver(self, claimed: _Claimed, now: datetime, stats: EmailStats) -> None:
        with Session(self.engine) as session:
            email = session.get(QueuedEmail, claimed.id)
            if email is None:
                return
            reason = self._reason_not_to_send(session, email, now)
            try:
                outgoing = None if reason else self._outgoing(session, email, now)
            except (KeyError, TypeError, ValueError) as exc:
                # A row that cannot be written would fail the same way on every try.
                log.exception("email %s could not be written", claimed.id)
                self._settle(claimed, EmailStatus.failed, now, code="compose", error=str(exc))
                stats.failed += 1
                return
        if reason or outgoing is None:
            self._settle(claimed, EmailStatus.cancelled, now, code=reason or "no-recipient")
            stats.cancelled += 1
            return
        assert self.transport is not None
        try:
            answer = self.transport.send(outgoing, before_data=lambda: self._hand_over(claimed))
        except EmailFailure as failure:
            self._failed(claimed, failure, now, stats)
            return
        if self._settle(claimed, EmailStatus.sent, now, subject=outgoing.subject, answer=answer):
            stats.sent += 1

    def _reason_not_to_send(self, session: Session, email: QueuedEmail, now: datetime) -> str:
        """Why this email should not go out now ("" when it should)."""
        if self.transport is None:
            return "email-off"
        if email.expires_at is not None and email.expires_at <= now:
            return "expired"
        user = session.get(User, email.user_id) if email.user_id is not None else None
        if email.user_id is not None and (user is None or not user.active):
            return "inactive"
        kind = EmailKind(email.kind)
        turned_off = (
            kind in OPTIONAL_KINDS
            and email.user_id is not None
            and not wants(session, user_id=email.user_id, kind=kind)
        )
        return "turned-off" if turned_off else ""

    def _outgoing(self, session: Session, email: QueuedEmail, now: datetime) -> Outgoing | None:
        if not email.to:
            return None
        user = session.get(User, email.user_id) if email.user_id is not None else None
        lang = user.locale if user is not None and user.locale in LANGUAGES else None
        params: dict[str, Any] = json.loads(email.params or "{}")
        if "practice_id" in params:  # the practice's name as it is when the email is written
            name = session.exec(_PRACTICE_NAME, params={"id": params["practice_id"]}).first()
            params["practice"] = name or ""
        composed = compose(
            EmailKind(email.kind),
            params,
            name=user.name if user is not None else "",
            base_url=self.base_url,
            lang=lang or self.default_locale,
        )
        return Outgoing(
            to=email.to,
            subject=composed.subject,
            body=composed.body,
            message_id=email.message_id,
            date=now,
        )

    def _hand_over(self, claimed: _Claimed) -> bool:
        """Record that the message is about to be handed over; False if the claim was lost."""
        return self._update(claimed, handed_over_at=utcnow()) == 1

    def _failed(
        self, claimed: _Claimed, failure: EmailFailure, now: datetime, stats: EmailStats
    ) -> None:
        log.info("email %s: attempt %d failed (%s)", claimed.id, claimed.attempts, failure.code)
        if failure.ambiguous:
            self._update(
                claimed,
                needs_review=True,
                last_error_code=failure.code[:20],
                last_error=failure.message[:300],
                updated_at=now,
            )
            stats.review += 1
        elif failure.retryable and claimed.attempts < self.backoff.max_attempts:
            self._update(
                claimed,
                status=EmailStatus.queued,
                claim_token=None,
                handed_over_at=None,
                next_attempt_at=now + self.backoff.delay(claimed.attempts, self.rng),
                last_error_code=failure.code[:20],
                last_error=failure.message[:300],
                updated_at=now,
            )
            stats.retried += 1
        else:
            self._settle(claimed, EmailStatus.failed, now, code=failure.code, error=failure.message)
            stats.failed += 1

    def _settle(
        self,
        claimed: _Claimed,
        status: EmailStatus,
        now: datetime,
        *,
        code: str | None = None,
        error: str = "",
        subject: str = "",
        answer: str = "",
    ) -> bool:
        """A final status; a sensitive email's parameters (a reset link) are wiped with it."""
        values: dict[str, object] = {
            "status": status,
            "claim_token": None,
            "needs_review": False,
            "last_error_code": code[:20] if code else None,
            "last_error": (error or answer)[:300],
            "updated_at": now,
        }
        if status == EmailStatus.sent:
            values |= {"subject": subject[:300], "sent_at": now}
        with Session(self.engine) as session:
            sensitive = session.exec(
                select(QueuedEmail.sensitive).where(QueuedEmail.id == claimed.id)
            ).first()
        if sensitive:
            values["params"] = "{}"
        return self._update(claimed, **values) == 1

    def _update(self, claimed: _Claimed, **values: object) -> int:
        return update_claimed(
            self.engine,
            QueuedEmail,
            row_id=claimed.id,
            token=claimed.token,
            sending=EmailStatus.sending,
            **values,
        )

    # -- stale claims -----------------------------------------------------------------------

    def recover_stale(self, now: datetime, stats: EmailStats) -> None:
        """Rows left in ``sending`` past the lease (a worker died): back to the queue if the
        message was never handed over, else flagged for a person to check."""
        cutoff = now - self.lease
        with Session(self.engine) as session:
            stale = session.exec(
                select(QueuedEmail.id, QueuedEmail.claim_token, QueuedEmail.handed_over_at)
                .where(
                    QueuedEmail.status == EmailStatus.sending,
                    col(QueuedEmail.needs_review).is_(False),
                    col(QueuedEmail.claimed_at) < cutoff,
                )
                .limit(self.batch_size)
            ).all()
        for email_id, old_token, handed_over_at in stale:
            values: dict[str, object]
            if handed_over_at is None:
                values = {
                    "status": EmailStatus.queued,
                    "claim_token": None,
                    "next_attempt_at": now,
                    "last_error_code": "lease-expired",
                    "last_error": "never handed over; queued again",
                }
            else:
                values = {
                    "needs_review": True,
                    "last_error_code": "lease-expired",
                    "last_error": "handed over, outcome unknown; check before sending again",
                }
            with Session(self.engine) as session:
                took = session.exec(
                    update(QueuedEmail)
                    .where(
                        col(QueuedEmail.id) == email_id,
                        col(QueuedEmail.status) == EmailStatus.sending,
                        col(QueuedEmail.claim_token) == old_token,
                        col(QueuedEmail.handed_over_at).is_(None)
                        if handed_over_at is None
                        else col(QueuedEmail.handed_over_at).is_not(None),
                    )
                    .values(updated_at=now, **values)
                ).rowcount
                session.commit()
            if took and handed_over_at is None:
                stats.retried += 1
            elif took:
                stats.review += 1


def email_worker_for(settings: Settings) -> EmailWorker:
    """The email step the outbox worker runs, from settings (SMTP off: settle as not sent)."""
    return EmailWorker(
        engine=get_engine(settings.database_url),
        transport=transport_for(settings),
        base_url=settings.public_base_url,
        default_locale=settings.default_locale,
    )
