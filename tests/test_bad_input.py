"""Bad input gets a clear 4xx, never a 5xx, and loses nothing already stored.

On PostgreSQL (the second pass of the suite) these are the inputs it cannot store: ids beyond
its integer range and NUL characters; on SQLite, ids beyond 64 bits.
"""

from __future__ import annotations

import html
import json
from typing import Any

import pytest
from sqlmodel import Session, select

from assistant import i18n
from assistant.people.models import Agency, PortfolioAssignment, Role, Team, User
from assistant.support import tickets
from assistant.support.models import TicketEvent
from tests import factories
from tests.conftest import Client

HUGE = "99999999999999999999"  # beyond 64 bits
BIG = "3000000000"  # beyond PostgreSQL's integer


@pytest.mark.parametrize("number", [HUGE, BIG])
@pytest.mark.parametrize(
    ("role", "path"),
    [
        (Role.admin, "/inbox/tickets/{}"),
        (Role.admin, "/admin/users/{}"),
        (Role.admin, "/admin/practices/{}"),
        (Role.coordinator, "/pcw/referrals/{}"),
        (Role.coordinator, "/forms/submissions/{}"),
        (Role.practice_staff, "/chat/questions/{}"),
        (Role.admin, "/pcw/tasks?page={}"),
        (Role.admin, "/inbox?page={}"),
    ],
)
def test_ids_beyond_the_databases_range_are_not_found(
    client: Client, login: Any, session: Session, role: Role, path: str, number: str
) -> None:
    login(factories.user(session, role))
    response = client.get(path.format(number))
    assert response.status_code in (200, 400, 404), response.text[:300]


def test_a_huge_id_in_a_form_field_is_refused_with_a_message(
    client: Client, login: Any, session: Session
) -> None:
    asker = factories.user(session, Role.practice_staff)
    login(asker)
    response = client.post("/chat/handoff", data={"question": "Help", "message_id": HUGE})
    assert 400 <= response.status_code < 500
    assert "cannot be stored" in response.text or "could not find" in response.text.lower()


def test_a_nul_character_when_signing_in_is_refused_not_a_crash(client: Client) -> None:
    response = client.post("/login", data={"email": "a\x00b@example.nz", "password": "x\x00y"})
    assert 400 <= response.status_code < 500


def test_a_nul_character_in_a_question_is_refused_and_the_chat_still_works(
    client: Client, login: Any, session: Session
) -> None:
    login(factories.user(session, Role.practice_staff))
    response = client.post("/chat/ask", data={"q": "claims\x00 form"})
    assert 400 <= response.status_code < 500 or response.status_code == 303
    assert client.post("/chat/ask", data={"q": "How do I submit a claim?"}).status_code == 303


