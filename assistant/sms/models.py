"""Inbound messages, stored once each with the reply the conversation gave."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from assistant.clock import utcnow


class SmsInbound(SQLModel, table=True):
    """An inbound message, stored once per MessageSid with the reply we gave."""

    __tablename__ = "sms_inbound"

    id: int | None = Field(default=None, primary_key=True)
    message_sid: str = Field(max_length=64, unique=True)
    contact_id: int = Field(foreign_key="sms_contact.id", index=True)
    body: str = Field(default="", sa_type=sa.Text)
    reply: str = Field(default="", sa_type=sa.Text)  # empty: no reply (opted out)
    language: str = Field(default="en", max_length=10)
    step: str = Field(default="", max_length=40)  # the step the reply left the contact at
    received_at: datetime = Field(default_factory=utcnow, index=True)
