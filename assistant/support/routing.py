"""Who gets a ticket: the owning team, else the practice's liaison, their cover or the queue.

- Topics owned by coordination or MSO go to that team's queue.
- Liaison topics and unknown questions go to the practice's portfolio liaison; when that liaison
  is away or inactive, to their cover (following covers of covers, ``people.cover``), else the
  liaison queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Session

from assistant import db
from assistant.clock import to_local, utcnow
from assistant.knowledge import get_knowledge_base
from assistant.people.cover import cover_for
from assistant.people.models import PortfolioAssignment, TeamKind, User

TEAM_QUEUES = (TeamKind.liaison, TeamKind.coordination, TeamKind.mso)


class RouteReason(StrEnum):
    owning_team = "owning_team"
    portfolio = "portfolio"
    cover = "cover"
    no_cover = "no_cover"  # liaison away and no available cover: the liaison queue
    no_portfolio = "no_portfolio"  # the practice has no liaison: the liaison queue


@dataclass(frozen=True)
class Route:
    team: TeamKind
    assignee: User | None  # the person it goes to (None: the team's queue)
    reason: RouteReason

    @property
    def assignee_id(self) -> int | None:
        return self.assignee.id if self.assignee is not None else None


def topic_team(topic_id: str | None) -> str | None:
    """The owning team of a knowledge entry, or None when the topic is unknown."""
    if not topic_id:
        return None
    entry = get_knowledge_base().get(topic_id)
    return entry.owning_team if entry is not None else None


_USERS = User.metadata.tables["user"]
_PORTFOLIOS = PortfolioAssignment.metadata.tables["portfolioassignment"]
# Built once, asked for every new ticket: the practice's portfolio and its liaison's row (a
# plain SELECT; the liaison is built as the ORM would load it).
_PORTFOLIO = (
    sa.select(_PORTFOLIOS.c.practice_id, _USERS)
    .outerjoin(_USERS, _USERS.c.id == _PORTFOLIOS.c.liaison_id)
    .where(_PORTFOLIOS.c.practice_id == sa.bindparam("practice_id"))
)


def route(
    session: Session, *, practice_id: int, owning_team: str | None, today: date | None = None
) -> Route:
    if owning_team in (TeamKind.coordination, TeamKind.mso):
        return Route(TeamKind(owning_team), None, RouteReason.owning_team)
    # The practice's portfolio and its liaison in one query.
    portfolio = session.connection().execute(_PORTFOLIO, {"practice_id": practice_id}).first()
    if portfolio is None:
        return Route(TeamKind.liaison, None, RouteReason.no_portfolio)
    row = portfolio._mapping
    if row[_USERS.c.id] is None:  # the outer join found no one
        return Route(TeamKind.liaison, None, RouteReason.no_cover)
    liaison = db.loaded(User, {column.key: row[column] for column in _USERS.c})
    found = cover_for(session, liaison, today or to_local(utcnow()).date())
    if found.holder is None:
        return Route(TeamKind.liaison, None, RouteReason.no_cover)
    if found.holder.id == liaison.id:
        return Route(TeamKind.liaison, liaison, RouteReason.portfolio)
    return Route(TeamKind.liaison, found.holder, RouteReason.cover)
