"""Putting messages in the outbox."""

from __future__ import annotations

import re

from sqlmodel import Session, col, select

from assistant.clock import utcnow
from assistant.contacts.optout import is_opted_out
from assistant.outbox.models import OutboxMessage, OutboxStatus

E164 = re.compile(r"^\+[1-9]\d{6,14}$")


class InvalidRecipient(ValueError):
    """The number is not in E.164 form (normalise with assistant.contacts.phone.to_e164 first)."""


def enqueue_sms(
    session: Session,
    *,
    to: str,
    body: str,
    purpose: str,
    referral_id: int | None = None,
    created_by_id: int | None = None,
) -> OutboxMessage:
    """Queue one SMS for the worker, in the caller's transaction (flushed; the caller commits).

    A message for a number that has opted out is kept, already ``cancelled``, so the record
    shows it was never sent (the worker checks again at send time).
    """
    if not E164.match(to):
        raise InvalidRecipient(to)
    now = utcnow()
    opted_out = is_opted_out(session, phone=to)
    message = OutboxMessage(
        to=to,
        body=body,
        purpose=purpose[:40],
        status=OutboxStatus.cancelled if opted_out else OutboxStatus.queued,
        last_error_code="opted-out" if opted_out else None,
        next_attempt_at=now,
        referral_id=referral_id,
        created_by_id=created_by_id,
        created_at=now,
        updated_at=now,
    )
    session.add(message)
    session.flush()
    return message


def messages_to(session: Session, *, phone: str, limit: int = 50) -> list[OutboxMessage]:
    """The latest messages queued for ``phone`` (a practice's answer, a worker's text), oldest
    first."""
    rows = session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.to == phone)
        .order_by(col(OutboxMessage.created_at).desc(), col(OutboxMessage.id).desc())
        .limit(limit)
    )
    return list(reversed(list(rows)))
