"""Changing one's own password: the current one is required, other sessions end, audited."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from assistant.audit import events_for
from assistant.people import accounts
from assistant.people.models import Role, User
from assistant.security.throttle import LoginFailure
from assistant.settings import Settings
from tests import factories
from tests.conftest import Client
from tests.html import parse

NEW = "a brand new passphrase"


def change(client: Client, current: str, password: str = NEW, confirm: str = NEW) -> Any:
    return client.post(
        "/account/password",
        data={"current": current, "password": password, "confirm": confirm},
    )


def errors(html: str) -> dict[str, str]:
    page = parse(html)
    return {
        p.attrs["id"].removeprefix("f-").removesuffix("-error"): p.text()
        for p in page.find_all("p.field-error")
    }


def test_changing_the_password_needs_the_current_one(
    client: Client, login: Any, session: Session
) -> None:
    user = factories.user(session, Role.liaison)
    login(user)
    response = change(client, "not my password")
    assert response.status_code == 422
    assert errors(response.text) == {"current": "Your current password is not right."}
    # Counted like a failed sign-in for the account.
    assert (
        len(session.exec(select(LoginFailure).where(LoginFailure.account == user.email)).all()) == 1
    )
    assert accounts.authenticate(session, email=user.email, password=factories.PASSWORD)


def test_the_new_password_is_checked(client: Client, login: Any, session: Session) -> None:
    login(factories.user(session))
    cases = [
        (("short", "short"), {"password": "Use a password of at least 10 characters."}),
        ((NEW, NEW + "!"), {"confirm": "The two new passwords are not the same."}),
        (
            (factories.PASSWORD, factories.PASSWORD),
            {"password": "Choose a new password, not the one you have now."},
        ),
    ]
    for (password, confirm), expected in cases:
        response = change(client, factories.PASSWORD, password, confirm)
        assert response.status_code == 422
        assert errors(response.text) == expected


def test_a_changed_password_signs_in_and_ends_other_sessions(
    app: Any, client: Client, login: Any, session: Session
) -> None:
    user = factories.user(session, Role.coordinator)
    elsewhere = login(user, Client(app, follow_redirects=False))
    login(user)
    response = change(client, factories.PASSWORD)
    assert (response.status_code, response.headers["location"]) == (
        303,
        "/account/password?changed=1",
    )
    # This browser stays signed in; the other one is signed out.
    page = client.get(response.headers["location"])
    assert page.status_code == 200 and parse(page.text).find("#password-changed")
    assert elsewhere.get("/").status_code == 302
    session.expire_all()
    assert accounts.authenticate(session, email=user.email, password=NEW)
    assert accounts.authenticate(session, email=user.email, password=factories.PASSWORD) is None
    assert [e.action for e in events_for(session, "user", user.id)] == ["password_changed"]


def test_guessing_the_current_password_is_throttled(
    client: Client, login: Any, session: Session, settings: Settings
) -> None:
    user: User = factories.user(session)
    login(user)
    for _ in range(settings.login_block_after):
        assert change(client, "guess").status_code == 422
    response = change(client, factories.PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.text
    session.expire_all()
    assert accounts.authenticate(session, email=user.email, password=NEW) is None
