"""The navigation: each area registers its links and the roles that see them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from assistant.people.models import Role, User

# How many new things wait behind a link (for example unread replies): one cheap query.
BadgeCount = Callable[[Session, User], int]
# What the count means, as the badge says it ("3 waiting"); unset: "N new replies".
BadgeLabel = Callable[[int], str]


@dataclass(frozen=True)
class NavLink:
    href: str
    label: Any  # a lazy_gettext proxy
    roles: frozenset[Role]
    badge: BadgeCount | None = None
    badge_label: BadgeLabel | None = None


LINKS: list[NavLink] = []


def register(
    href: str,
    label: Any,
    *roles: Role,
    badge: BadgeCount | None = None,
    badge_label: BadgeLabel | None = None,
) -> None:
    LINKS.append(NavLink(href, label, frozenset(roles), badge, badge_label))


def links_for(role: Role | None) -> list[NavLink]:
    if role is None:
        return []
    return [link for link in LINKS if role in link.roles]
