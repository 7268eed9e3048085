"""Who gets a ticket, and when it is due."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlmodel import Session

from assistant.audit import events_for
from assistant.clock import NZ
from assistant.knowledge import get_knowledge_base
from assistant.people.models import Practice, Role, TeamKind, User
from assistant.support.models import Ticket
from assistant.support.routing import RouteReason, route
from assistant.support.tickets import create_ticket
from tests import factories
from tests.conftest import Client

Liaisoned = tuple[Practice, User, User, User]


def _nz(*args: int) -> datetime:
    return datetime(*args, tzinfo=NZ).astimezone(UTC)


@pytest.fixture
def practice_with_liaison(session: Session) -> Liaisoned:
    practice = factories.practice(session)
    cover = factories.user(session, Role.liaison, name="Sione")
    liaison = factories.user(session, Role.liaison, name="Mere", cover_id=cover.id)
    factories.portfolio(session, practice, liaison)
    asker = factories.user(session, Role.practice_staff, practice_id=practice.id)
    return practice, liaison, cover, asker


def test_a_question_goes_to_the_practice_portfolio_liaison(
    session: Session, practice_with_liaison: Liaisoned
) -> None:
    practice, liaison, _cover, asker = practice_with_liaison
    ticket = create_ticket(
        session, practice_id=practice.id, asker_id=asker.id, question="Who do I call?"
    )
    session.commit()
    assert ticket.assignee_id == liaison.id
    assert ticket.team == TeamKind.liaison
    assert ticket.route_reason == RouteReason.portfolio
    assert [e.action for e in events_for(session, "ticket", ticket.id)] == ["created"]


@pytest.mark.parametrize(
    ("liaison_state", "cover_state", "expected"),
    [
        ({"away": True}, {}, "cover"),
        ({"active": False}, {}, "cover"),
        ({"away": True}, {"away": True}, "queue"),
        ({"away": True}, {"active": False}, "queue"),
        ({}, {"away": True}, "liaison"),
    ],
)
def test_away_liaison_hands_to_cover_else_the_liaison_queue(
    session: Session,
    practice_with_liaison: Liaisoned,
    liaison_state: dict[str, bool],
    cover_state: dict[str, bool],
    expected: str,
) -> None:
    practice, liaison, cover, _asker = practice_with_liaison
    for user, changes in ((liaison, liaison_state), (cover, cover_state)):
        for key, value in changes.items():
            setattr(user, key, value)
        session.add(user)
    session.commit()
    result = route(session, practice_id=practice.id, owning_team=None)
    assert result.team == TeamKind.liaison
    assert result.assignee_id == {"cover": cover.id, "queue": None, "liaison": liaison.id}[expected]


def test_liaison_away_without_a_named_cover_goes_to_the_queue(
    session: Session, practice_with_liaison: Liaisoned
) -> None:
    practice, liaison, _cover, _asker = practice_with_liaison
    liaison.away, liaison.cover_id = True, None
    session.add(liaison)
    session.commit()
    result = route(session, practice_id=practice.id, owning_team="liaison")
    assert (result.assignee_id, result.reason) == (None, RouteReason.no_cover)


@pytest.mark.parametrize(
    ("owning_team", "team"),
    [("coordination", TeamKind.coordination), ("mso", TeamKind.mso)],
)
def test_owning_team_topics_go_to_that_team_queue(
    session: Session, practice_with_liaison: Liaisoned, owning_team: str, team: TeamKind
) -> None:
    practice, *_rest = practice_with_liaison
    result = route(session, practice_id=practice.id, owning_team=owning_team)
    assert (result.team, result.assignee_id, result.reason) == (
        team,
        None,
        RouteReason.owning_team,
    )


@pytest.mark.parametrize("owning_team", ["liaison", "none", "pcw", None])
def test_liaison_and_unknown_topics_go_to_the_portfolio_liaison(
    session: Session, practice_with_liaison: Liaisoned, owning_team: str | None
) -> None:
    practice, liaison, *_rest = practice_with_liaison
    assert route(session, practice_id=practice.id, owning_team=owning_team).assignee_id == (
        liaison.id
    )


def test_a_practice_without_a_liaison_goes_to_the_liaison_queue(session: Session) -> None:
    practice = factories.practice(session)
    result = route(session, practice_id=practice.id, owning_team=None)
    assert (result.team, result.assignee_id, result.reason) == (
        TeamKind.liaison,
        None,
        RouteReason.no_portfolio,
    )


def test_ticket_due_time_is_next_business_day_close(
    session: Session, practice_with_liaison: Liaisoned
) -> None:
    practice, _liaison, _cover, asker = practice_with_liaison
    # Friday 6 Feb 2026 is Waitangi Day; Thursday's question is due on Monday.
    ticket = create_ticket(
        session,
        practice_id=practice.id,
        asker_id=asker.id,
        question="Claims?",
        now=_nz(2026, 2, 5, 10, 0),
    )
    session.commit()
    assert ticket.due_at == _nz(2026, 2, 9, 17, 0)


@pytest.mark.parametrize("team", ["coordination", "mso"])
def test_create_ticket_sends_a_known_topic_to_its_owning_team(
    session: Session, practice_with_liaison: Liaisoned, team: str
) -> None:
    practice, _liaison, _cover, asker = practice_with_liaison
    entry = next(
        e
        for e in get_knowledge_base().entries
        if e.owning_team == team and e.for_audience("practice")
    )
    ticket = create_ticket(
        session, practice_id=practice.id, asker_id=asker.id, question="?", topic_id=entry.id
    )
    session.commit()
    assert (ticket.team, ticket.assignee_id, ticket.topic_id) == (team, None, entry.id)


@pytest.mark.parametrize("topic", ["liaison-contact", "no-such-topic"])
def test_liaison_and_unknown_topic_ids_go_to_the_liaison(
    session: Session, practice_with_liaison: Liaisoned, topic: str
) -> None:
    practice, liaison, _cover, asker = practice_with_liaison
    ticket = create_ticket(
        session, practice_id=practice.id, asker_id=asker.id, question="?", topic_id=topic
    )
    session.commit()
    assert (ticket.team, ticket.assignee_id) == ("liaison", liaison.id)


def test_create_ticket_can_join_the_callers_transaction(
    session: Session, practice_with_liaison: Liaisoned
) -> None:
    practice, _liaison, _cover, asker = practice_with_liaison
    ticket_id = create_ticket(session, practice_id=practice.id, asker_id=asker.id, question="?").id
    assert ticket_id is not None
    session.rollback()
    assert session.get(Ticket, ticket_id) is None
    assert events_for(session, "ticket", ticket_id) == []


@pytest.mark.parametrize(
    ("last_day", "expected"),
    [(None, "cover"), ("2026-11-24", "cover"), ("2026-11-23", "liaison")],
)
def test_away_ends_by_itself_after_its_last_day(
    session: Session, practice_with_liaison: Liaisoned, last_day: str | None, expected: str
) -> None:
    """Asked on Tuesday 24 November: away until Monday means back today."""
    practice, liaison, cover, _asker = practice_with_liaison
    liaison.away = True
    liaison.away_until = date.fromisoformat(last_day) if last_day else None
    session.add(liaison)
    session.commit()
    found = route(session, practice_id=practice.id, owning_team=None, today=date(2026, 11, 24))  # type: ignore[arg-type]
    assert found.assignee_id == {"cover": cover.id, "liaison": liaison.id}[expected]


def test_covers_of_covers_are_followed_and_a_loop_goes_to_the_queue(
    session: Session, practice_with_liaison: Liaisoned
) -> None:
    practice, liaison, cover, _asker = practice_with_liaison
    third = factories.user(session, Role.liaison, name="Tala")
    liaison.away = cover.away = True
    cover.cover_id = third.id
    session.add_all([liaison, cover])
    session.commit()
    today = date(2026, 11, 24)
    assert route(session, practice_id=practice.id, owning_team=None, today=today).assignee_id == (  # type: ignore[arg-type]
        third.id
    )
    cover.cover_id = liaison.id  # Mere -> Sione -> Mere
    session.add(cover)
    session.commit()
    found = route(session, practice_id=practice.id, owning_team=None, today=today)  # type: ignore[arg-type]
    assert (found.team, found.assignee_id) == (TeamKind.liaison, None)


def test_the_portfolio_page_warns_of_a_cover_chain_with_no_one_at_the_end(
    client: Client, login: Any, session: Session, practice_with_liaison: Liaisoned
) -> None:
    _practice, liaison, cover, _asker = practice_with_liaison
    liaison.away = cover.away = True  # Mere -> Sione, and Sione is away with no cover
    session.add_all([liaison, cover])
    session.commit()
    login(factories.user(session, Role.admin))
    page = client.get("/admin/portfolios").text
    assert "Everyone in the cover chain is away (Mere → Sione)" in page
    cover.cover_id = liaison.id
    session.add(cover)
    session.commit()
    page = client.get("/admin/portfolios").text
    assert "The covers go round in a circle (Mere → Sione)" in page


def test_marking_away_with_a_last_day(
    client: Client, login: Any, session: Session, practice_with_liaison: Liaisoned
) -> None:
    _practice, liaison, cover, _asker = practice_with_liaison
    login(factories.user(session, Role.admin))
    data = {"away": "1", "cover_id": str(cover.id), "away_until": "2026-12-24"}
    assert client.post(f"/admin/liaisons/{liaison.id}/away", data=data).status_code == 303
    session.refresh(liaison)
    assert (liaison.away, liaison.away_until) == (True, date(2026, 12, 24))
    assert "Away until 24 Dec 2026" in client.get("/admin/portfolios").text
    past = data | {"away_until": "2026-11-01"}
    response = client.post(f"/admin/liaisons/{liaison.id}/away", data=past)
    assert response.status_code == 422
    assert "The last day away cannot be in the past." in response.text
    bad = data | {"away_until": "soon"}
    assert client.post(f"/admin/liaisons/{liaison.id}/away", data=bad).status_code == 422
