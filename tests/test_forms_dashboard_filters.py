"""Dashboard filters: period, agency, language and worker narrow every number and every table
beside a chart; a plain GET form (works without JavaScript), the same view answering htmx with
just the board, and the chosen values kept in the URL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlmodel import Session

from assistant.forms.reporting.dashboard import (
    DEFAULT_WEEKS,
    Filters,
    build_dashboard,
    filter_options,
    parse_filters,
)
from assistant.pcw.tasks import create_task
from assistant.people.models import Role, User
from tests import factories
from tests.forms_data import ANA, NO_CONSENT, add_submission
from tests.html import Page, parse

TODAY = date(2026, 11, 25)  # a Wednesday; the suite's clock is Tuesday 24 November (NZ)


def at(day: str, hour: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@dataclass
class Team:
    north: Any
    south: Any
    tala: User  # north
    amina: User  # south
    losa: User  # north


@pytest.fixture
def team(session: Session) -> Team:
    north = factories.agency(session, name="Northside Whānau Trust")
    south = factories.agency(session, name="Southern Pasifika Hub")
    tala = factories.user(session, Role.pcw, name="Tala Fiso", agency_id=north.id)
    amina = factories.user(session, Role.pcw, name="Amina Yusuf", agency_id=south.id)
    losa = factories.user(session, Role.pcw, name="Losa Ioane", agency_id=north.id)
    # this week and last (New Zealand days)
    add_submission(session, tala, ANA, lang="sm", created_at=at("2026-11-23", 1))
    add_submission(session, tala, ANA | {"barriers": ["cost"]}, created_at=at("2026-11-17"))
    add_submission(
        session, losa, ANA | {"barriers": ["food"]}, lang="sm", created_at=at("2026-11-18")
    )
    add_submission(
        session, amina, ANA | {"barriers": ["food", "cost"]}, lang="ar", created_at=at("2026-11-10")
    )
    add_submission(session, amina, NO_CONSENT, lang="ar", created_at=at("2026-11-19"))
    # long ago: outside every period
    add_submission(session, tala, ANA, lang="sm", created_at=at("2025-01-01"))
    return Team(north, south, tala, amina, losa)


# --- parsing what the URL says ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({}, Filters()),
        ({"weeks": "4"}, Filters(weeks=4)),
        ({"weeks": "5"}, Filters()),  # not one of the periods offered
        ({"weeks": "abc", "agency": "", "language": "", "worker": ""}, Filters()),
        ({"agency": "7", "language": "sm", "worker": "12"}, Filters(DEFAULT_WEEKS, 7, "sm", 12)),
        ({"agency": "-1", "worker": "1.5"}, Filters()),
        ({"agency": "٣"}, Filters()),  # an Arabic-Indic digit is not an id
        ({"worker": "99999999999999999999"}, Filters()),
        ({"language": "fr"}, Filters()),
        ({"language": "zh_Hans"}, Filters(language="zh_Hans")),
    ],
)
def test_parse_filters(raw: dict[str, str], expected: Filters) -> None:
    assert parse_filters(**raw) == expected


def test_filters_as_a_query_leave_out_what_is_unset() -> None:
    assert Filters(weeks=4).query() == {"weeks": "4"}
    assert Filters(26, 3, "to", 9).query() == {
        "weeks": "26",
        "agency": "3",
        "language": "to",
        "worker": "9",
    }
    assert Filters(26, 3, "to", 9).query(agency=None, language=None) == {
        "weeks": "26",
        "worker": "9",
    }
    assert not Filters(weeks=52).narrowed
    assert Filters(language="ar").narrowed


# --- every number follows the filters --------------------------------------------------------


def numbers(board: Any) -> dict[str, Any]:
    return {
        "total": board.total,
        "consented": board.consented,
        "weeks": [c.value for c in board.by_week],
        "barriers": {c.key: c.value for c in board.barriers},
        "agencies": {c.label: c.value for c in board.agencies},
        "languages": {c.key: c.value for c in board.languages},
    }


def test_agency_filter(session: Session, team: Team) -> None:
    board = build_dashboard(session, filters=Filters(4, agency_id=team.north.id), today=TODAY)
    assert numbers(board) == {
        "total": 3,
        "consented": 3,
        "weeks": [0, 0, 2, 1],
        "barriers": {"cost": 2, "transport": 1, "other": 1, "food": 1},
        "agencies": {"Northside Whānau Trust": 3},
        "languages": {"sm": 2, "en": 1},
    }


def test_language_filter(session: Session, team: Team) -> None:
    board = build_dashboard(session, filters=Filters(4, language="ar"), today=TODAY)
    assert numbers(board) == {
        "total": 2,
        "consented": 1,
        "weeks": [0, 1, 1, 0],
        "barriers": {"cost": 1, "food": 1},
        "agencies": {"Southern Pasifika Hub": 2},
        "languages": {"ar": 2},
    }


def test_worker_filter(session: Session, team: Team) -> None:
    board = build_dashboard(session, filters=Filters(4, worker_id=team.tala.id), today=TODAY)
    assert (board.total, [c.value for c in board.by_week]) == (2, [0, 0, 1, 1])
    assert [(c.label, c.value) for c in board.agencies] == [("Northside Whānau Trust", 2)]


def test_filters_combine(session: Session, team: Team) -> None:
    both = Filters(4, agency_id=team.north.id, language="sm")
    assert build_dashboard(session, filters=both, today=TODAY).total == 2
    nobody = Filters(4, agency_id=team.south.id, worker_id=team.tala.id)
    empty = build_dashboard(session, filters=nobody, today=TODAY)
    assert numbers(empty) == {
        "total": 0,
        "consented": 0,
        "weeks": [0, 0, 0, 0],
        "barriers": {},
        "agencies": {},
        "languages": {},
    }


def test_the_period_still_counts(session: Session, team: Team) -> None:
    year = build_dashboard(session, filters=Filters(52, worker_id=team.tala.id), today=TODAY)
    assert year.total == 2  # January 2025 is more than 52 weeks back
    assert len(year.by_week) == 52


def test_follow_ups_follow_agency_and_worker(session: Session, team: Team) -> None:
    for assignee, agency_id, due in (
        (team.tala, team.north.id, date(2026, 11, 20)),
        (team.losa, team.north.id, date(2026, 12, 1)),
        (team.amina, team.south.id, date(2026, 11, 1)),
        (None, None, date(2026, 11, 2)),
    ):
        create_task(
            session,
            assignee_id=assignee.id if assignee else None,
            agency_id=agency_id,
            title="Ring back",
            kind="follow-up",
            due=due,
        )
        session.commit()

    def follow_ups(filters: Filters) -> tuple[int, int]:
        board = build_dashboard(session, filters=filters, today=TODAY)
        return board.open_follow_ups, board.overdue_follow_ups

    assert follow_ups(Filters()) == (4, 3)
    assert follow_ups(Filters(agency_id=team.north.id)) == (2, 1)
    assert follow_ups(Filters(worker_id=team.losa.id)) == (1, 0)
    assert follow_ups(Filters(language="sm")) == (4, 3)  # tasks carry no language


def test_filter_options(session: Session, team: Team) -> None:
    factories.agency(session, name="Closed Agency", active=False)
    used_to = factories.agency(session, name="Former Agency", active=False)
    gone = factories.user(session, Role.pcw, name="Former Worker", active=False)
    factories.user(session, Role.pcw, name="Left Early", active=False)
    add_submission(
        session,
        factories.user(session, Role.pcw, name="Zed Sender", agency_id=used_to.id),
        ANA,
    )
    add_submission(session, gone, ANA)
    factories.user(session, Role.liaison, name="Mere Liaison")
    options = filter_options(session)
    agencies = [o.label for o in options.agencies]
    assert "Closed Agency" not in agencies
    assert {"Northside Whānau Trust", "Southern Pasifika Hub", "Former Agency"} <= set(agencies)
    assert agencies == sorted(agencies)
    workers = [o.label for o in options.workers]
    # active community workers, and anyone who sent an assessment; nobody else
    assert {"Tala Fiso", "Amina Yusuf", "Losa Ioane", "Zed Sender", "Former Worker"} <= set(workers)
    assert "Left Early" not in workers and "Mere Liaison" not in workers
    assert str(team.tala.id) in {o.value for o in options.workers}
    assert [o.value for o in options.languages] == ["en", "mi", "sm", "to", "zh_Hans", "hi", "ar"]


# --- the page ----------------------------------------------------------------------------------


def tables(page: Page) -> dict[str, list[tuple[str, str]]]:
    """The numbers tables beside the charts, by caption: their (label, number) rows."""
    found: dict[str, list[tuple[str, str]]] = {}
    for table in page.find_all("table"):
        if table.has("caption"):
            rows = [(r[0], r[1]) for r in table.rows() if len(r) == 2 and r[1].isdigit()]
            found[table.find("caption").text()] = rows
    return found


@pytest.fixture
def coordinator(session: Session, login: Any) -> User:
    user = factories.user(session, Role.coordinator)
    login(user)
    return user


def test_tables_beside_the_charts_follow_the_filters(
    session: Session, client: Any, team: Team, coordinator: User
) -> None:
    everyone = tables(parse(client.get("/dashboard?weeks=4").text))
    assert dict(everyone["Assessments by agency"]) == {
        "Northside Whānau Trust": "3",
        "Southern Pasifika Hub": "2",
    }
    response = client.get(f"/dashboard?weeks=4&agency=&language=ar&worker={team.amina.id}")
    assert response.status_code == 200
    page = parse(response.text)
    numbers = tables(page)
    assert numbers["Assessments by agency"] == [("Southern Pasifika Hub", "2")]
    assert numbers["Assessments by language"] == [("العربية", "2")]
    assert dict(numbers["Barriers found"]) == {"Cost of care": "1", "Food": "1"}
    weekly = [int(n) for _week, n in numbers["Assessments per week"]]
    assert weekly == [0, 1, 1, 0]
    # the form shows what was chosen, so the next change keeps the rest
    assert page.selected("weeks") == ["4"]
    assert page.selected("agency") == []
    assert page.selected("language") == ["ar"]
    assert page.selected("worker") == [str(team.amina.id)]
    assert ("", "All agencies") in page.options("agency")
    assert (str(team.north.id), "Northside Whānau Trust") in page.options("agency")
    assert ("sm", "Gagana Sāmoa") in page.options("language")
    assert (str(team.tala.id), "Tala Fiso") in page.options("worker")


def test_the_filter_form_works_without_javascript(
    session: Session, client: Any, team: Team, coordinator: User
) -> None:
    page = parse(client.get("/dashboard").text)
    form = page.one('form[aria-label="Filters"]')
    # a GET form: submitting it without JavaScript puts every filter in the URL
    assert (form.get("method"), form.get("action")) == ("get", "/dashboard")
    selects = {select.attr("name") for select in page.find_all("select[name]")}
    assert {"weeks", "agency", "language", "worker"} <= selects
    # and htmx asks the same URL; every htmx request has a plain link or form beside it
    hx = page.find_all("[hx-get]")
    assert hx, "the page uses htmx"
    for element in hx:
        assert element.attr("hx-get") == element.get("href", element.get("action")), element
        assert element.attr("hx-push-url") == "true"


def test_htmx_gets_just_the_board_from_the_same_view(
    session: Session, client: Any, team: Team, coordinator: User
) -> None:
    url = f"/dashboard?weeks=4&agency={team.north.id}&language=&worker="
    part = client.get(url, headers={"HX-Request": "true"})
    assert part.status_code == 200
    assert "<html" not in part.text
    board = parse(part.text)
    first = board.top()[0]
    assert (first.tag, first.id) == ("div", "board")
    assert board.selected("agency") == [str(team.north.id)]  # the filters come along
    assert tables(board)["Assessments by agency"] == [("Northside Whānau Trust", "3")]
    assert "HX-Request" in part.headers["vary"]
    full = client.get(url)
    assert "<html" in full.text and "HX-Request" in full.headers["vary"]
    assert tables(parse(full.text)) == tables(board)


def test_going_back_to_a_filtered_page_gets_the_whole_page(
    session: Session, client: Any, team: Team, coordinator: User
) -> None:
    # htmx asks again for a page it no longer holds, marked as an htmx request
    restored = client.get(
        f"/dashboard?weeks=12&worker={team.losa.id}",
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in restored.text
    agencies = tables(parse(restored.text))["Assessments by agency"]
    assert agencies == [("Northside Whānau Trust", "1")]


def test_a_link_clears_the_filters_but_keeps_the_period(
    session: Session, client: Any, team: Team, coordinator: User
) -> None:
    unfiltered = parse(client.get("/dashboard?weeks=26").text)
    assert unfiltered.find_all("a[hx-get]") == []  # nothing to clear
    page = parse(client.get(f"/dashboard?weeks=26&language=sm&worker={team.tala.id}").text)
    clear = page.one("a[hx-get]")
    assert clear.attr("href") == clear.attr("hx-get") == "/dashboard?weeks=26"
    assert parse(client.get(clear.attr("href")).text).selected("language") == []


def test_odd_values_in_the_url_are_ignored(
    session: Session, client: Any, team: Team, coordinator: User
) -> None:
    response = client.get("/dashboard?weeks=lots&agency=north&language=xx&worker=-3")
    assert response.status_code == 200
    page = parse(response.text)
    assert page.selected("weeks") == [str(DEFAULT_WEEKS)]
    assert page.selected("agency") == []
    assert sum(int(n) for _a, n in tables(page)["Assessments by agency"]) == 5


def test_choosing_a_language_says_follow_ups_are_not_split_by_it(
    session: Session, client: Any, team: Team, coordinator: User
) -> None:
    note = "Follow-ups are counted in every language"
    assert note not in client.get("/dashboard").text
    assert note in client.get("/dashboard?language=sm").text
