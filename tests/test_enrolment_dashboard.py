"""The enrolment funnel on the PHO dashboard: the numbers (without HTTP), the page (SVG charts
with the same numbers in tables, filters with and without htmx) and the CSV/XLSX exports."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, col, select

from assistant.audit import AuditEvent
from assistant.clock import NZ
from assistant.enrolment import report
from assistant.enrolment import requests as req
from assistant.enrolment.funnel import mark
from assistant.enrolment.models import RequestSource, Stage
from assistant.enrolment.report import FunnelFilters, funnel, parse_filters
from assistant.people.models import Practice, Role
from assistant.periods import BadPeriod
from tests import factories
from tests.clock import FIXED_NOW
from tests.conftest import Client
from tests.html import Page, parse

TODAY = date(2026, 11, 24)  # the suite's clock: Tuesday 24 November, New Zealand
NOVEMBER = FunnelFilters(since=date(2026, 11, 1), until=date(2026, 11, 30))


def nz(day: str, hour: int = 10, minute: int = 0) -> datetime:
    """A New Zealand wall-clock time."""
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=NZ)


def reach(
    session: Session,
    who: str,
    stage: Stage,
    at: datetime,
    *,
    language: str = "en",
    practice: Practice | None = None,
) -> None:
    mark(
        session,
        person=who,
        stage=stage,
        at=at,
        language=language,
        practice_id=practice.id if practice else None,
    )
    session.commit()


def journey(
    session: Session,
    who: str,
    stages: tuple[Stage, ...],
    start: datetime,
    *,
    language: str = "en",
    practice: Practice | None = None,
    every: timedelta = timedelta(days=1),
) -> None:
    """``who`` reaches ``stages`` in order, one every ``every`` from ``start``."""
    for i, stage in enumerate(stages):
        at_practice = practice if stage in report.PRACTICE_STAGES else None
        reach(session, who, stage, start + i * every, language=language, practice=at_practice)


def people(board: report.Funnel) -> dict[str, int]:
    return {t.stage.value: t.people for t in board.totals}


@pytest.fixture
def practices(session: Session) -> tuple[Practice, Practice]:
    return (
        factories.practice(session, name="Riccarton Family Health"),
        factories.practice(session, name="Linwood Medical"),
    )


@pytest.fixture
def november(session: Session, practices: tuple[Practice, Practice]) -> None:
    """Five people in November 2026 (and one who texted long before):

    - Sina (Samoan) texted 2 Nov and went all the way at Riccarton, a stage a day: enrolled 7 Nov;
    - Amina (Arabic) texted 3 Nov, was eligible, chose Linwood, the request went 6 Nov;
    - Tom (English) texted 9 Nov, was eligible, nothing more;
    - a person a community worker asked Riccarton for (no text): request 10 Nov, enrolled 16 Nov;
    - Mele (Tongan) texted in September; eligible, chose and asked Riccarton in November.
    """
    riccarton, linwood = practices
    journey(
        session,
        "phone:+64210000001",
        tuple(Stage),
        nz("2026-11-02"),
        language="sm",
        practice=riccarton,
    )
    journey(
        session,
        "phone:+64210000002",
        (Stage.texted, Stage.eligible, Stage.practice_chosen, Stage.request_sent),
        nz("2026-11-03"),
        language="ar",
        practice=linwood,
    )
    journey(session, "phone:+64210000003", (Stage.texted, Stage.eligible), nz("2026-11-09"))
    journey(
        session,
        "request:77",
        (Stage.practice_chosen, Stage.request_sent),
        nz("2026-11-10"),
        practice=riccarton,
        every=timedelta(0),
    )
    journey(
        session,
        "request:77",
        (Stage.accepted, Stage.enrolled),
        nz("2026-11-16"),
        practice=riccarton,
        every=timedelta(0),
    )
    reach(session, "phone:+64210000005", Stage.texted, nz("2026-09-15"), language="to")
    journey(
        session,
        "phone:+64210000005",
        (Stage.eligible, Stage.practice_chosen, Stage.request_sent),
        nz("2026-11-20"),
        language="to",
        practice=riccarton,
    )


# --- reading the filters ---------------------------------------------------------------------


def test_default_period_is_the_last_twelve_weeks_by_week() -> None:
    filters = parse_filters(today=TODAY)
    assert (filters.since, filters.until) == (date(2026, 9, 7), TODAY)
    assert filters.since.weekday() == 0 and filters.grain == "week"
    assert filters.stages == tuple(Stage)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"since": "2026-11-01", "until": "2026-11-30"}, NOVEMBER),
        (
            {"since": "2026-11-01", "until": "2026-11-30", "language": "fr", "practice": "x"},
            NOVEMBER,
        ),
        (
            {"since": "2026-11-01", "until": "2026-11-30", "language": "zh_Hans", "practice": "4"},
            FunnelFilters(date(2026, 11, 1), date(2026, 11, 30), "zh_Hans", 4),
        ),
        ({"since": "2026-11-01"}, FunnelFilters(date(2026, 11, 1), TODAY)),
        ({"since": "2026-12-10"}, FunnelFilters(date(2026, 12, 10), date(2026, 12, 10))),
    ],
)
def test_filters_from_the_query_string(raw: dict[str, str], expected: FunnelFilters) -> None:
    assert parse_filters(today=TODAY, **raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        {"since": "24/11/2026"},
        {"until": "tomorrow"},
        {"since": "2026-11-30", "until": "2026-11-01"},
        {"since": "0001-01-01"},
        {"until": "9999-12-31"},
    ],
)
def test_bad_periods_are_refused(raw: dict[str, str]) -> None:
    with pytest.raises(BadPeriod):
        parse_filters(today=TODAY, **raw)


def test_long_periods_are_counted_by_month() -> None:
    year = parse_filters(today=TODAY, since="2025-12-01", until="2026-11-24")
    assert year.grain == "month"
    spans = report.periods(year)
    assert [s[0] for s in spans][:2] == ["2025-12", "2026-01"]
    assert spans[-1] == ("2026-11", date(2026, 11, 1), date(2026, 11, 24))
    assert len(spans) == 12


# --- the numbers -----------------------------------------------------------------------------


def test_each_person_is_counted_once_per_stage(session: Session) -> None:
    reach(session, "phone:+64210000001", Stage.texted, nz("2026-11-02"))
    reach(session, "phone:+64210000001", Stage.texted, nz("2026-11-05"))  # texted again
    reach(session, "phone:+64210000001", Stage.eligible, nz("2026-11-05"))
    reach(session, "phone:+64210000002", Stage.texted, nz("2026-11-06"))
    # first texted in October: counts in October, not again in November
    reach(session, "phone:+64210000003", Stage.texted, nz("2026-10-20"))
    reach(session, "phone:+64210000003", Stage.texted, nz("2026-11-07"))
    reach(session, "phone:+64210000003", Stage.eligible, nz("2026-11-07"))

    board = funnel(session, filters=NOVEMBER)
    assert people(board) == {
        "texted": 2,
        "eligible": 2,
        "practice_chosen": 0,
        "request_sent": 0,
        "accepted": 0,
        "enrolled": 0,
    }
    assert [t.conversion for t in board.totals][:3] == [None, 1.0, 0.0]
    october = funnel(session, filters=FunnelFilters(date(2026, 10, 1), date(2026, 10, 31)))
    assert people(october)["texted"] == 1


def test_the_funnel_stage_by_stage(session: Session, november: None) -> None:
    board = funnel(session, filters=NOVEMBER)
    assert people(board) == {
        "texted": 3,  # Sina, Amina, Tom (Mele texted in September)
        "eligible": 4,
        "practice_chosen": 4,
        "request_sent": 4,
        "accepted": 2,
        "enrolled": 2,
    }
    conversions = [t.conversion for t in board.totals]
    assert conversions[0] is None
    assert conversions[1] == pytest.approx(4 / 3)  # more than 100%: Mele joined earlier
    assert conversions[4] == pytest.approx(0.5)
    assert not board.empty


def test_by_language_and_by_practice(
    session: Session, november: None, practices: tuple[Practice, Practice]
) -> None:
    riccarton, linwood = practices
    board = funnel(session, filters=NOVEMBER)
    languages = {row.key: row for row in board.by_language}
    assert [row.key for row in board.by_language] == ["en", "sm", "to", "ar"]  # the usual order
    assert languages["sm"].label == "Gagana Sāmoa"
    assert languages["ar"].counts == {
        Stage.texted: 1,
        Stage.eligible: 1,
        Stage.practice_chosen: 1,
        Stage.request_sent: 1,
        Stage.accepted: 0,
        Stage.enrolled: 0,
    }
    assert languages["en"].counts[Stage.texted] == 1  # Tom
    assert languages["en"].counts[Stage.enrolled] == 1  # the community worker's request
    assert languages["to"].counts[Stage.texted] == 0  # Mele texted in September

    # practices: the practice-level stages only, most people first
    assert [(row.label, row.counts) for row in board.by_practice] == [
        (
            "Riccarton Family Health",
            {
                Stage.practice_chosen: 3,
                Stage.request_sent: 3,
                Stage.accepted: 2,
                Stage.enrolled: 2,
            },
        ),
        (
            "Linwood Medical",
            {
                Stage.practice_chosen: 1,
                Stage.request_sent: 1,
                Stage.accepted: 0,
                Stage.enrolled: 0,
            },
        ),
    ]

    # one language narrows every number
    samoan = funnel(session, filters=FunnelFilters(NOVEMBER.since, NOVEMBER.until, "sm"))
    assert set(people(samoan).values()) == {1}
    assert [row.key for row in samoan.by_language] == ["sm"]

    # one practice: the funnel starts when a practice is chosen
    at_riccarton = funnel(
        session, filters=FunnelFilters(NOVEMBER.since, NOVEMBER.until, practice_id=riccarton.id)
    )
    assert people(at_riccarton) == {
        "practice_chosen": 3,
        "request_sent": 3,
        "accepted": 2,
        "enrolled": 2,
    }
    assert [row.label for row in at_riccarton.by_practice] == ["Riccarton Family Health"]
    assert linwood.id not in {int(r.key) for r in at_riccarton.by_practice}


def test_median_days_from_first_text_to_enrolled(
    session: Session, practices: tuple[Practice, Practice]
) -> None:
    riccarton, _linwood = practices
    staff = factories.user(session, Role.practice_staff, practice_id=riccarton.id)
    # texted, then enrolled 4 days later
    journey(
        session,
        "phone:+64210000001",
        tuple(Stage),
        nz("2026-11-02"),
        practice=riccarton,
        every=timedelta(days=0.8),
    )
    # texted, then enrolled 10 days later
    reach(session, "phone:+64210000002", Stage.texted, nz("2026-11-01"), language="sm")
    reach(
        session,
        "phone:+64210000002",
        Stage.enrolled,
        nz("2026-11-11"),
        language="sm",
        practice=riccarton,
    )
    # a community worker's request for someone without a phone: counted from the request
    request = req.create_request(
        session,
        practice_id=riccarton.id or 0,
        name="Hoa Nguyen",
        phone=None,
        language="en",
        consent=True,
        now=nz("2026-11-05"),
        source=RequestSource.pcw,
    )
    req.mark_enrolled(session, user=staff, request=request, now=nz("2026-11-12"))
    session.commit()
    # enrolled in October: not this period's
    reach(session, "phone:+64210000004", Stage.texted, nz("2026-09-01"))
    reach(session, "phone:+64210000004", Stage.enrolled, nz("2026-10-30"), practice=riccarton)
    # texted, never enrolled
    reach(session, "phone:+64210000005", Stage.texted, nz("2026-11-03"))

    assert report.days_to_enrolment(session, NOVEMBER) == [
        pytest.approx(4.0),
        pytest.approx(7.0),
        pytest.approx(10.0),
    ]
    board = funnel(session, filters=NOVEMBER)
    assert board.median_days == pytest.approx(7.0)
    assert board.median_people == 3
    english = FunnelFilters(NOVEMBER.since, NOVEMBER.until, language="en")
    assert report.median_days_to_enrolment(session, english) == (pytest.approx(5.5), 2)
    assert report.median_days_to_enrolment(
        session, FunnelFilters(date(2026, 12, 1), date(2026, 12, 31))
    ) == (None, 0)


def test_the_period_is_new_zealand_days(session: Session) -> None:
    last_day = date(2026, 11, 22)
    week = FunnelFilters(since=date(2026, 11, 16), until=last_day)
    reach(session, "phone:+64210000001", Stage.texted, nz("2026-11-22", 23, 30))  # counts
    reach(session, "phone:+64210000002", Stage.texted, nz("2026-11-16", 0, 10))  # counts
    reach(session, "phone:+64210000003", Stage.texted, nz("2026-11-23", 0, 30))  # the day after
    reach(session, "phone:+64210000004", Stage.texted, nz("2026-11-15", 23, 50))  # the day before
    board = funnel(session, filters=week)
    assert people(board)["texted"] == 2
    # 00:30 on Monday 23 November in New Zealand is still Sunday in UTC: next week's
    fortnight = FunnelFilters(since=date(2026, 11, 16), until=date(2026, 11, 29))
    rows = funnel(session, filters=fortnight).over_time
    assert [(r.key, r.start, r.end, r.counts[Stage.texted]) for r in rows] == [
        ("2026-W47", date(2026, 11, 16), date(2026, 11, 22), 2),
        ("2026-W48", date(2026, 11, 23), date(2026, 11, 29), 1),
    ]


def test_over_time_has_every_week_of_the_period(session: Session, november: None) -> None:
    rows = funnel(session, filters=NOVEMBER).over_time
    # 1 November 2026 is a Sunday: its week starts in October but is counted from the 1st
    assert [r.key for r in rows] == [
        "2026-W44",
        "2026-W45",
        "2026-W46",
        "2026-W47",
        "2026-W48",
        "2026-W49",
    ]
    assert rows[0].start == date(2026, 11, 1) and rows[-1].end == date(2026, 11, 30)
    assert [r.counts[Stage.enrolled] for r in rows] == [0, 1, 0, 1, 0, 0]
    assert sum(r.counts[Stage.texted] for r in rows) == 3


# --- the page --------------------------------------------------------------------------------


def tables(page: Page) -> dict[str, list[list[str]]]:
    """Every table with an id: its rows as lists of cell texts (header cells included)."""
    return {table.attr("id"): table.rows() for table in page.find_all("table[id]")}


def date_field(page: Page, element_id: str) -> tuple[str | None, str | None, str | None]:
    """A date input's type, name and the value it shows."""
    field = page.by_id(element_id)
    assert field.tag == "input"
    return field.get("type"), field.get("name"), field.get("value")