def test_json_nested_thousands_deep_is_refused(
    client: Client, login: Any, session: Session
) -> None:
    login(factories.user(session, Role.practice_staff))
    body = '{"instance_id": "x", "answers": {"a": ' + "[" * 50_000 + "]" * 50_000 + "}}"
    response = client.post(
        "/api/forms/flag_problem/submissions",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert 400 <= response.status_code < 500
    assert isinstance(json.loads(response.text), dict)


@pytest.mark.parametrize(
    ("path", "form", "model"),
    [
        ("/admin/agencies", {"name": "Ōtautahi Whānau Trust"}, Agency),
        ("/admin/teams", {"name": "ŌTAUTAHI LIAISON", "kind": "liaison"}, Team),
    ],
)
def test_a_name_taken_with_a_capital_macron_is_refused_not_a_crash(
    client: Client, login: Any, session: Session, path: str, form: dict[str, str], model: Any
) -> None:
    login(factories.user(session, Role.admin))
    assert client.post(path, data=form).status_code == 303
    again = client.post(path, data=form)
    assert again.status_code == 422
    assert "already has this name" in again.text
    lower = client.post(path, data=form | {"name": form["name"].lower()})
    assert lower.status_code == 422
    session.expire_all()
    assert [row.name for row in session.exec(select(model))] == [form["name"]]


def test_an_email_address_taken_with_a_capital_umlaut_is_refused_not_a_crash(
    client: Client, login: Any, session: Session
) -> None:
    login(factories.user(session, Role.admin))
    form = {
        "name": "Ülla Öberg",
        "email": "Ülla.Öberg@example.nz",
        "role": "coordinator",
        "password": "long enough pw",
    }
    assert client.post("/admin/users", data=form).status_code == 303
    again = client.post("/admin/users", data=form | {"name": "Someone else"})
    assert again.status_code == 422
    assert "Another user already has this email address." in again.text
    session.expire_all()
    assert len(session.exec(select(User).where(User.email == form["email"])).all()) == 1


SUPERSCRIPT_ONE = "\u00b9"  # "¹": str.isdigit() says yes, int() refuses it


def test_a_superscript_digit_as_a_users_practice_is_refused_not_a_crash(
    client: Client, login: Any, session: Session
) -> None:
    login(factories.user(session, Role.admin))
    person = factories.user(session, Role.practice_staff)
    form = {"name": "Changed Name", "email": person.email, "role": "practice_staff"}
    response = client.post(
        f"/admin/users/{person.id}", data=form | {"practice_id": SUPERSCRIPT_ONE}
    )
    assert response.status_code == 422
    assert "Choose the practice this person works at." in response.text
    session.refresh(person)
    assert person.name != "Changed Name" and person.practice_id is not None


def test_superscript_digits_in_portfolios_and_cover_keep_what_was_there(
    client: Client, login: Any, session: Session
) -> None:
    login(factories.user(session, Role.admin))
    practice = factories.practice(session)
    holder = factories.user(session, Role.liaison)
    cover = factories.user(session, Role.liaison)
    factories.portfolio(session, practice, holder)
    holder.cover_id = cover.id
    session.add(holder)
    session.commit()
    portfolio = client.post(
        "/admin/portfolios",
        data={f"liaison_{practice.id}": SUPERSCRIPT_ONE, f"liaison_{SUPERSCRIPT_ONE}": "1"},
    )
    assert portfolio.status_code == 422
    assert "Choose an active liaison." in portfolio.text
    away = client.post(
        f"/admin/liaisons/{holder.id}/away", data={"away": "1", "cover_id": SUPERSCRIPT_ONE}
    )
    assert away.status_code == 422
    assert "Choose an active liaison." in away.text
    session.expire_all()
    assert session.get(PortfolioAssignment, practice.id).liaison_id == holder.id  # type: ignore[union-attr]
    assert session.get(User, holder.id).cover_id == cover.id  # type: ignore[union-attr]


def test_a_superscript_digit_as_a_tickets_new_assignee_is_refused_not_a_crash(
    client: Client, login: Any, session: Session
) -> None:
    practice = factories.practice(session)
    liaison = factories.user(session, Role.liaison)
    factories.portfolio(session, practice, liaison)
    asker = factories.user(session, practice_id=practice.id)
    assert practice.id is not None and asker.id is not None
    ticket = tickets.create_ticket(
        session, practice_id=practice.id, asker_id=asker.id, question="Help", transcript="Help"
    )
    session.commit()
    before = (ticket.team, ticket.assignee_id)
    login(liaison)
    response = client.post(
        f"/inbox/tickets/{ticket.id}/assign", data={"to": f"user:{SUPERSCRIPT_ONE}"}
    )
    assert response.status_code == 422
    assert "Choose a person or a team." in response.text
    session.refresh(ticket)
    assert (ticket.team, ticket.assignee_id) == before


# --- requests that do not fit a route: a page in the person's language, never the raw error ---


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (Role.liaison, "/inbox/tickets/abc"),
        (Role.coordinator, "/pcw/referrals/abc"),
        (Role.practice_staff, "/chat/questions/1.5"),
    ],
)
def test_an_address_naming_no_record_is_a_page_not_found_in_the_persons_language(
    client: Client, login: Any, session: Session, role: Role, path: str
) -> None:
    login(factories.user(session, role))
    client.cookies.set(i18n.LOCALE_COOKIE, "mi")
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert 'lang="mi"' in response.text
    with i18n.use_locale("mi"):
        assert html.escape(i18n._("We could not find that page.")) in response.text
    assert "int_parsing" not in response.text


def test_a_password_too_long_is_refused_in_the_persons_language_and_never_shown(
    client: Client,
) -> None:
    client.cookies.set(i18n.LOCALE_COOKIE, "sm")
    password = "secret-" + "x" * 1100
    response = client.post("/login", data={"email": "someone@example.nz", "password": password})
    assert response.status_code == 422
    assert "secret-" not in response.text
    assert 'lang="sm"' in response.text
    with i18n.use_locale("sm"):
        too_long = i18n._("That is too long: please keep it under %(n)s characters.", n=1024)
    assert html.escape(too_long) in response.text


def test_a_reply_too_long_is_refused_with_the_limit_and_nothing_is_stored(
    client: Client, login: Any, session: Session
) -> None:
    practice = factories.practice(session)
    asker = factories.user(session, Role.practice_staff, practice_id=practice.id)
    liaison = factories.user(session, Role.liaison)
    factories.portfolio(session, practice, liaison)
    ticket = tickets.create_ticket(
        session, practice_id=practice.id, asker_id=asker.id, question="Where is the form?"
    )
    session.commit()
    login(liaison)
    response = client.post(f"/inbox/tickets/{ticket.id}/reply", data={"body": "y" * 8001})
    assert response.status_code == 422
    assert "under 8000 characters" in response.text
    assert "y" * 100 not in response.text
    session.expire_all()
    stored = session.exec(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)).all()
    assert [event.kind for event in stored] == ["created"]
