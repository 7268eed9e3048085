"""Emails about enrolment requests: the practice's staff hear of a new one.

Queued in the transaction that stores the request (assistant.notify.queue), once per request and
person, for practice staff who have not turned this kind off. The email carries a link, never
the person's name or number.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from assistant.clock import to_local, utcnow
from assistant.enrolment.models import EnrolmentRequest
from assistant.notify.models import EmailKind
from assistant.notify.queue import Outgoing, enqueue_emails
from assistant.people.cover import is_available
from assistant.people.models import Role, User


def new_request(session: Session, *, request: EnrolmentRequest) -> int:
    """Email the request's practice staff (those here today); how many were queued."""
    today = to_local(utcnow()).date()
    staff = [
        user
        for user in session.exec(
            select(User)
            .where(
                User.role == Role.practice_staff,
                User.practice_id == request.practice_id,
                col(User.active).is_(True),
            )
            .order_by(col(User.id))
        )
        if user.id is not None and user.email and is_available(user, today)
    ]
    params = {
        "path": f"/practice/new-patients/{request.id}",
        "practice_id": request.practice_id,  # its name is read when the email is written
    }
    outgoing = [
        Outgoing(
            to=user.email,
            user_id=user.id,
            kind=EmailKind.enrolment_new,
            dedupe_key=f"{EmailKind.enrolment_new.value}:{request.id}:{user.id}",
            params=params,
        )
        for user in staff
    ]
    return enqueue_emails(session, outgoing)  # not to those who turned this kind off