NOVEMBER_QUERY = "since=2026-11-01&until=2026-11-30"


def test_page_shows_the_numbers_in_charts_and_tables(
    session: Session, client: Any, login: Any, november: None
) -> None:
    login(factories.user(session, Role.coordinator))
    response = client.get(f"/dashboard/enrolment?{NOVEMBER_QUERY}")
    assert response.status_code == 200
    page = parse(response.text)
    assert len(page.find_all("svg")) == 2 and page.has('svg[role="img"]')
    numbers = tables(page)
    assert numbers["table-stages"] == [
        ["Stage", "People", "From the stage before"],
        ["Texted us", "3", "—"],
        ["Eligible", "4", "133%"],
        ["Chose a practice", "4", "100%"],
        ["Request sent to the practice", "4", "100%"],
        ["Accepted by the practice", "2", "50%"],
        ["Enrolled", "2", "100%"],
    ]
    assert page.find("table#table-stages caption").text()
    assert {th.get("scope", "") for th in page.find_all("table[id] th")} == {"col", "row"}
    languages = {row[0]: row[1:] for row in numbers["table-languages"][1:]}
    assert languages["العربية"] == ["1", "1", "1", "1", "0", "0"]
    practices = {row[0]: row[1:] for row in numbers["table-practices"][1:]}
    assert practices == {
        "Riccarton Family Health": ["3", "3", "2", "2"],
        "Linwood Medical": ["1", "1", "0", "0"],
    }
    weeks = numbers["table-time"]
    assert weeks[0][0] == "Week starting" and len(weeks) == 1 + 6
    assert weeks[2] == ["2 Nov", "2", "2", "2", "2", "1", "1"]  # Sina, Amina
    # Sina took 5 days, the community worker's request 6
    assert page.find("strong#median-days").text() == "5.5"
    # the bar chart carries the same numbers
    bar_titles = page.texts("svg title")
    assert "Texted us: 3" in bar_titles and "Enrolled: 2" in bar_titles
    assert "/dashboard/exports/enrolment/funnel.csv?since=2026-11-01&until=2026-11-30" in (
        page.links()
    )


