"""Outbox rows: one SMS to send, its attempts and what Twilio told us about it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from assistant.clock import utcnow


class OutboxStatus(StrEnum):
    queued = "queued"
    sending = "sending"
    sent = "sent"
    delivered = "delivered"
    failed = "failed"
    cancelled = "cancelled"


FINAL_STATUSES = frozenset({OutboxStatus.delivered, OutboxStatus.failed, OutboxStatus.cancelled})


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"
    __table_args__ = (sa.Index("ix_outbox_message_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    to: str = Field(max_length=20, index=True)  # E.164
    body: str = Field(sa_type=sa.Text)
    purpose: str = Field(max_length=40)
    status: str = Field(default=OutboxStatus.queued, sa_type=sa.String(20))
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    claimed_at: datetime | None = None
    claim_token: str | None = Field(default=None, max_length=36)
    # Set when a claim outlived its lease: the send may or may not have reached Twilio.
    needs_review: bool = False
    twilio_sid: str | None = Field(default=None, max_length=64, unique=True)
    last_error_code: str | None = Field(default=None, max_length=20)
    last_error: str = Field(default="", max_length=300)
    delivery_status: str | None = Field(default=None, max_length=20)
    referral_id: int | None = Field(default=None, index=True)
    created_by_id: int | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)
