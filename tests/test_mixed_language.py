"""Text in another language than the page's is marked up with its own language and direction."""

from __future__ import annotations

from sqlmodel import Session

from assistant.people.models import Role
from tests import factories
from tests.conftest import Client
from tests.html import parse


def test_english_only_entry_titles_on_an_arabic_page_read_left_to_right(
    session: Session, client: Client, login: object
) -> None:
    login(factories.user(session, Role.coordinator, locale="ar"))  # type: ignore[operator]
    page = parse(client.get("/knowledge").text)
    row = page.find('tr[data-entry="claims-submission"]')  # a practice entry, English only
    link = row.find("a")
    assert (link.attrs["lang"], link.attrs["dir"]) == ("en", "ltr")
    emergency = page.find('tr[data-entry="emergency"]').find("a")  # has an Arabic variant
    assert (emergency.attrs["lang"], emergency.attrs["dir"]) == ("ar", "rtl")