def test_filters_work_with_and_without_htmx(
    session: Session, client: Any, login: Any, november: None, practices: tuple[Practice, Practice]
) -> None:
    riccarton, _linwood = practices
    login(factories.user(session, Role.admin))
    query = f"{NOVEMBER_QUERY}&language=sm&practice="
    full = client.get(f"/dashboard/enrolment?{query}")
    assert full.status_code == 200 and "<html" in full.text
    page = parse(full.text)
    samoan = page.find('select[name="language"] option[value="sm"]')
    assert samoan.get("lang") == "sm" and samoan.has_attr("selected")
    assert date_field(page, "since") == ("date", "since", "2026-11-01")
    stages = tables(page)["table-stages"]
    assert [row[1] for row in stages[1:]] == ["1"] * 6
    assert "Show every language and practice" in page.text()

    part = client.get(
        f"/dashboard/enrolment?{NOVEMBER_QUERY}&practice={riccarton.id}",
        headers={"HX-Request": "true"},
    )
    assert part.status_code == 200
    board = parse(part.text)
    assert [(e.tag, e.id) for e in board.top()][:1] == [("div", "funnel-board")]
    assert "<html" not in part.text
    stages = tables(board)["table-stages"]
    assert [row[0] for row in stages[1:]] == [
        "Chose a practice",
        "Request sent to the practice",
        "Accepted by the practice",
        "Enrolled",
    ]
    assert [row[1] for row in stages[1:]] == ["3", "3", "2", "2"]
    assert part.headers["vary"].startswith("HX-Request")


