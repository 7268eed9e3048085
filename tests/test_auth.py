"""Signing in and out, CSRF, and the language switch."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from assistant.app import create_app
from assistant.clock import utcnow
from assistant.people.accounts import user_for_token
from assistant.people.models import Role, User
from assistant.schedule import sessions_step
from assistant.security.sessions import UserSession, start_session
from assistant.settings import Settings
from tests import factories
from tests.conftest import Client


def test_login_then_logout(client: TestClient, session: Session) -> None:
    user = factories.user(session, Role.liaison, name="Mere")
    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    assert response.status_code == 303
    home = client.get("/")
    assert home.status_code == 200
    assert "Mere" in home.text
    client.post("/logout")
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused_with_a_clear_message(
    client: TestClient, session: Session
) -> None:
    user = factories.user(session)
    response = client.post("/login", data={"email": user.email, "password": "nope"})
    assert response.status_code == 401
    assert "do not match" in response.text
    assert client.get("/").status_code == 302


def test_post_without_csrf_token_is_refused(app, session: Session) -> None:  # type: ignore[no-untyped-def]
    user = factories.user(session)
    with TestClient(app, follow_redirects=False) as raw:
        raw.get("/login")
        response = raw.post("/login", data={"email": user.email, "password": factories.PASSWORD})
        assert response.status_code == 403
        token = raw.cookies.get("csrftoken")
        response = raw.post(
            "/login",
            data={"email": user.email, "password": factories.PASSWORD, "csrf_token": token},
        )
        assert response.status_code == 303


def test_language_choice_sticks_for_the_user(client, session: Session, login) -> None:  # type: ignore[no-untyped-def]
    user = factories.user(session)
    login(user)
    client.post("/lang", data={"lang": "ar", "next": "/"})
    session.refresh(user)
    assert session.get(User, user.id).locale == "ar"  # type: ignore[union-attr]
    page = client.get("/")
    assert 'dir="rtl"' in page.text


def test_session_cookie_is_httponly_lax_and_secure_over_https(
    settings: Settings, session: Session
) -> None:
    user = factories.user(session)
    https = create_app(settings.model_copy(update={"public_base_url": "https://pho.example.nz"}))
    with Client(https, base_url="https://testserver", follow_redirects=False) as c:
        response = c.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    cookie = next(v for v in response.headers.get_list("set-cookie") if v.startswith("session="))
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "Secure" in cookie


def test_sessions_live_in_the_database_and_end_on_sign_out(
    client: TestClient, session: Session, login: Any
) -> None:
    user = factories.user(session)
    login(user)
    token = client.cookies.get("session")
    assert user_for_token(session, token) is not None
    client.post("/logout")
    assert user_for_token(session, token) is None


@pytest.mark.parametrize(
    ("next_url", "goes_to"),
    [
        ("/admin", "/admin"),
        # Anywhere else: the user's own work (practice staff: the chat).
        ("https://evil.example.com/", "/chat"),
        ("//evil.example.com/", "/chat"),
        ("/\\evil.example.com", "/chat"),
        ("", "/chat"),
    ],
)
def test_sign_in_only_redirects_within_the_site(
    client: TestClient, session: Session, next_url: str, goes_to: str
) -> None:
    user = factories.user(session)
    response = client.post(
        "/login", data={"email": user.email, "password": factories.PASSWORD, "next": next_url}
    )
    assert response.headers["location"] == goes_to


@pytest.mark.parametrize(
    ("role", "lands_on"),
    [
        (Role.practice_staff, "/chat"),
        (Role.liaison, "/inbox"),
        (Role.mso, "/inbox"),
        (Role.coordinator, "/inbox"),
        (Role.admin, "/inbox"),
        (Role.pcw, "/pcw/referrals"),
    ],
)
def test_each_role_lands_on_its_own_work_after_signing_in(
    client: TestClient, session: Session, role: Role, lands_on: str
) -> None:
    user = factories.user(session, role)
    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    assert response.headers["location"] == lands_on
    assert client.get(lands_on).status_code == 200


def test_anonymous_page_request_goes_to_login_and_comes_back(client: TestClient) -> None:
    response = client.get("/admin/practices?page=2")
    assert response.status_code == 302
    assert response.headers["location"] == "/login?next=/admin/practices?page=2"
    htmx = client.get("/admin/practices", headers={"HX-Request": "true"})
    assert htmx.status_code == 204 and htmx.headers["HX-Redirect"].startswith("/login")


def test_inactive_user_cannot_sign_in(client: TestClient, session: Session) -> None:
    user = factories.user(session, active=False)
    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    assert response.status_code == 401


def test_anonymous_language_choice_is_kept_in_a_cookie(client: TestClient) -> None:
    response = client.post("/lang", data={"lang": "to", "next": "/login"})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert 'lang="to"' in client.get("/login").text
    client.post("/lang", data={"lang": "klingon", "next": "/login"})
    assert 'lang="to"' in client.get("/login").text


def test_language_menu_with_javascript_reloads_the_page(client: TestClient) -> None:
    response = client.post(
        "/lang", data={"lang": "hi", "next": "/login"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 204 and response.headers["HX-Refresh"] == "true"
    assert 'lang="hi"' in client.get("/login").text


@pytest.mark.parametrize("change", ["password", "active"])
def test_an_admin_resetting_a_password_or_deactivating_signs_the_person_out_everywhere(
    app: Any, client: Client, session: Session, login: Any, change: str
) -> None:
    person = factories.user(session)
    admin = factories.user(session, Role.admin)
    with Client(app, follow_redirects=False) as their_browser:
        login(person, their_browser)
        assert their_browser.get("/").status_code == 200
        login(admin)
        data = {"password": "a brand new secret"} if change == "password" else {"active": "0"}
        assert client.post(f"/admin/users/{person.id}/{change}", data=data).status_code == 303
        assert their_browser.get("/").status_code == 302  # back to the sign-in page


@pytest.mark.parametrize("change", ["expired", "deactivated"])
def test_a_session_cookie_signs_in_only_while_it_lasts_and_the_person_is_active(
    client: TestClient, session: Session, change: str
) -> None:
    user = factories.user(session, Role.practice_staff, name="Ana")
    client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    assert client.get("/chat").status_code == 200
    if change == "expired":
        for row in session.exec(select(UserSession).where(UserSession.user_id == user.id)):
            row.expires_at = utcnow() - timedelta(seconds=1)
            session.add(row)
    else:
        user.active = False  # straight in the database: the session row is still there
        session.add(user)
    session.commit()
    response = client.get("/chat")
    assert response.status_code == 302
    assert response.headers["location"].startswith("/login")


def test_the_worker_deletes_sessions_that_ran_out(session: Session, settings: Settings) -> None:
    """A session that ran out signs no one in; the worker's scheduled step deletes its row and
    keeps the live ones."""
    user = factories.user(session, Role.practice_staff)
    assert user.id is not None
    gone = start_session(session, user_id=user.id, max_age_seconds=3600)
    for row in session.exec(select(UserSession).where(UserSession.user_id == user.id)):
        row.expires_at = utcnow() - timedelta(seconds=1)
        session.add(row)
    live = start_session(session, user_id=user.id, max_age_seconds=3600)
    session.commit()
    sessions_step(settings)(utcnow())
    session.expire_all()
    assert user_for_token(session, live) is not None
    assert user_for_token(session, gone) is None
    rows = session.exec(select(UserSession).where(UserSession.user_id == user.id)).all()
    assert len(rows) == 1
