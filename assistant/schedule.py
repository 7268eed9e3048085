"""Work done on a schedule, beside the outbox: each worker pass runs these steps first.

A page view never changes anything; what must happen when time passes (an overdue question
moving to its team's queue, and the email saying so; an enrolment request a practice left
unanswered going to the community workers; sign-in sessions and password reset links that ran
out deleted) happens here, in the worker — the in-app thread for `make run`, or
`python -m assistant worker` in production.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from assistant.clock import utcnow
from assistant.credentials.resets import purge_expired_links
from assistant.db import get_engine
from assistant.enrolment.escalation import escalate_unanswered
from assistant.security.sessions import purge_expired
from assistant.settings import Settings
from assistant.support.tickets import escalate_overdue

log = logging.getLogger(__name__)

Step = Callable[[datetime | None], None]


def _step(settings: Settings, work: Callable[[Session, datetime], int], done: str) -> Step:
    """A step that does ``work`` in a transaction of its own and logs ``done`` (with how many
    things it did) when it did any."""

    def run(now: datetime | None = None) -> None:
        with Session(get_engine(settings.database_url)) as session:
            count = work(session, now or utcnow())
            session.commit()
        if count:
            log.info(done, count)

    return run


def escalation_step(settings: Settings) -> Step:
    return _step(
        settings,
        lambda session, now: len(escalate_overdue(session, now=now)),
        "escalated %d overdue question(s)",
    )


def enrolment_step(settings: Settings) -> Step:
    return _step(
        settings,
        lambda session, now: len(escalate_unanswered(session, now=now)),
        "gave %d unanswered enrolment request(s) to the PCW team",
    )


def sessions_step(settings: Settings) -> Step:
    return _step(
        settings,
        lambda session, now: purge_expired(session, now=now),
        "deleted %d expired sign-in session(s)",
    )


def reset_links_step(settings: Settings) -> Step:
    return _step(
        settings,
        lambda session, now: purge_expired_links(session, now=now),
        "deleted %d password reset link(s) that ran out",
    )


def steps_for(settings: Settings) -> list[Step]:
    return [
        escalation_step(settings),
        enrolment_step(settings),
        sessions_step(settings),
        reset_links_step(settings),
    ]
