"""The funnel's marks: each person is counted once per stage, the first time they reach it."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from assistant.enrolment.models import FunnelMark, Stage


def person_of(*, phone: str | None, request_id: int | None = None) -> str:
    """Who a mark is about: the phone number when there is one (a person who texted and later
    asked a practice is one person), else the request."""
    if phone:
        return f"phone:{phone}"
    return f"request:{request_id}"


def mark(
    session: Session,
    *,
    person: str,
    stage: Stage,
    at: datetime,
    language: str,
    practice_id: int | None = None,
) -> bool:
    """Record that ``person`` reached ``stage`` (no-op when they already had). Flushes."""
    found = session.exec(
        select(FunnelMark).where(FunnelMark.person == person, FunnelMark.stage == stage.value)
    ).first()
    if found is not None:
        if found.practice_id is None and practice_id is not None:
            found.practice_id = practice_id
            session.add(found)
        return False
    session.add(
        FunnelMark(
            person=person,
            stage=stage.value,
            at=at,
            language=language,
            practice_id=practice_id,
        )
    )
    session.flush()
    return True


def first_mark(session: Session, *, person: str, stage: Stage) -> FunnelMark | None:
    return session.exec(
        select(FunnelMark).where(FunnelMark.person == person, FunnelMark.stage == stage.value)
    ).first()
