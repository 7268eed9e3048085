"""The funnel's marks: each person is counted once per stage, the first time they reach it."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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
    """Record that ``person`` reached ``stage`` (no-op when they already had; a practice is
    filled in when the first mark had none). One statement when new, as every text marks."""
    table = sa.inspect(FunnelMark).local_table
    assert isinstance(table, sa.Table)
    dialect = session.get_bind().dialect.name
    insert = pg_insert(table) if dialect == "postgresql" else sqlite_insert(table)
    added = session.execute(
        insert.values(
            person=person, stage=stage.value, at=at, language=language, practice_id=practice_id
        ).on_conflict_do_nothing(index_elements=["person", "stage"])
    )
    if getattr(added, "rowcount", 0):
        return True
    if practice_id is not None:
        session.execute(
            sa.update(table)
            .where(
                table.c.person == person,
                table.c.stage == stage.value,
                table.c.practice_id.is_(None),
            )
            .values(practice_id=practice_id)
        )
    return False


def first_mark(session: Session, *, person: str, stage: Stage) -> FunnelMark | None:
    return session.exec(
        select(FunnelMark).where(FunnelMark.person == person, FunnelMark.stage == stage.value)
    ).first()
