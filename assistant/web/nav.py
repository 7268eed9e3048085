"""The navigation: each area registers its links and the roles that see them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assistant.people.models import Role


@dataclass(frozen=True)
class NavLink:
    href: str
    label: Any  # a lazy_gettext proxy
    roles: frozenset[Role]


LINKS: list[NavLink] = []


def register(href: str, label: Any, *roles: Role) -> None:
    LINKS.append(NavLink(href, label, frozenset(roles)))


def links_for(role: Role | None) -> list[NavLink]:
    if role is None:
        return []
    return [link for link in LINKS if role in link.roles]
