"""Enrolment requests, their journey, and the funnel's marks."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from assistant.clock import utcnow


class RequestStatus(StrEnum):
    sent = "sent"  # waiting for the practice
    info_needed = "info_needed"  # the practice asked the person for more
    booked = "booked"  # the practice will take them on: a time to come in
    enrolled = "enrolled"  # the person signed the enrolment form
    declined = "declined"  # the practice cannot take them on


# Statuses the practice still has to act on.
OPEN_STATUSES = (RequestStatus.sent, RequestStatus.info_needed, RequestStatus.booked)
# Statuses that count as "the practice answered".
ANSWERED_STATUSES = (
    RequestStatus.info_needed,
    RequestStatus.booked,
    RequestStatus.enrolled,
    RequestStatus.declined,
)


class DeclineReason(StrEnum):
    full = "full"  # our books are full
    area = "area"  # outside our area
    not_eligible = "not_eligible"  # not eligible for funded enrolment with us
    other = "other"


class RequestSource(StrEnum):
    sms = "sms"  # the person asked by text
    pcw = "pcw"  # a community worker asked for them


class EnrolmentRequest(SQLModel, table=True):
    """One person's request to be taken on by one practice, made with their consent."""

    __tablename__ = "enrolment_request"

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    source: str = Field(default=RequestSource.sms, sa_type=sa.String(10))
    contact_id: int | None = Field(default=None, foreign_key="sms_contact.id", index=True)
    phone: str | None = Field(default=None, max_length=20, index=True)  # E.164
    name: str = Field(max_length=120)
    language: str = Field(default="en", max_length=10)
    interpreter: bool = False
    barriers: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    note: str = Field(default="", max_length=1000)  # from a community worker, for the practice
    status: str = Field(default=RequestStatus.sent, sa_type=sa.String(20), index=True)
    consent_at: dt.datetime
    # The person's first text to us (the funnel's "texted"), for days from first text to enrolled.
    first_contact_at: dt.datetime | None = None
    referral_id: int | None = Field(default=None, foreign_key="referral.id", index=True)
    submission_id: int | None = Field(default=None, foreign_key="form_submission.id")
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    practice_message: str = Field(default="", max_length=480)  # the last message to the person
    decline_reason: str | None = Field(default=None, sa_type=sa.String(20))
    decline_note: str = Field(default="", max_length=500)  # for the PHO, not sent
    created_at: dt.datetime = Field(default_factory=utcnow, index=True)
    updated_at: dt.datetime = Field(default_factory=utcnow)
    answered_at: dt.datetime | None = None  # the practice's first answer
    booked_at: dt.datetime | None = None
    enrolled_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None  # enrolled or declined
    escalated_at: dt.datetime | None = None  # handed to the community workers, unanswered
    escalation_task_id: int | None = Field(default=None, foreign_key="follow_up_task.id")

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_unanswered(self) -> bool:
        return self.status == RequestStatus.sent


class EventKind(StrEnum):
    sent = "sent"  # the request was made
    booked = "booked"
    info_needed = "info_needed"
    declined = "declined"
    enrolled = "enrolled"
    escalated = "escalated"  # unanswered: given to the community workers
    note = "note"


class EnrolmentEvent(SQLModel, table=True):
    """One step of a request's journey, as the practice, the PCWs and the PHO see it."""

    __tablename__ = "enrolment_event"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="enrolment_request.id", index=True)
    kind: str = Field(sa_type=sa.String(20))
    at: dt.datetime = Field(default_factory=utcnow)
    actor_id: int | None = Field(default=None, foreign_key="user.id")
    message: str = Field(default="", sa_type=sa.Text)  # what the person was told, or a note
    outbox_id: int | None = Field(default=None, foreign_key="outbox_message.id")


class Stage(StrEnum):
    """The funnel, in order."""

    texted = "texted"
    eligible = "eligible"
    practice_chosen = "practice_chosen"
    request_sent = "request_sent"
    accepted = "accepted"
    enrolled = "enrolled"


STAGES: tuple[Stage, ...] = tuple(Stage)


class FunnelMark(SQLModel, table=True):
    """A person reached a stage of the funnel: once per person and stage (the first time)."""

    __tablename__ = "funnel_mark"
    __table_args__ = (sa.UniqueConstraint("person", "stage", name="uq_funnel_mark_person_stage"),)

    id: int | None = Field(default=None, primary_key=True)
    # Who: "phone:+6421..." for a person who texted (or has a phone), else "request:<id>".
    person: str = Field(max_length=40, index=True)
    stage: str = Field(sa_type=sa.String(20), index=True)
    at: dt.datetime = Field(index=True)
    language: str = Field(default="en", max_length=10)
    practice_id: int | None = Field(default=None, foreign_key="practice.id", index=True)
