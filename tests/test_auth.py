"""Signing in and out, CSRF, and the language switch."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from assistant.people.models import Role, User
from tests import factories


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
