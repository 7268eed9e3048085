"""Follow-up tasks in a PCW's task list."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from assistant.pcw.models import FollowUpTask


def create_task(
    session: Session,
    *,
    assignee_id: int | None,
    agency_id: int | None,
    title: str,
    kind: str,
    due: dt.date,
    source_ref: str = "",
    referral_id: int | None = None,
    commit: bool = True,
) -> FollowUpTask:
    """A task for one PCW (``assignee_id``), or for any PCW of an agency / of the whole team."""
    task = FollowUpTask(
        assignee_id=assignee_id,
        agency_id=agency_id,
        title=title[:200],
        kind=kind[:40],
        due=due,
        source_ref=source_ref[:200],
        referral_id=referral_id,
    )
    session.add(task)
    if commit:
        session.commit()
        session.refresh(task)
    else:
        session.flush()
    return task
