"""The Notifications page: each person turns each kind of email on or off, without JavaScript."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session

from assistant.audit import events_for
from assistant.notify.models import EmailKind
from assistant.notify.preferences import preferences_for, wants
from assistant.people.models import Role
from assistant.settings import Settings
from tests import factories
from tests.conftest import Client
from tests.html import parse


def checkboxes(html: str) -> dict[str, bool]:
    form = parse(html).find("main").find('form[action="/account/notifications"]')
    return {
        box.attrs["name"]: "checked" in box.attrs for box in form.find_all('input[type="checkbox"]')
    }


@pytest.mark.parametrize(
    ("role", "kinds"),
    [
        (Role.practice_staff, ["ticket_reply", "enrolment_new"]),
        (Role.liaison, ["ticket_new", "ticket_overdue"]),
        (Role.coordinator, ["ticket_new", "ticket_overdue"]),
        (Role.mso, ["ticket_new", "ticket_overdue"]),
    ],
)
def test_each_role_sees_the_emails_it_can_get_all_on_at_first(
    client: Client, login: Any, session: Session, role: Role, kinds: list[str]
) -> None:
    login(factories.user(session, role))
    page = client.get("/account/notifications")
    assert page.status_code == 200
    assert checkboxes(page.text) == dict.fromkeys(kinds, True)


def test_turning_one_off_keeps_the_other_and_is_audited(
    client: Client, login: Any, session: Session
) -> None:
    liaison = factories.user(session, Role.liaison)
    assert liaison.id is not None
    login(liaison)
    # A plain form post: only the ticked box is sent.
    response = client.post("/account/notifications", data={"ticket_overdue": "on"})
    assert (response.status_code, response.headers["location"]) == (
        303,
        "/account/notifications?saved=1",
    )
    page = client.get(response.headers["location"])
    assert checkboxes(page.text) == {"ticket_new": False, "ticket_overdue": True}
    assert parse(page.text).find("#notifications-saved")
    assert not wants(session, user_id=liaison.id, kind=EmailKind.ticket_new)
    assert wants(session, user_id=liaison.id, kind=EmailKind.ticket_overdue)
    [event] = events_for(session, "notify_preference", liaison.id)
    assert (event.actor_id, event.action) == (liaison.id, "changed")
    # Back on again.
    client.post("/account/notifications", data={"ticket_new": "on", "ticket_overdue": "on"})
    session.expire_all()
    assert preferences_for(session, user_id=liaison.id, role=liaison.role) == {
        EmailKind.ticket_new: True,
        EmailKind.ticket_overdue: True,
    }


def test_a_role_without_emails_is_told_so(client: Client, login: Any, session: Session) -> None:
    login(factories.user(session, Role.admin))
    page = parse(client.get("/account/notifications").text)
    assert page.find("#no-choices")
    assert page.find("main").find_all('input[type="checkbox"]') == []


def test_the_page_says_when_email_is_off(
    app: Any, client: Client, login: Any, session: Session, settings: Settings
) -> None:
    login(factories.user(session, Role.liaison))
    assert parse(client.get("/account/notifications").text).find("#email-off")
    on = settings.model_copy(update={"smtp_host": "127.0.0.1"})
    app.state.settings = on
    assert not parse(client.get("/account/notifications").text).find_all("#email-off")


def test_the_account_page_links_to_password_and_notifications(
    client: Client, login: Any, session: Session
) -> None:
    login(factories.user(session, Role.pcw))
    hrefs = [a.attrs["href"] for a in parse(client.get("/account").text).find("main").find_all("a")]
    assert {"/account/password", "/account/notifications"} <= set(hrefs)
