"""SMS contacts: find or create by phone, opt out and back in."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from assistant.clock import utcnow
from assistant.contacts.models import SmsContact
from assistant.contacts.phone import InvalidPhone, to_e164


def normalise(phone: str) -> str:
    """``phone`` in E.164 when it reads as a number, else as typed (trimmed)."""
    try:
        return to_e164(phone)
    except InvalidPhone:
        return phone.strip()


def find_contact(session: Session, *, phone: str) -> SmsContact | None:
    return session.exec(select(SmsContact).where(SmsContact.phone == normalise(phone))).first()


def mark_opted_out(session: Session, *, phone: str, now: datetime | None = None) -> None:
    """Never send to ``phone`` again until it texts START (creates the contact if new)."""
    contact = find_contact(session, phone=phone)
    if contact is None:
        contact = SmsContact(phone=normalise(phone))
    if not contact.opted_out:
        contact.opted_out = True
        contact.opted_out_at = now or utcnow()
    session.add(contact)
    session.flush()


def mark_opted_in(session: Session, *, phone: str) -> None:
    contact = find_contact(session, phone=phone)
    if contact is None or not contact.opted_out:
        return
    contact.opted_out = False
    contact.opted_out_at = None
    session.add(contact)
    session.flush()


def is_opted_out(session: Session, *, phone: str) -> bool:
    contact = find_contact(session, phone=phone)
    return bool(contact and contact.opted_out)