def test_an_empty_period_says_so(session: Session, client: Any, login: Any) -> None:
    login(factories.user(session, Role.coordinator))
    page = parse(client.get(f"/dashboard/enrolment?{NOVEMBER_QUERY}").text)
    assert page.has("#funnel-empty")
    assert "No one reached any stage of enrolment in this period." in page.text()
    assert not page.has("svg") and not page.has("table")


def test_the_default_page_and_bad_dates(session: Session, client: Any, login: Any) -> None:
    reach(session, "phone:+64210000001", Stage.texted, FIXED_NOW - timedelta(days=3))
    login(factories.user(session, Role.coordinator))
    page = parse(client.get("/dashboard/enrolment").text)
    assert date_field(page, "since") == ("date", "since", "2026-09-07")
    assert tables(page)["table-stages"][1] == ["Texted us", "1", "—"]

    wrong_way = client.get("/dashboard/enrolment?since=2026-11-30&until=2026-11-01")
    assert wrong_way.status_code == 422
    assert "The start date is after the end date." in wrong_way.text
    assert parse(wrong_way.text).by_id("since").get("value") == "2026-11-30"  # what was typed
    assert not parse(wrong_way.text).has("svg")
    typed = client.get("/dashboard/enrolment?since=30/11/2026", headers={"HX-Request": "true"})
    assert typed.status_code == 200  # htmx swaps in the board with the message
    assert "year-month-day" in parse(typed.text).find('[role="alert"]').text()


