"""The funnel's marks: each person is counted once per stage, the first time they reach it."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from assistant.db import insert_or_skip
from assistant.enrolment.models import FunnelMark, Stage


def person_of(*, phone: str | None, request_id: int | None = None) -> str:
    """Who a mark is about: the phone number when there is one (a person who texted and later
    asked a practice is one person), else the request."""
    if phone:
        return f"phone:{phone}"
    return f"request:{request_id}"


_TABLE = sa.inspect(FunnelMark).local_table
assert isinstance(_TABLE, sa.Table)
# Every text marks, so the statements are built once (each mark binds its values): the new
# mark, skipped when the person has it (``insert_or_skip``); a practice filled in when the
# first mark had none.
_FILL_PRACTICE = (
    sa.update(_TABLE)
    .where(
        _TABLE.c.person == sa.bindparam("marked_person"),
        _TABLE.c.stage == sa.bindparam("marked_stage"),
        _TABLE.c.practice_id.is_(None),
    )
    .values(practice_id=sa.bindparam("filled_practice_id"))
)


def mark(
    session: Session,
    *,
    person: str,
    stage: Stage,
    at: datetime,
    language: str,
    practice_id: int | None = None,
) -> bool:
    """Record that ``person`` reached ``stage`` (no-op when they already had; a practice is
    filled in when the first mark had none). One statement when new, as every text marks."""
    conn = session.connection()
    values = {
        "person": person,
        "stage": stage.value,
        "at": at,
        "language": language,
        "practice_id": practice_id,
    }
    added = conn.execute(insert_or_skip(conn.dialect.name, FunnelMark, ("person", "stage")), values)
    if added.rowcount:
        return True
    if practice_id is not None:
        conn.execute(
            _FILL_PRACTICE,
            {
                "marked_person": person,
                "marked_stage": stage.value,
                "filled_practice_id": practice_id,
            },
        )
    return False


def first_mark(session: Session, *, person: str, stage: Stage) -> FunnelMark | None:
    return session.exec(
        select(FunnelMark).where(FunnelMark.person == person, FunnelMark.stage == stage.value)
    ).first()
