"""The email outbox and each person's choice of notifications."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from assistant.clock import utcnow


class EmailKind(StrEnum):
    ticket_new = "ticket_new"  # a new question in the person's (or their team's) queue
    ticket_overdue = "ticket_overdue"  # a question went overdue and moved to the team queue
    ticket_reply = "ticket_reply"  # the PHO replied to the person's question
    enrolment_new = "enrolment_new"  # someone asked the person's practice to take them on
    password_reset = "password_reset"  # a link to choose a new password (not optional)


# The kinds a person may turn off (a reset link is always sent).
OPTIONAL_KINDS = (
    EmailKind.ticket_new,
    EmailKind.ticket_overdue,
    EmailKind.ticket_reply,
    EmailKind.enrolment_new,
)


class EmailStatus(StrEnum):
    queued = "queued"
    sending = "sending"
    sent = "sent"
    failed = "failed"
    cancelled = "cancelled"


class QueuedEmail(SQLModel, table=True):
    """One email to send. What it says is written when it is sent, in the recipient's language;
    ``params`` carries what that needs (for a reset link, the link itself: cleared once settled).
    """

    __tablename__ = "email_outbox"
    __table_args__ = (sa.Index("ix_email_outbox_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    to: str = Field(max_length=254)
    kind: str = Field(sa_type=sa.String(30))
    params: str = Field(default="{}", sa_type=sa.Text)  # JSON
    sensitive: bool = False
    # One email per event and recipient, however often the event's hook runs.
    dedupe_key: str = Field(max_length=120, unique=True)
    message_id: str = Field(max_length=200, unique=True)  # the Message-ID header, kept across tries
    subject: str = Field(default="", max_length=300)  # as sent
    status: str = Field(default=EmailStatus.queued, sa_type=sa.String(20))
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None  # not worth sending after this (a reset link's end)
    claimed_at: datetime | None = None
    claim_token: str | None = Field(default=None, max_length=36)
    # Set when the message was handed to the server (DATA) in the current try: from then on
    # it may have been accepted, so it is never sent again without a person deciding.
    handed_over_at: datetime | None = None
    needs_review: bool = False
    last_error_code: str | None = Field(default=None, max_length=20)
    last_error: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class NotificationPreference(SQLModel, table=True):
    """A person's choice for one kind of email; no row means the email is on."""

    __tablename__ = "notify_preference"

    user_id: int = Field(foreign_key="user.id", primary_key=True)
    kind: str = Field(sa_type=sa.String(30), primary_key=True)
    enabled: bool = True
    updated_at: datetime = Field(default_factory=utcnow)
