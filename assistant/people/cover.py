"""Who is away, and who covers: a liaison's cover, the cover's cover, and so on.

Away can have an end date (the last day away, New Zealand time); from the next day the liaison
is back without anyone switching it off. Following covers stops at the first liaison who is
available. A chain that ends with someone away without a cover, reaches someone inactive, or
comes back on itself has no one at the end: questions go to the liaison team's queue, and the
portfolio page warns about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlmodel import Session

from assistant.people.models import User

MAX_CHAIN = 20  # beyond any real team; a guard, the visited set already stops loops


class CoverProblem(StrEnum):
    ends_away = "ends_away"  # the last cover is away (or inactive) and names no one else
    loops = "loops"  # the covers come back to someone already in the chain


def is_away(user: User, today: date) -> bool:
    """Away today: marked away, and the end date (if any) not passed."""
    return user.away and (user.away_until is None or today <= user.away_until)


def is_available(user: User | None, today: date) -> bool:
    return user is not None and user.active and not is_away(user, today)


@dataclass(frozen=True)
class Cover:
    """Who answers for ``chain[0]`` today: ``holder`` (None: the team queue) and why not."""

    chain: tuple[User, ...]  # the liaison, then each cover followed
    holder: User | None
    problem: CoverProblem | None = None


def cover_for(session: Session, liaison: User, today: date) -> Cover:
    chain = [liaison]
    seen = {liaison.id}
    current = liaison
    while not is_available(current, today):
        if current.cover_id is None or len(chain) > MAX_CHAIN:
            return Cover(tuple(chain), None, CoverProblem.ends_away if len(chain) > 1 else None)
        if current.cover_id in seen:
            return Cover(tuple(chain), None, CoverProblem.loops)
        nxt = session.get(User, current.cover_id)
        if nxt is None:
            return Cover(tuple(chain), None, CoverProblem.ends_away)
        chain.append(nxt)
        seen.add(nxt.id)
        current = nxt
    return Cover(tuple(chain), current)