def test_the_page_in_arabic(session: Session, client: Any, login: Any, november: None) -> None:
    login(factories.user(session, Role.coordinator, locale="ar"))
    response = client.get(f"/dashboard/enrolment?{NOVEMBER_QUERY}")
    assert response.status_code == 200
    page = parse(response.text)
    assert page.dir == "rtl" and len(page.find_all("svg")) == 2


def test_the_dashboard_and_exports_pages_link_to_the_funnel(
    session: Session, client: Any, login: Any
) -> None:
    login(factories.user(session, Role.coordinator))
    assert "/dashboard/enrolment" in parse(client.get("/dashboard").text).links()
    exports = client.get("/dashboard/exports?since=2026-11-01&until=2026-11-30").text
    assert (
        "/dashboard/exports/enrolment/funnel.csv?since=2026-11-01&amp;until=2026-11-30" in exports
    )
    assert (
        "/dashboard/exports/enrolment/funnel.xlsx?since=2026-11-01&amp;until=2026-11-30" in exports
    )


@pytest.mark.parametrize("role", [Role.practice_staff, Role.pcw, Role.liaison])
def test_only_the_pho_oversight_roles_see_the_funnel(
    session: Session, client: Any, login: Any, role: Role
) -> None:
    login(factories.user(session, role))
    assert client.get("/dashboard/enrolment").status_code == 403
    assert client.get("/dashboard/exports/enrolment/funnel.csv").status_code == 403
    assert client.get("/dashboard/exports/enrolment/funnel.xlsx").status_code == 403
    assert not session.exec(select(AuditEvent).where(AuditEvent.action == "exported")).all()


