"""Small factories for tests."""

from __future__ import annotations

import itertools
from typing import Any

from sqlmodel import Session

from assistant.people.models import (
    Agency,
    PortfolioAssignment,
    Practice,
    Role,
    Team,
    TeamKind,
    User,
)
from assistant.security.passwords import hash_password

PASSWORD = "correct horse battery"
_HASH = hash_password(PASSWORD)
_seq = itertools.count(1)


def practice(session: Session, **kw: Any) -> Practice:
    n = next(_seq)
    obj = Practice(**({"name": f"Practice {n}", "suburb": "Riccarton"} | kw))
    session.add(obj)
    session.commit()
    session.refresh(obj)
    return obj


def team(session: Session, kind: TeamKind = TeamKind.liaison, **kw: Any) -> Team:
    obj = Team(**({"name": f"Team {next(_seq)}", "kind": kind} | kw))
    session.add(obj)
    session.commit()
    session.refresh(obj)
    return obj


def agency(session: Session, **kw: Any) -> Agency:
    obj = Agency(**({"name": f"Agency {next(_seq)}"} | kw))
    session.add(obj)
    session.commit()
    session.refresh(obj)
    return obj


def user(session: Session, role: Role = Role.practice_staff, **kw: Any) -> User:
    n = next(_seq)
    fields: dict[str, Any] = {"name": f"User {n}", "email": f"user{n}@example.nz", "role": role}
    if role == Role.practice_staff and "practice_id" not in kw:
        fields["practice_id"] = practice(session).id
    if role == Role.pcw and "agency_id" not in kw:
        fields["agency_id"] = agency(session).id
    obj = User(**(fields | kw), password_hash=_HASH)
    session.add(obj)
    session.commit()
    session.refresh(obj)
    return obj


def portfolio(session: Session, practice_obj: Practice, liaison: User) -> PortfolioAssignment:
    assert practice_obj.id is not None and liaison.id is not None
    obj = PortfolioAssignment(practice_id=practice_obj.id, liaison_id=liaison.id)
    session.add(obj)
    session.commit()
    return obj
