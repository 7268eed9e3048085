"""Reset tokens (only their hashes), reset requests (for throttling) and forced changes."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from assistant.clock import utcnow


class PasswordResetToken(SQLModel, table=True):
    """One reset link: single use, short-lived. The link's token is never stored, only its
    SHA-256."""

    __tablename__ = "password_reset_token"

    id: str = Field(primary_key=True, max_length=64)  # sha256 of the token
    user_id: int = Field(foreign_key="user.id", index=True)
    purpose: str = Field(sa_type=sa.String(20))  # "email" | "forced"
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
    used_at: datetime | None = None


class PasswordResetRequest(SQLModel, table=True):
    """A "forgot password" request, kept a while to throttle them by address and account."""

    __tablename__ = "password_reset_request"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    ip: str = Field(max_length=64, index=True)
    account_digest: str = Field(max_length=64, index=True)  # sha256 of the address asked for


class PasswordChangeRequired(SQLModel, table=True):
    """An admin asked this person to choose a new password at their next sign-in."""

    __tablename__ = "password_change_required"

    user_id: int = Field(foreign_key="user.id", primary_key=True)
    required_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
