"""The SMS conversation: one inbound message in, one reply out, exactly once per MessageSid.

``handle_inbound`` is the whole of it for the webhook and the simulator: it finds (or creates)
the contact, takes the contact's row lock and reads any stored reply to the MessageSid in one
statement, returns that reply for a message already handled, else runs one step of the
enrolment guide (``assistant.sms.guide``) and writes the contact's new state, the message and
its reply in the same transaction. A unique constraint on MessageSid backs this up when two
copies race; the loser rolls back and returns the winner's reply.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from assistant.clock import utcnow
from assistant.contacts.models import SmsContact
from assistant.contacts.phone import mask_phone
from assistant.settings import get_settings
from assistant.sms.guide import IDLE_RESET, Contact, Step, Turn, read
from assistant.sms.models import SmsInbound

log = logging.getLogger(__name__)

_ATTEMPTS = 5

# The statements of every message, built once: each message binds its values. Plain Core
# statements on the tables (the contact's state is a ``Contact``, not an ORM object): the
# ORM's bulk UPDATE, its unit of work and the reload of what it wrote cost more than the
# statements themselves.
_CONTACTS = sa.inspect(SmsContact).local_table
_INBOUND = sa.inspect(SmsInbound).local_table
assert isinstance(_CONTACTS, sa.Table) and isinstance(_INBOUND, sa.Table)
# What the guide reads and changes of a contact (the fields of ``Contact`` beside its id).
_FIELDS = ("language", "step", "answers", "opted_out", "opted_out_at", "last_activity")
_STATE = (_CONTACTS.c.id, *(_CONTACTS.c[name] for name in _FIELDS))
_STORED = sa.select(_INBOUND.c.reply).where(_INBOUND.c.message_sid == sa.bindparam("sid"))
# The contact's row and the stored reply to this MessageSid, if any, in one statement.
# SQLite: a no-op UPDATE takes the database's write lock before it reads, so the reply it
# returns is the latest committed. PostgreSQL: SELECT ... FOR UPDATE takes the row's lock; a
# copy that waited for it reads the reply from before the wait, finds none, and meets the
# unique MessageSid when it stores the message (then it returns the stored reply).
_LOCK_SQLITE = (
    sa.update(_CONTACTS)
    .where(_CONTACTS.c.phone == sa.bindparam("phone"))
    .values(phone=_CONTACTS.c.phone)
    .returning(*_STATE, _STORED.scalar_subquery().label("stored"))
)
_LOCK = (
    sa.select(*_STATE, _STORED.scalar_subquery().label("stored"))
    .where(_CONTACTS.c.phone == sa.bindparam("phone"))
    .with_for_update(of=_CONTACTS)
)
_CREATE = sa.insert(_CONTACTS).returning(_CONTACTS.c.id)
_SAVE = (
    sa.update(_CONTACTS)
    .where(_CONTACTS.c.id == sa.bindparam("contact_id"))
    .values({name: sa.bindparam(name) for name in _FIELDS})
)
_STORE = sa.insert(_INBOUND)
# PostgreSQL: both in one statement (the UPDATE as a data-modifying WITH), one round trip.
_SAVE_AND_STORE = (
    sa.insert(_INBOUND)
    .values(
        message_sid=sa.bindparam("message_sid"),
        contact_id=sa.bindparam("contact_id"),
        body=sa.bindparam("body"),
        reply=sa.bindparam("reply"),
        language=sa.bindparam("language"),
        step=sa.bindparam("step"),
        received_at=sa.bindparam("received_at"),
    )
    .add_cte(_SAVE.cte("saved"))
)
# A new contact's state: the model's defaults.
_NEW: dict[str, Any] = {name: SmsContact.model_fields[name].default for name in _FIELDS}


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
    # What the words say needs no lock: read before it, so the lock is held for less.
    message = read(body)
    for _attempt in range(_ATTEMPTS):
        try:
            # The contact's lock first, with the stored reply: a Twilio retry waits for the
            # copy being handled, then returns its reply (on PostgreSQL, once storing the
            # message meets the unique MessageSid).
            conn = session.connection()
            contact, stored, created = _lock_contact(
                conn, phone=phone, message_sid=message_sid, now=now
            )
            if stored is not None:
                _end_handled_before(session, created=created)
                log.info("sms duplicate sid=%s from=%s", message_sid, mask_phone(phone))
                return stored
            turn = Turn(
                session=session, contact=contact, message=message, now=now, pho_phone=pho_phone
            )
            reply = turn.run()
            _store(conn, contact, message_sid=message_sid, body=body, reply=reply, now=now)
            session.commit()
            log.info(
                "sms handled sid=%s from=%s lang=%s step=%s",
                message_sid,
                mask_phone(phone),
                contact.language,
                contact.step,
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
    reply: str | None = session.connection().execute(_STORED, {"sid": message_sid}).scalar()
    return reply


def _lock_contact(
    conn: Connection, *, phone: str, message_sid: str, now: datetime
) -> tuple[Contact, str | None, bool]:
    """The contact for ``phone``, created if new, locked until the transaction ends; the stored
    reply to ``message_sid`` (None when that message is new); and whether the contact was
    created just now."""
    lock = _LOCK_SQLITE if conn.dialect.name == "sqlite" else _LOCK
    row = conn.execute(lock, {"phone": phone, "sid": message_sid}).first()
    if row is None:
        stored = conn.execute(_STORED, {"sid": message_sid}).scalar()
        return _create_contact(conn, phone=phone, now=now), stored, True
    state = row._mapping
    contact = Contact(id=state["id"], phone=phone, **{name: state[name] for name in _FIELDS})
    return contact, state["stored"], False


def _end_handled_before(session: Session, *, created: bool) -> None:
    """End the transaction of a message handled before, leaving the database as it was.

    On PostgreSQL, unless the contact was created just now, nothing was written (its row was
    only locked): COMMIT ends the transaction as ROLLBACK would, and keeps the connection's
    prepared statements, which psycopg drops after every ROLLBACK (a Twilio retry would
    otherwise cost every later message on that connection its prepared statements). On SQLite
    the lock is a write (a no-op UPDATE): ROLLBACK."""
    if created or session.connection().dialect.name != "postgresql":
        session.rollback()
    else:
        session.commit()


def _create_contact(conn: Connection, *, phone: str, now: datetime) -> Contact:
    """A new contact with the model's defaults (IntegrityError when another worker created it
    first)."""
    contact = Contact(id=0, phone=phone, **_NEW)
    contact.id = conn.execute(_CREATE, {**_NEW, "phone": phone, "created_at": now}).scalar_one()
    return contact


def _store(
    conn: Connection, contact: Contact, *, message_sid: str, body: str, reply: str, now: datetime
) -> None:
    """The contact's new state, and the message with its reply (IntegrityError when a copy of
    the message was stored first)."""
    state = {name: getattr(contact, name) for name in _FIELDS}
    message = {
        "message_sid": message_sid,
        "contact_id": contact.id,
        "body": body,
        "reply": reply,
        "language": contact.language,
        "step": contact.step,
        "received_at": now,
    }
    if conn.dialect.name == "postgresql":
        conn.execute(_SAVE_AND_STORE, state | message)
        return
    conn.execute(_SAVE, {"contact_id": contact.id} | state)
    conn.execute(_STORE, message)


def conversation_for(
    session: Session, *, phone: str, since: datetime | None = None, limit: int = 50
) -> list[SmsInbound]:
    """The latest messages from ``phone`` with our replies, oldest first (the simulator; on a
    referral, those received after ``since``, when it was made)."""
    contact = session.exec(select(SmsContact).where(SmsContact.phone == phone)).first()
    if contact is None or contact.id is None:
        return []
    stmt = select(SmsInbound).where(SmsInbound.contact_id == contact.id)
    if since is not None:
        stmt = stmt.where(col(SmsInbound.received_at) > since)
    rows = session.exec(
        stmt.order_by(col(SmsInbound.received_at).desc(), col(SmsInbound.id).desc()).limit(limit)
    )
    return list(reversed(list(rows)))


__all__ = ["IDLE_RESET", "Step", "conversation_for", "handle_inbound"]
