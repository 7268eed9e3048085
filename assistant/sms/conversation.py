"""The SMS conversation: one inbound message in, one reply out, exactly once per MessageSid.

``handle_inbound`` is the whole of it for the webhook and the simulator: it finds (or creates)
the contact, takes the contact's row lock, returns the stored reply for a MessageSid already
handled, else runs one step of the enrolment guide (``assistant.sms.guide``) and stores the
message and its reply in the same transaction. A unique constraint on MessageSid backs this up
when two copies race; the loser rolls back and returns the winner's reply.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from assistant.clock import utcnow
from assistant.contacts.models import SmsContact
from assistant.contacts.phone import mask_phone
from assistant.settings import get_settings
from assistant.sms.guide import IDLE_RESET, Step, Turn
from assistant.sms.models import SmsInbound

log = logging.getLogger(__name__)

_ATTEMPTS = 5


def handle_inbound(
    session: Session,
    *,
    phone: str,
    body: str,
    message_sid: str,
    now: datetime | None = None,
    pho_phone: str | None = None,
) -> str:
    """The reply to one inbound message ("" for none). ``phone`` is E.164."""
    now = now or utcnow()
    if pho_phone is None:
        pho_phone = get_settings().pho_phone_number
    for _attempt in range(_ATTEMPTS):
        try:
            # The contact's lock first: a Twilio retry waits for the copy being handled, then
            # finds its stored reply.
            contact = _lock_contact(session, phone=phone, now=now)
            stored = _stored_reply(session, message_sid)
            if stored is not None:
                session.rollback()
                log.info("sms duplicate sid=%s from=%s", message_sid, mask_phone(phone))
                return stored
            turn = Turn(session=session, contact=contact, body=body, now=now, pho_phone=pho_phone)
            reply = turn.run()
            assert contact.id is not None
            language, step = contact.language, contact.step
            session.add(
                SmsInbound(
                    message_sid=message_sid,
                    contact_id=contact.id,
                    body=body,
                    reply=reply,
                    language=language,
                    step=step,
                    received_at=now,
                )
            )
            session.commit()
            log.info(
                "sms handled sid=%s from=%s lang=%s step=%s",
                message_sid,
                mask_phone(phone),
                language,
                step,
            )
            return reply
        except (IntegrityError, OperationalError) as exc:
            # A copy of this message (or a first message from the same new number) won the
            # race: use its stored reply, or try again now that the contact exists.
            session.rollback()
            stored = _stored_reply(session, message_sid)
            if stored is not None:
                return stored
            log.info("sms retry sid=%s after %s", message_sid, type(exc).__name__)
    raise RuntimeError(f"could not store inbound message {message_sid}")


def _stored_reply(session: Session, message_sid: str) -> str | None:
    row = session.exec(
        select(SmsInbound.reply).where(SmsInbound.message_sid == message_sid)
    ).first()
    return row


def _lock_contact(session: Session, *, phone: str, now: datetime) -> SmsContact:
    """The contact for ``phone``, created if new, locked until the transaction ends.

    PostgreSQL: ``SELECT ... FOR UPDATE`` on the contact's row. SQLite: a no-op UPDATE takes the
    database's write lock first, so every read after it sees the latest committed state.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        # A no-op UPDATE takes the write lock and returns the row (one statement).
        contact = session.scalars(
            update(SmsContact)
            .where(col(SmsContact.phone) == phone)
            .values(phone=SmsContact.phone)
            .returning(SmsContact),
            execution_options={"populate_existing": True},
        ).first()
        return contact if contact is not None else _create_contact(session, phone=phone, now=now)
    locked = session.exec(
        select(SmsContact)
        .where(SmsContact.phone == phone)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if locked is None:
        return _create_contact(session, phone=phone, now=now)
    return locked


def _create_contact(session: Session, *, phone: str, now: datetime) -> SmsContact:
    contact = SmsContact(phone=phone, created_at=now)
    session.add(contact)
    session.flush()  # IntegrityError here when another worker created it first
    return contact


def conversation_for(session: Session, *, phone: str, limit: int = 50) -> list[SmsInbound]:
    """The latest messages from ``phone`` with our replies, oldest first (the simulator)."""
    contact = session.exec(select(SmsContact).where(SmsContact.phone == phone)).first()
    if contact is None or contact.id is None:
        return []
    rows = session.exec(
        select(SmsInbound)
        .where(SmsInbound.contact_id == contact.id)
        .order_by(col(SmsInbound.received_at).desc(), col(SmsInbound.id).desc())
        .limit(limit)
    )
    return list(reversed(list(rows)))


__all__ = ["IDLE_RESET", "Step", "conversation_for", "handle_inbound"]
