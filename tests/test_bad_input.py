"""Bad input gets a clear 4xx, never a 5xx, and loses nothing already stored.

On PostgreSQL (the second pass of the suite) these are the inputs it cannot store: ids beyond
its integer range and NUL characters; on SQLite, ids beyond 64 bits.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlmodel import Session

from assistant.people.models import Role
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
