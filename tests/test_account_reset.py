"""Forgotten passwords (a single-use, short-lived link by email) and resets an admin asks for."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlmodel import Session, col, select

from assistant.audit import AuditEvent, events_for
from assistant.clock import utcnow
from assistant.credentials.models import PasswordResetToken
from assistant.notify.models import EmailKind, EmailStatus, QueuedEmail
from assistant.notify.preferences import KINDS_FOR_ROLE
from assistant.notify.worker import email_worker_for
from assistant.people import accounts
from assistant.people.models import Role, User
from assistant.schedule import reset_links_step
from assistant.settings import Settings
from tests import factories
from tests.conftest import Client
from tests.fake_smtp import FakeSmtp, running
from tests.html import parse
from tests.mail import smtp_settings

NEW = "a fresh start for 2027"


@pytest.fixture
def smtp() -> Any:
    with running() as server:
        yield server


def ask_for_link(client: Client, email: str) -> Any:
    return client.post("/password/forgot", data={"email": email})


def mailed_link(session: Session, settings: Settings, smtp: FakeSmtp) -> str:
    """Send what is queued; the path of the reset link in the last email received."""
    email_worker_for(smtp_settings(settings, smtp.port)).drain(utcnow())
    [url] = re.findall(r"http://testserver(/password/reset/\S+)", smtp.received[-1].body)
    return str(url)


def choose(client: Client, token: str, password: str = NEW, **extra: str) -> Any:
    data = {"token": token, "password": password, "confirm": password} | extra
    return client.post("/password/reset", data=data)


def can_sign_in(session: Session, user: User, password: str) -> bool:
    session.expire_all()
    return accounts.authenticate(session, email=user.email, password=password) is not None


def main_text(html: str) -> str:
    return parse(html).find("main").text()


def test_the_answer_is_the_same_whether_or_not_the_address_exists(
    client: Client, session: Session
) -> None:
    user = factories.user(session)
    known = ask_for_link(client, user.email)
    unknown = ask_for_link(client, "nobody@example.nz")
    assert known.status_code == unknown.status_code == 200
    assert main_text(known.text) == main_text(unknown.text)
    assert parse(known.text).find("#reset-sent")
    [email] = session.exec(select(QueuedEmail)).all()
    assert (email.to, email.kind, email.sensitive) == (user.email, "password_reset", True)
    assert email.expires_at is not None


def test_only_a_hash_of_the_token_is_stored(
    client: Client, session: Session, settings: Settings, smtp: FakeSmtp
) -> None:
    user = factories.user(session)
    ask_for_link(client, user.email)
    token = mailed_link(session, settings, smtp).rsplit("/", 1)[1]
    [row] = session.exec(select(PasswordResetToken)).all()
    assert row.id == hashlib.sha256(token.encode()).hexdigest()
    assert row.expires_at - row.created_at == timedelta(minutes=30)
    # Once sent, the email row no longer holds the link either.
    [email] = session.exec(select(QueuedEmail)).all()
    assert email.status == EmailStatus.sent and token not in email.params
    assert json.loads(email.params) == {}


def test_a_reset_link_works_once_and_signs_everything_out(
    app: Any, client: Client, login: Any, session: Session, settings: Settings, smtp: FakeSmtp
) -> None:
    user = factories.user(session, Role.liaison)
    elsewhere = login(user, Client(app, follow_redirects=False))
    ask_for_link(client, user.email)
    link = mailed_link(session, settings, smtp)
    assert smtp.received[0].message["Subject"] == "Choose a new password"
    assert "30 minutes" in smtp.received[0].body
    form = parse(client.get(link).text).find('form[action="/password/reset"]')
    token = form.find('input[name="token"]').attrs["value"]
    response = choose(client, token)
    assert (response.status_code, response.headers["location"]) == (303, "/login?changed=1")
    assert parse(client.get("/login?changed=1").text).find("p.ok-notice")
    assert can_sign_in(session, user, NEW)
    assert not can_sign_in(session, user, factories.PASSWORD)
    assert elsewhere.get("/").status_code == 302
    # The link is used up.
    assert client.get(link).status_code == 410
    again = choose(client, token, "yet another passphrase")
    assert again.status_code == 410
    assert "expired or has already been used" in again.text
    assert can_sign_in(session, user, NEW)
    actions = [e.action for e in events_for(session, "user", user.id)]
    assert actions == ["password_reset_requested", "password_reset"]


def test_a_link_expires_after_thirty_minutes(
    client: Client, session: Session, settings: Settings, smtp: FakeSmtp, time_machine: Any
) -> None:
    user = factories.user(session)
    ask_for_link(client, user.email)
    link = mailed_link(session, settings, smtp)
    time_machine.move_to(utcnow() + timedelta(minutes=31))
    assert client.get(link).status_code == 410
    assert choose(client, link.rsplit("/", 1)[1]).status_code == 410
    assert can_sign_in(session, user, factories.PASSWORD)


def test_the_worker_deletes_links_that_ran_out(
    client: Client, session: Session, settings: Settings, smtp: FakeSmtp
) -> None:
    """Used or not, a link that ran out opens nothing: the worker's schedule deletes its row,
    and keeps a link that is still good."""
    user = factories.user(session)
    ask_for_link(client, user.email)
    link = mailed_link(session, settings, smtp)
    asked = session.exec(select(PasswordResetToken)).one().created_at

    def rows() -> int:
        session.expire_all()
        return len(session.exec(select(PasswordResetToken)).all())

    reset_links_step(settings)(asked + timedelta(minutes=29))
    assert rows() == 1
    assert client.get(link).status_code == 200
    reset_links_step(settings)(asked + timedelta(minutes=31))
    assert rows() == 0
    assert client.get(link).status_code == 410


def test_a_new_link_and_a_used_one_end_the_others(
    client: Client, session: Session, settings: Settings, smtp: FakeSmtp
) -> None:
    user = factories.user(session)
    ask_for_link(client, user.email)
    first = mailed_link(session, settings, smtp)
    ask_for_link(client, user.email)
    second = mailed_link(session, settings, smtp)
    assert first != second
    assert choose(client, second.rsplit("/", 1)[1]).status_code == 303
    assert client.get(first).status_code == 410


def test_the_new_password_is_checked(
    client: Client, session: Session, settings: Settings, smtp: FakeSmtp
) -> None:
    user = factories.user(session)
    ask_for_link(client, user.email)
    token = mailed_link(session, settings, smtp).rsplit("/", 1)[1]
    response = choose(client, token, "short")
    assert response.status_code == 422
    assert "at least 10 characters" in response.text
    mismatch = client.post(
        "/password/reset", data={"token": token, "password": NEW, "confirm": NEW + "x"}
    )
    assert mismatch.status_code == 422
    # The link still works after a mistake.
    assert choose(client, token).status_code == 303


def test_requests_are_throttled_by_account_silently_and_by_address_openly(
    client: Client, session: Session, settings: Settings
) -> None:
    user = factories.user(session)
    for _ in range(settings.password_reset_per_account + 2):
        response = ask_for_link(client, user.email)
        assert response.status_code == 200 and parse(response.text).find("#reset-sent")
    queued = session.exec(select(QueuedEmail)).all()
    assert len(queued) == settings.password_reset_per_account
    for n in range(settings.password_reset_per_ip - settings.password_reset_per_account - 2):
        assert ask_for_link(client, f"other{n}@example.nz").status_code == 200
    refused = ask_for_link(client, "one-more@example.nz")
    assert refused.status_code == 429
    assert "Too many requests" in refused.text


def test_an_inactive_account_gets_no_link(client: Client, session: Session) -> None:
    user = factories.user(session, active=False)
    assert ask_for_link(client, user.email).status_code == 200
    assert session.exec(select(QueuedEmail)).all() == []


# An admin asks for a new password


def test_an_admin_asks_for_a_new_password_at_next_sign_in(
    app: Any, client: Client, login: Any, session: Session
) -> None:
    admin = factories.user(session, Role.admin)
    user = factories.user(session, Role.coordinator)
    signed_in = login(user, Client(app, follow_redirects=False))
    login(admin)
    response = client.post(f"/admin/users/{user.id}/password-change")
    assert response.status_code == 303
    assert parse(client.get(f"/admin/users/{user.id}").text).find("#change-required")
    assert signed_in.get("/").status_code == 302  # signed out everywhere
    events = session.exec(
        select(AuditEvent).where(AuditEvent.action == "password_change_required")
    ).all()
    assert [(e.actor_id, e.entity_id) for e in events] == [(admin.id, str(user.id))]

    person = Client(app, follow_redirects=False)
    form = person.post(
        "/login", data={"email": user.email, "password": factories.PASSWORD, "next": "/inbox"}
    )
    # The right password leads to the new-password form, not into the app.
    assert form.status_code == 200
    assert parse(form.text).find("#reset-forced")
    assert "session" not in person.cookies
    assert person.get("/").status_code == 302
    token = parse(form.text).find('input[name="token"]').attrs["value"]
    same = choose(person, token, factories.PASSWORD, forced="1", next="/inbox")
    assert same.status_code == 422
    assert "not the one you have now" in same.text
    done = choose(person, token, forced="1", next="/inbox")
    assert done.status_code == 303
    location = urlsplit(done.headers["location"])
    assert (location.path, location.query) == ("/login", "changed=1&next=%2Finbox")
    signed = person.post("/login", data={"email": user.email, "password": NEW, "next": "/inbox"})
    assert (signed.status_code, signed.headers["location"]) == (303, "/inbox")
    reset = session.exec(
        select(AuditEvent).where(
            AuditEvent.action == "password_reset", col(AuditEvent.entity_id) == str(user.id)
        )
    ).one()
    assert json.loads(reset.detail) == {"via": "forced"}


def test_an_admin_cannot_force_their_own_reset(
    client: Client, login: Any, session: Session
) -> None:
    admin = factories.user(session, Role.admin)
    login(admin)
    response = client.post(f"/admin/users/{admin.id}/password-change")
    assert response.status_code == 422
    assert "use your account page" in response.text
    assert client.get("/").status_code == 200


def test_a_reset_email_cannot_be_turned_off() -> None:
    offered = {kind for kinds in KINDS_FOR_ROLE.values() for kind in kinds}
    assert EmailKind.password_reset not in offered
