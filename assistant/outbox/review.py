"""A person's decisions on messages the worker could not settle by itself.

A message left in ``sending`` that Twilio could not be asked about is flagged for review; a
coordinator checks (for instance in Twilio's console) and either sends it again or cancels
it. Failed and still-queued messages can be cancelled too.

The functions only flush: the caller (the request) commits, or rolls back when one is refused.
"""

from __future__ import annotations

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col

from assistant import audit
from assistant.clock import utcnow
from assistant.errors import Conflict, NotFound
from assistant.i18n import _
from assistant.outbox.models import OutboxMessage, OutboxStatus
from assistant.people.models import User


def _get(session: Session, message_id: int) -> OutboxMessage:
    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(_("We could not find that message."))
    return message


def cancel_message(session: Session, *, user: User, message_id: int) -> OutboxMessage:
    message = _get(session, message_id)
    now = utcnow()
    result = session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == message_id,
            or_(
                col(OutboxMessage.status).in_([OutboxStatus.queued, OutboxStatus.failed]),
                and_(
                    col(OutboxMessage.status) == OutboxStatus.sending,
                    col(OutboxMessage.needs_review).is_(True),
                ),
            ),
        )
        .values(status=OutboxStatus.cancelled, claim_token=None, needs_review=False, updated_at=now)
    )
    if not result.rowcount:
        raise Conflict(_("This message can no longer be cancelled."))
    audit.record(
        session,
        actor_id=user.id,
        action="cancelled",
        entity="outbox_message",
        entity_id=message_id,
    )
    session.flush()
    session.refresh(message)
    return message


def resend_message(session: Session, *, user: User, message_id: int) -> OutboxMessage:
    """Queue a flagged or failed message again (a person decided it did not go out)."""
    message = _get(session, message_id)
    now = utcnow()
    result = session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == message_id,
            or_(
                col(OutboxMessage.status) == OutboxStatus.failed,
                and_(
                    col(OutboxMessage.status) == OutboxStatus.sending,
                    col(OutboxMessage.needs_review).is_(True),
                ),
            ),
        )
        .values(
            status=OutboxStatus.queued,
            claim_token=None,
            needs_review=False,
            next_attempt_at=now,
            last_error_code=None,
            last_error="",
            delivery_status=None,
            updated_at=now,
        )
    )
    if not result.rowcount:
        raise Conflict(_("Only a failed message, or one flagged for checking, can be sent again."))
    audit.record(
        session,
        actor_id=user.id,
        action="requeued",
        entity="outbox_message",
        entity_id=message_id,
    )
    session.flush()
    session.refresh(message)
    return message
