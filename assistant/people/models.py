"""People and organisations: the model families behind the admin pages."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from assistant.clock import utcnow


class Role(StrEnum):
    practice_staff = "practice_staff"
    liaison = "liaison"
    coordinator = "coordinator"
    mso = "mso"
    pcw = "pcw"
    admin = "admin"


class TeamKind(StrEnum):
    liaison = "liaison"
    coordination = "coordination"
    mso = "mso"
    pcw = "pcw"


LANGUAGES = ("en", "mi", "sm", "to", "zh_Hans", "hi", "ar")


class PracticeBase(SQLModel):
    name: str = Field(min_length=2, max_length=200, index=True)
    address: str = Field(default="", max_length=300)
    suburb: str = Field(default="", max_length=100, index=True)
    postcode: str = Field(default="", max_length=10)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    phone: str = Field(default="", max_length=40)
    accepting_new_patients: bool = False
    fee_notes: str = Field(default="", max_length=500)
    languages: str = Field(default="", max_length=200)  # comma-separated language names
    active: bool = True


class Practice(PracticeBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)
    # When the practice last confirmed its "taking new patients" status and fee note: the SMS
    # guide lists only practices confirmed in the last 30 days.
    accepting_confirmed_at: datetime | None = None
    accepting_confirmed_by_id: int | None = None  # the user (no foreign key: user -> practice)


class TeamBase(SQLModel):
    name: str = Field(min_length=2, max_length=120, unique=True)
    kind: TeamKind = Field(sa_type=sa.String(20))
    active: bool = True


class Team(TeamBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


class AgencyBase(SQLModel):
    name: str = Field(min_length=2, max_length=160, unique=True)
    active: bool = True


class Agency(AgencyBase, table=True):
    """A community agency or school that PCWs work from."""

    id: int | None = Field(default=None, primary_key=True)


class UserBase(SQLModel):
    name: str = Field(min_length=1, max_length=120)
    email: str = Field(max_length=254, unique=True, index=True)
    role: Role = Field(sa_type=sa.String(20), index=True)
    practice_id: int | None = Field(default=None, foreign_key="practice.id")
    team_id: int | None = Field(default=None, foreign_key="team.id")
    agency_id: int | None = Field(default=None, foreign_key="agency.id")
    locale: str | None = Field(default=None, max_length=10)
    active: bool = True
    # Liaisons: away means their practices' questions go to their cover.
    away: bool = False
    away_until: date | None = None  # the last day away (NZ); back by itself the day after
    cover_id: int | None = Field(default=None, foreign_key="user.id")
    # Practice staff: a practice manager keeps the practice's new-patient status and fees current.
    practice_manager: bool = False


class User(UserBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    password_hash: str = Field(max_length=300)
    created_at: datetime = Field(default_factory=utcnow)


class PortfolioAssignment(SQLModel, table=True):
    """Which liaison holds which practice (one liaison per practice)."""

    practice_id: int = Field(foreign_key="practice.id", primary_key=True)
    liaison_id: int = Field(foreign_key="user.id", index=True)
