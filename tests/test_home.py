"""The home page: each role starts from links to its own areas, each saying what it is."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session

from assistant.people.models import Role
from tests import factories
from tests.conftest import Client
from tests.html import parse

EXPECTED = {
    Role.practice_staff: ["/chat", "/forms"],
    Role.liaison: ["/inbox", "/sms/simulator"],
    Role.mso: ["/inbox", "/sms/simulator"],
    Role.pcw: ["/sms/simulator", "/forms", "/pcw/referrals", "/pcw/tasks"],
    Role.coordinator: ["/inbox", "/dashboard", "/knowledge", "/pcw/referrals"],
    Role.admin: ["/admin", "/inbox", "/dashboard", "/knowledge", "/pcw/outbox"],
}


@pytest.mark.parametrize("role", list(EXPECTED), ids=lambda r: r.value)
def test_home_links_to_the_roles_areas_and_each_opens(
    client: Client, login: Any, session: Session, role: Role
) -> None:
    login(factories.user(session, role))
    page = parse(client.get("/").text)
    tiles = page.find("main").find_all("li.tile")
    hrefs = [tile.find("a").attrs["href"] for tile in tiles]
    assert set(EXPECTED[role]) <= set(hrefs)
    for tile in tiles:
        # A short line under each link says what the area is for.
        assert len(tile.find("p").text()) > 20
    for href in hrefs:
        assert client.get(href).status_code == 200, href


def test_home_speaks_the_users_language(client: Client, login: Any, session: Session) -> None:
    login(factories.user(session, Role.pcw, locale="sm"))
    page = client.get("/").text
    assert "People who asked for help" not in page
    assert "Tagata na talosaga mo se fesoasoani" in page
