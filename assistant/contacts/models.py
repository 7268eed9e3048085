"""A phone number we text, and where its SMS conversation stands."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from assistant.clock import utcnow


class SmsContact(SQLModel, table=True):
    """One phone number and where its conversation stands."""

    __tablename__ = "sms_contact"

    id: int | None = Field(default=None, primary_key=True)
    phone: str = Field(max_length=20, unique=True, index=True)  # E.164
    language: str = Field(default="en", max_length=10)
    step: str = Field(default="new", max_length=40)
    answers: str = Field(default="{}", sa_type=sa.Text)  # JSON object
    opted_out: bool = False
    opted_out_at: datetime | None = None
    last_activity: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
