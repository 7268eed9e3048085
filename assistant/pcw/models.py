"""Referrals to the PCW team, their call notes, and follow-up tasks."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from assistant.clock import utcnow


class ReferralSource(StrEnum):
    sms = "sms"
    practice = "practice"
    assessment = "assessment"


class ReferralStatus(StrEnum):
    open = "open"
    contacted = "contacted"
    enrolled = "enrolled"
    unreachable = "unreachable"


class Referral(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(sa_type=sa.String(20))
    phone: str | None = Field(default=None, max_length=20, index=True)  # E.164
    contact_name: str | None = Field(default=None, max_length=120)
    language: str = Field(default="en", max_length=10)
    transcript: str = Field(default="", sa_type=sa.Text)
    barriers: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    reason: str = Field(default="", max_length=500)
    urgent: bool = Field(default=False, index=True)
    status: str = Field(default=ReferralStatus.open, sa_type=sa.String(20), index=True)
    # None: the shared PCW team queue (every PCW sees it); else that agency's PCWs.
    agency_id: int | None = Field(default=None, foreign_key="agency.id", index=True)
    claimed_by_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    claimed_at: dt.datetime | None = None
    created_at: dt.datetime = Field(default_factory=utcnow, index=True)
    updated_at: dt.datetime = Field(default_factory=utcnow)
    closed_at: dt.datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status == ReferralStatus.open


class NoteKind(StrEnum):
    note = "note"
    sms = "sms"
    status = "status"
    claim = "claim"
    unanswered = "unanswered"  # a practice left an enrolment request unanswered (body: its name)


class ReferralNote(SQLModel, table=True):
    __tablename__ = "referral_note"

    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    author_id: int | None = Field(default=None, foreign_key="user.id")
    kind: str = Field(default=NoteKind.note, sa_type=sa.String(20))
    body: str = Field(default="", sa_type=sa.Text)
    created_at: dt.datetime = Field(default_factory=utcnow)


class FollowUpTask(SQLModel, table=True):
    __tablename__ = "follow_up_task"

    id: int | None = Field(default=None, primary_key=True)
    # Assignee None: any PCW of ``agency_id`` (or of the whole team when that is None too).
    assignee_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    agency_id: int | None = Field(default=None, foreign_key="agency.id", index=True)
    title: str = Field(max_length=200)
    kind: str = Field(max_length=40)
    due: dt.date = Field(index=True)
    done: bool = Field(default=False, index=True)
    done_at: dt.datetime | None = None
    done_by_id: int | None = Field(default=None, foreign_key="user.id")
    source_ref: str = Field(default="", max_length=200)
    referral_id: int | None = Field(default=None, foreign_key="referral.id", index=True)
    created_at: dt.datetime = Field(default_factory=utcnow)


def barriers_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []
