"""Stored form submissions and drafts."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from assistant.clock import utcnow


class FormSubmission(SQLModel, table=True):
    """One submitted form; the client-made ``instance_id`` makes posting idempotent."""

    __tablename__ = "form_submission"

    id: int | None = Field(default=None, primary_key=True)
    instance_id: str = Field(max_length=64, unique=True)
    form_id: str = Field(max_length=60, index=True)
    form_version: str = Field(max_length=20)
    lang: str = Field(max_length=10)
    answers: str = Field(default="{}", sa_type=sa.Text)  # JSON object
    content_hash: str = Field(max_length=64)
    submitted_by_id: int = Field(foreign_key="user.id", index=True)
    agency_id: int | None = Field(default=None, foreign_key="agency.id", index=True)
    practice_id: int | None = Field(default=None, foreign_key="practice.id", index=True)
    consent: bool = False
    created_at: datetime = Field(default_factory=utcnow, index=True)


class FormDraft(SQLModel, table=True):
    """A form being filled in, saved after every page so it resumes on any device."""

    __tablename__ = "form_draft"

    id: int | None = Field(default=None, primary_key=True)
    # The instance id the submission will carry, so submitting a draft twice stores it once.
    instance_id: str = Field(max_length=64, unique=True)
    form_id: str = Field(max_length=60, index=True)
    form_version: str = Field(max_length=20)
    owner_id: int = Field(foreign_key="user.id", index=True)
    agency_id: int | None = Field(default=None, foreign_key="agency.id")
    practice_id: int | None = Field(default=None, foreign_key="practice.id")
    lang: str = Field(max_length=10)
    answers: str = Field(default="{}", sa_type=sa.Text)  # JSON object
    page: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow, index=True)
