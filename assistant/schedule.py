"""Work done on a schedule, beside the outbox: each worker pass runs these steps first.

A page view never changes anything; what must happen when time passes (an overdue question
moving to its team's queue, and the email saying so; an enrolment request a practice left
unanswered going to the community workers; sign-in sessions that ran out deleted) happens
here, in the worker — the in-app thread for `make run`, or `python -m assistant worker` in
production.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from assistant.clock import utcnow
from assistant.db import get_engine
from assistant.enrolment.escalation import escalate_unanswered
from assistant.security.sessions import purge_expired
from assistant.settings import Settings
from assistant.support.tickets import escalate_overdue

log = logging.getLogger(__name__)

Step = Callable[[datetime | None], None]


def escalation_step(settings: Settings) -> Step:
    def escalate(now: datetime | None = None) -> None:
        with Session(get_engine(settings.database_url)) as session:
            moved = escalate_overdue(session, now=now or utcnow())
            session.commit()
        if moved:
            log.info("escalated %d overdue question(s)", len(moved))

    return escalate


def enrolment_step(settings: Settings) -> Step:
    def hand_over(now: datetime | None = None) -> None:
        with Session(get_engine(settings.database_url)) as session:
            moved = escalate_unanswered(session, now=now or utcnow())
            session.commit()
        if moved:
            log.info("gave %d unanswered enrolment request(s) to the PCW team", len(moved))

    return hand_over


def sessions_step(settings: Settings) -> Step:
    def purge(now: datetime | None = None) -> None:
        with Session(get_engine(settings.database_url)) as session:
            gone = purge_expired(session, now=now or utcnow())
            session.commit()
        if gone:
            log.info("deleted %d expired sign-in session(s)", gone)

    return purge


def steps_for(settings: Settings) -> list[Step]:
    return [escalation_step(settings), enrolment_step(settings), sessions_step(settings)]
