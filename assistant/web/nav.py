"""The navigation: every area's link, the roles that see it, and what its badge counts.

One list, in menu order, read as it is written: adding an area means adding its line here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from assistant.enrolment.requests import waiting_count
from assistant.i18n import lazy_gettext, ngettext
from assistant.people.models import Role, User
from assistant.support.inbox import unread_reply_count

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


def waiting_words(count: int) -> str:
    # Translators: the badge beside "New patients": requests the practice has not answered.
    return ngettext("%(num)d waiting", "%(num)d waiting", count)


def _link(
    href: str,
    label: Any,
    *roles: Role,
    badge: BadgeCount | None = None,
    badge_label: BadgeLabel | None = None,
) -> NavLink:
    return NavLink(href, label, frozenset(roles), badge, badge_label)


PCW_WORK = (Role.pcw, Role.coordinator, Role.admin)
OVERSIGHT = (Role.coordinator, Role.admin)

LINKS: tuple[NavLink, ...] = (
    _link("/admin", lazy_gettext("Administration"), Role.admin),
    _link("/chat", lazy_gettext("Ask a question"), Role.practice_staff, badge=unread_reply_count),
    _link(
        "/forms",
        lazy_gettext("Forms"),
        Role.pcw,
        Role.practice_staff,
        Role.coordinator,
        Role.admin,
    ),
    _link("/dashboard", lazy_gettext("Dashboard"), *OVERSIGHT),
    _link("/inbox", lazy_gettext("Inbox"), Role.liaison, Role.coordinator, Role.mso, Role.admin),
    _link("/knowledge", lazy_gettext("Knowledge base"), *OVERSIGHT),
    _link("/pcw/referrals", lazy_gettext("Referrals"), *PCW_WORK),
    _link("/pcw/enrolments", lazy_gettext("Enrolment requests"), *PCW_WORK),
    _link("/pcw/tasks", lazy_gettext("Follow-up tasks"), *PCW_WORK),
    _link("/pcw/outbox", lazy_gettext("Outgoing SMS"), *OVERSIGHT),
    _link(
        "/practice/new-patients",
        lazy_gettext("New patients"),
        Role.practice_staff,
        badge=waiting_count,
        badge_label=waiting_words,
    ),
    _link(
        "/sms/simulator",
        lazy_gettext("SMS simulator"),
        Role.liaison,
        Role.coordinator,
        Role.mso,
        Role.pcw,
        Role.admin,
    ),
)


def links_for(role: Role | None) -> list[NavLink]:
    if role is None:
        return []
    return [link for link in LINKS if role in link.roles]
