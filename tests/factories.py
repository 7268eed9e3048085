"""Small factories for tests."""

from __future__ import annotations

import itertools
from typing import Any

from argon2 import PasswordHasher
from sqlmodel import Session

from assistant.clock import utcnow
from assistant.people.models import (
    Agency,
    PortfolioAssignment,
    Practice,
    Role,
    Team,
    TeamKind,
    User,
)

PASSWORD = "correct horse battery"
# A real argon2id hash, checked by the app's own verify_password at every sign-in, made with the
# lowest cost parameters: verifying the production-cost hash takes a large share of a second per
# sign-in on a busy machine, and the parameters travel inside the hash.
_HASH = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
_seq = itertools.count(1)


def practice(session: Session, **kw: Any) -> Practice:
    n = next(_seq)
    # Listed by the SMS guide when it takes new patients: confirmed just now.
    defaults = {"name": f"Practice {n}", "suburb": "Riccarton", "accepting_confirmed_at": utcnow()}
    obj = Practice(**(defaults | kw))
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
