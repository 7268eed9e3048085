"""Delivery status callbacks: Twilio tells us what happened to a message we sent.

Statuses only move forward (queued < sending < sent < delivered / undelivered / failed);
a late or repeated callback never moves a message back. Any callback at all proves Twilio
accepted the message, so the row is at least ``sent`` afterwards (it also settles a send
whose answer we never saw, which the worker would otherwise check before trying again).
"""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col, select

from assistant.clock import utcnow
from assistant.contacts.optout import mark_opted_out
from assistant.outbox.models import OutboxMessage, OutboxStatus
from assistant.outbox.transport import OPTED_OUT_CODE

DELIVERY_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
    "canceled": 3,
    "read": 4,
}
OUR_RANK = {
    OutboxStatus.queued: 0,
    OutboxStatus.sending: 1,
    OutboxStatus.sent: 2,
    OutboxStatus.delivered: 3,
    OutboxStatus.failed: 3,
    OutboxStatus.cancelled: 3,
}
OUR_STATUS_FOR = {
    "delivered": OutboxStatus.delivered,
    "read": OutboxStatus.delivered,
    "undelivered": OutboxStatus.failed,
    "failed": OutboxStatus.failed,
    "canceled": OutboxStatus.cancelled,
}


def _find(session: Session, *, sid: str, message_id: int | None) -> OutboxMessage | None:
    message = session.exec(select(OutboxMessage).where(OutboxMessage.twilio_sid == sid)).first()
    if message is None and message_id is not None:
        candidate = session.get(OutboxMessage, message_id)
        if candidate is not None and candidate.twilio_sid in (None, sid):
            message = candidate
    return message


def apply_status(
    session: Session,
    *,
    sid: str,
    status: str,
    message_id: int | None = None,
    error_code: str | None = None,
) -> OutboxMessage | None:
    """Record one callback; returns the message (None when it is not ours)."""
    status = status.strip().lower()
    if status not in DELIVERY_RANK or not sid:
        return None
    for _ in range(3):  # optimistic: retry when a concurrent change got in between
        session.expire_all()
        message = _find(session, sid=sid, message_id=message_id)
        if message is None:
            return None
        current = message.delivery_status
        new_delivery = current
        if current is None or DELIVERY_RANK[status] > DELIVERY_RANK.get(current, -1):
            new_delivery = status
        our = OutboxStatus(message.status)
        target = OUR_STATUS_FOR.get(status, OutboxStatus.sent)
        new_status = target if OUR_RANK[target] > OUR_RANK[our] else our
        if new_delivery == current and new_status == our and message.twilio_sid == sid:
            return message
        values: dict[str, object] = {
            "delivery_status": new_delivery,
            "status": new_status,
            "twilio_sid": sid,
            "claim_token": None if new_status != our else message.claim_token,
            "updated_at": utcnow(),
        }
        if message.sent_at is None:
            values["sent_at"] = utcnow()
        if error_code and new_delivery == status:
            values["last_error_code"] = error_code[:20]
        guard = [col(OutboxMessage.id) == message.id, col(OutboxMessage.status) == our]
        guard.append(
            col(OutboxMessage.delivery_status).is_(None)
            if current is None
            else col(OutboxMessage.delivery_status) == current
        )
        result = session.exec(update(OutboxMessage).where(*guard).values(**values))
        if result.rowcount:
            if error_code == str(OPTED_OUT_CODE):
                mark_opted_out(session, phone=message.to)
            session.commit()
            session.refresh(message)
            return message
        session.rollback()
    return None
