"""HEAD is answered wherever GET is: the same status and headers, no body (RFC 9110, 9.3.2).

Uptime monitors, link checkers and browsers checking a download ask with HEAD.
"""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest
from sqlmodel import Session

from assistant.people.models import Role
from assistant.settings import Settings
from tests import factories
from tests.conftest import Client
from tests.serving import serving

# Headers that differ between any two answers (a new CSRF token, the time).
CHANGING = {"set-cookie", "date"}


def _same_answer_without_body(client: Client, path: str, **headers: str) -> int:
    got = client.get(path, headers=headers)
    head = client.head(path, headers=headers)
    assert head.status_code == got.status_code, path
    assert head.content == b"", path
    for name in {*got.headers.keys(), *head.headers.keys()} - CHANGING:
        assert head.headers.get(name) == got.headers.get(name), (path, name)
    return head.status_code


@pytest.mark.parametrize(
    "path, status",
    [
        ("/login", 200),
        ("/healthz", 200),
        ("/favicon.ico", 200),
        ("/", 302),  # signing in first, as with GET
        ("/no-such-page", 404),
        ("/inbox/tickets/99999999999999999999", 302),
    ],
)
def test_a_page_answers_head_as_it_answers_get(client: Client, path: str, status: int) -> None:
    assert _same_answer_without_body(client, path) == status


def test_head_tells_a_signed_in_page_s_length_and_compression(
    client: Client, login: object, session: Session
) -> None:
    liaison = factories.user(session, Role.liaison)
    login(liaison)  # type: ignore[operator]
    assert _same_answer_without_body(client, "/inbox", **{"Accept-Encoding": "gzip"}) == 200
    head = client.head("/inbox", headers={"Accept-Encoding": "gzip"})
    assert head.headers["content-encoding"] == "gzip"
    assert int(head.headers["content-length"]) > 0
    assert head.headers["content-type"].startswith("text/html")


def test_a_route_that_takes_only_post_refuses_head_and_says_what_it_allows(
    client: Client,
) -> None:
    head = client.head("/sms/twilio")
    assert head.status_code == 405
    assert head.headers["allow"] == "POST"
    assert head.content == b""


def test_a_kept_alive_connection_serves_get_after_head(settings: Settings) -> None:
    """On a real server: no body follows a HEAD answer, so the next answer on the same
    connection is read whole."""
    with serving(settings) as base:
        address = urlsplit(base)
        connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=30)
        try:
            connection.request("HEAD", "/login")
            head = connection.getresponse()
            assert head.status == 200
            assert head.read() == b""
            length = int(head.headers["content-length"])
            assert length > 0
            connection.request("GET", "/login")
            got = connection.getresponse()
            assert got.status == 200
            body = got.read()
            assert len(body) == length
            assert b"<form" in body
        finally:
            connection.close()
