"""Follow-up tasks in a PCW's task list."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from assistant import audit
from assistant.clock import utcnow
from assistant.errors import NotFound
from assistant.i18n import _
from assistant.paging import Page, fetch
from assistant.pcw.models import FollowUpTask
from assistant.people.models import Role, User

URGENT_KIND = "urgent"
# A person texted back after a worker texted them (its title: their name or masked number).
REPLY_KIND = "sms-reply"


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
    session.flush()
    return task


def _visible(stmt: SelectOfScalar[FollowUpTask], user: User) -> SelectOfScalar[FollowUpTask]:
    """A PCW's own tasks, plus unassigned ones for their agency or for the whole team."""
    if user.role in (Role.coordinator, Role.admin):
        return stmt
    return stmt.where(
        or_(
            col(FollowUpTask.assignee_id) == user.id,
            and_(
                col(FollowUpTask.assignee_id).is_(None),
                or_(
                    col(FollowUpTask.agency_id).is_(None),
                    col(FollowUpTask.agency_id) == user.agency_id,
                ),
            ),
        )
    )


def list_tasks(session: Session, *, user: User, done: bool = False) -> list[FollowUpTask]:
    """The first page of ``page_of_tasks``."""
    return page_of_tasks(session, user=user, done=done).items


def page_of_tasks(
    session: Session, *, user: User, done: bool = False, page: int = 1
) -> Page[FollowUpTask]:
    """Open tasks by due date (overdue first); done ones most recently finished first."""
    audit.record(
        session, actor_id=user.id, action="viewed", entity="follow_up_task", entity_id="list"
    )
    stmt = _visible(select(FollowUpTask).where(FollowUpTask.done == done), user)
    if done:
        stmt = stmt.order_by(col(FollowUpTask.done_at).desc(), col(FollowUpTask.id).desc())
    else:
        stmt = stmt.order_by(col(FollowUpTask.due), col(FollowUpTask.id))
    return fetch(session, stmt, number=page)


def set_task_done(session: Session, *, user: User, task_id: int, done: bool = True) -> FollowUpTask:
    """Tick a task off (or open it again); flushed, the caller commits."""
    stmt = _visible(select(FollowUpTask).where(FollowUpTask.id == task_id), user)
    task = session.exec(stmt).first()
    if task is None:
        raise NotFound(_("We could not find that task."))
    if task.done != done:
        task.done = done
        task.done_at = utcnow() if done else None
        task.done_by_id = user.id if done else None
        session.add(task)
        audit.record(
            session,
            actor_id=user.id,
            action="done" if done else "reopened",
            entity="follow_up_task",
            entity_id=task_id,
        )
        session.flush()
    return task