# --- the exports -----------------------------------------------------------------------------


def csv_rows(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def test_csv_has_the_same_numbers(
    session: Session, client: Any, login: Any, november: None
) -> None:
    coordinator = factories.user(session, Role.coordinator)
    login(coordinator)
    response = client.get(f"/dashboard/exports/enrolment/funnel.csv?{NOVEMBER_QUERY}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == (
        'attachment; filename="enrolment-funnel-2026-11-01-2026-11-30.csv"'
    )
    assert response.headers["cache-control"] == "no-store"
    rows = csv_rows(response.content)
    assert list(rows[0]) == list(report.EXPORT_HEADERS)
    counts = [r for r in rows if r["measure"] == "people"]
    per_stage = {s.value: 0 for s in Stage}
    for r in counts:
        per_stage[r["stage"]] += int(r["value"])
    page = parse(client.get(f"/dashboard/enrolment?{NOVEMBER_QUERY}").text)
    assert per_stage == {
        "texted": 3,
        "eligible": 4,
        "practice_chosen": 4,
        "request_sent": 4,
        "accepted": 2,
        "enrolled": 2,
    }
    assert [int(row[1]) for row in tables(page)["table-stages"][1:]] == list(per_stage.values())
    # one row per period x stage x language x practice
    assert {
        "measure": "people",
        "period": "2026-W47",
        "period_start": "2026-11-16",
        "period_end": "2026-11-22",
        "stage": "request_sent",
        "language": "to",
        "practice_id": str(
            session.exec(
                select(Practice.id).where(Practice.name == "Riccarton Family Health")
            ).one()
        ),
        "practice_name": "Riccarton Family Health",
        "value": "1",
    } in counts
    texted = [
        (r["period"], r["language"], r["practice_id"], r["value"])
        for r in counts
        if r["stage"] == "texted"
    ]
    assert texted == [
        ("2026-W45", "sm", "", "1"),
        ("2026-W45", "ar", "", "1"),
        ("2026-W46", "en", "", "1"),
    ]
    median = {r["measure"]: r for r in rows if r["measure"] != "people"}
    assert median["median_days_first_text_to_enrolled"]["value"] == "5.5"
    assert median["median_days_first_text_to_enrolled"]["period"] == "all"
    assert median["people_in_median"]["value"] == "2"
    # counts only: no phone number, no person's key
    assert b"+6421" not in response.content and b"request:" not in response.content

    event = session.exec(select(AuditEvent).where(AuditEvent.action == "exported")).one()
    assert (event.actor_id, event.entity, event.entity_id) == (
        coordinator.id,
        "funnel_mark",
        "enrolment_funnel",
    )
    assert json.loads(event.detail)["format"] == "csv"
    assert json.loads(event.detail)["since"] == "2026-11-01"


def test_xlsx_opens_with_the_same_numbers(
    session: Session, client: Any, login: Any, november: None
) -> None:
    login(factories.user(session, Role.admin))
    query = f"{NOVEMBER_QUERY}&language=ar"
    csv_body = client.get(f"/dashboard/exports/enrolment/funnel.csv?{query}").content
    response = client.get(f"/dashboard/exports/enrolment/funnel.xlsx?{query}")
    assert response.status_code == 200
    assert response.headers["content-disposition"].endswith('.xlsx"')
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert book.sheetnames == ["funnel"]
    width = len(report.EXPORT_HEADERS)  # a read-only sheet leaves off empty cells at a row's end
    sheet = [
        [*row, *[None] * (width - len(row))] for row in book["funnel"].iter_rows(values_only=True)
    ]
    book.close()
    assert sheet[0] == list(report.EXPORT_HEADERS)
    from_csv = [list(r.values()) for r in csv_rows(csv_body)]
    assert [["" if v is None else str(v) for v in row] for row in sheet[1:]] == from_csv
    counts = [row for row in sheet[1:] if row[0] == "people"]
    assert {row[4] for row in counts} == {"texted", "eligible", "practice_chosen", "request_sent"}
    assert all(row[5] == "ar" and row[8] == 1 for row in counts)
    assert isinstance(counts[0][8], int)  # numbers as numbers
    median = [row for row in sheet[1:] if row[0] == "median_days_first_text_to_enrolled"]
    assert median == [
        [
            "median_days_first_text_to_enrolled",
            "all",
            "2026-11-01",
            "2026-11-30",
            "enrolled",
            "ar",
            None,
            None,
            None,
        ]
    ]
    exported = session.exec(
        select(AuditEvent).where(AuditEvent.action == "exported").order_by(col(AuditEvent.id))
    ).all()
    assert [json.loads(e.detail)["format"] for e in exported] == ["csv", "xlsx"]


def test_exports_refuse_a_bad_period(session: Session, client: Any, login: Any) -> None:
    login(factories.user(session, Role.coordinator))
    response = client.get(
        "/dashboard/exports/enrolment/funnel.csv?since=2026-11-30&until=2026-11-01"
    )
    assert response.status_code == 422
    assert "The start date is after the end date." in response.text
    assert not session.exec(select(AuditEvent).where(AuditEvent.action == "exported")).all()


def test_signed_out_visitors_are_sent_to_sign_in(client: Any) -> None:
    for url in ("/dashboard/enrolment", "/dashboard/exports/enrolment/funnel.csv"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["location"].startswith("/login")


def test_the_page_keeps_the_header_language_picker(
    client: Client, login: Any, session: Session
) -> None:
    login(factories.user(session, Role.coordinator))
    page = parse(client.get("/dashboard/enrolment").text)
    header_choices = page.find("form[action='/lang']").attribute_values("value")
    assert "ar" in header_choices and "sm" in header_choices
