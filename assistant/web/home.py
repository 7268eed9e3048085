"""The signed-in home page: where each role starts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from assistant.deps import CurrentUser
from assistant.i18n import lazy_gettext
from assistant.people.models import Role
from assistant.templating import render
from assistant.web.nav import links_for

router = APIRouter()

# One line under each area's link on the home page, so a new user knows where to start.
DESCRIPTIONS: dict[str, Any] = {
    "/chat": lazy_gettext(
        "Get an answer straight away, or send your question to the PHO and see the reply here."
    ),
    "/inbox": lazy_gettext("Questions from practices: yours, your team's and the overdue ones."),
    "/practice/new-patients": lazy_gettext(
        "People asking to enrol with your practice: book them in, ask for more or decline."
    ),
    "/pcw/referrals": lazy_gettext(
        "People who asked for help by SMS or were referred to a community worker."
    ),
    "/pcw/enrolments": lazy_gettext(
        "Requests to practices to take people on: where each one is, and the ones not answered."
    ),
    "/pcw/tasks": lazy_gettext("Follow-ups due from referrals and barrier assessments."),
    "/forms": lazy_gettext("Fill in a form, carry on with a draft, or see the forms you sent."),
    "/dashboard": lazy_gettext(
        "Barrier assessments over time, the barriers found, open follow-ups and exports."
    ),
    "/knowledge": lazy_gettext("Every entry, when it was last reviewed and how often it helped."),
    "/pcw/outbox": lazy_gettext("SMS messages we send: waiting, sent, or not sent."),
    "/sms/simulator": lazy_gettext("Text the patient service as any number and see its replies."),
    "/admin": lazy_gettext("Practices, teams, agencies, users and liaison portfolios."),
}


# Where each role lands after signing in: its own work (the home page lists the rest).
LANDING: dict[Role, str] = {
    Role.practice_staff: "/chat",
    Role.liaison: "/inbox",
    Role.mso: "/inbox",
    Role.coordinator: "/inbox",
    Role.admin: "/inbox",
    Role.pcw: "/pcw/referrals",
}


def landing_for(role: Role) -> str:
    return LANDING.get(role, "/")


@router.get("/")
def home(request: Request, user: CurrentUser) -> Response:
    return render(
        request, "home.html", {"links": links_for(user.role), "descriptions": DESCRIPTIONS}
    )
