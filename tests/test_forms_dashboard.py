"""The coordinators' dashboard (numbers, SVG charts, accessible tables) and the export routes."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
import zipfile
from datetime import UTC, date, datetime
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, col, select

from assistant.audit import AuditEvent
from assistant.forms.reporting.charts import Datum, bar_chart, line_chart, nice_max
from assistant.forms.reporting.dashboard import build_dashboard, week_start
from assistant.pcw.tasks import create_task
from assistant.people.models import Role, User
from tests import factories
from tests.fhir_oracle import questionnaire_problems, response_problems
from tests.forms_data import ANA, NO_CONSENT, add_submission
from tests.html import parse

SVG = "{http://www.w3.org/2000/svg}"
TODAY = date(2026, 11, 25)  # a Wednesday


def at(day: str, hour: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@pytest.fixture
def pcws(session: Session) -> tuple[User, User]:
    north = factories.agency(session, name="Northside Whānau Trust")
    south = factories.agency(session, name="Southern Pasifika Hub")
    return (
        factories.user(session, Role.pcw, agency_id=north.id),
        factories.user(session, Role.pcw, agency_id=south.id),
    )


# --- numbers ---------------------------------------------------------------------------------


def test_week_start_is_monday() -> None:
    assert week_start(date(2026, 11, 25)) == date(2026, 11, 23)
    assert week_start(date(2026, 11, 23)) == date(2026, 11, 23)
    assert week_start(date(2026, 11, 22)) == date(2026, 11, 16)


def test_dashboard_counts(session: Session, pcws: tuple[User, User]) -> None:
    north, south = pcws
    add_submission(session, north, ANA, lang="sm", created_at=at("2026-11-24", 1))
    add_submission(session, north, ANA | {"barriers": ["cost"]}, created_at=at("2026-11-17"))
    add_submission(
        session, south, ANA | {"barriers": ["food", "cost"]}, lang="ar", created_at=at("2026-11-10")
    )
    add_submission(session, south, NO_CONSENT, lang="ar", created_at=at("2026-11-10"))
    # Sunday 22 November 11:30 UTC is Monday 23 November in New Zealand: this week
    add_submission(session, north, NO_CONSENT, created_at=at("2026-11-22", 11))
    # long ago: outside the period
    add_submission(session, north, ANA, created_at=at("2025-01-01"))
    add_submission(
        session,
        north,
        {"provider": "hospital_ed"},
        form_id="flag_problem",
        created_at=at("2026-11-24"),
    )

    board = build_dashboard(session, weeks=4, today=TODAY, lang="en")
    assert board.start == date(2026, 11, 2)
    assert (board.total, board.consented) == (5, 3)
    assert [(c.key, c.value) for c in board.by_week] == [
        ("2026-11-02", 0),
        ("2026-11-09", 2),
        ("2026-11-16", 1),
        ("2026-11-23", 2),
    ]
    assert [(c.key, c.label, c.value) for c in board.barriers] == [
        ("cost", "Cost of care", 3),
        ("transport", "Transport", 1),
        ("food", "Food", 1),
        ("other", "Other", 1),
    ]
    assert [(c.label, c.value) for c in board.agencies] == [
        ("Northside Whānau Trust", 3),
        ("Southern Pasifika Hub", 2),
    ]
    assert [(c.key, c.label, c.value) for c in board.languages] == [
        ("en", "English", 2),
        ("ar", "العربية", 2),
        ("sm", "Gagana Sāmoa", 1),
    ]


def test_follow_up_counts(session: Session, pcws: tuple[User, User]) -> None:
    north, _south = pcws
    create_task(
        session,
        assignee_id=north.id,
        agency_id=None,
        title="Ring",
        kind="follow-up",
        due=date(2026, 11, 20),
        source_ref="form:x:csc",
    )
    session.commit()
    create_task(
        session,
        assignee_id=north.id,
        agency_id=None,
        title="Ride",
        kind="transport",
        due=date(2026, 12, 1),
        source_ref="form:x:transport_referral",
    )
    session.commit()
    done = create_task(
        session,
        assignee_id=None,
        agency_id=None,
        title="Old",
        kind="call-back",
        due=date(2026, 11, 1),
    )
    session.commit()
    create_task(
        session,
        assignee_id=None,
        agency_id=None,
        title="SMS",
        kind="call-back",
        due=date(2026, 11, 24),
    )
    session.commit()
    done.done = True
    session.add(done)
    session.commit()
    board = build_dashboard(session, today=TODAY)
    assert board.open_follow_ups == 3
    assert board.overdue_follow_ups == 2
    assert board.open_from_assessments == 2


def test_unknown_period_falls_back_to_twelve_weeks(session: Session) -> None:
    board = build_dashboard(session, weeks=1000, today=TODAY)
    assert board.weeks == 12
    assert len(board.by_week) == 12
    assert board.by_week[-1].key == "2026-11-23"


# --- charts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, (1.0, 1.0)),
        (3, (3.0, 1.0)),
        (7, (8.0, 2.0)),
        (10, (10.0, 2.5)),
        (93, (100.0, 25.0)),
        (1234, (1500.0, 500.0)),
    ],
)
def test_nice_axis_maximum(value: float, expected: tuple[float, float]) -> None:
    assert nice_max(value) == expected


def parse_svg(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def test_bar_chart_is_accessible_svg() -> None:
    data = [Datum("Cost of care", 8), Datum("Transport", 4), Datum("<script>x</script>", 0)]
    svg = parse_svg(bar_chart(data, chart_id="c1", title="Barriers found", desc="By type"))
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "c1-title c1-desc"
    assert svg.find(f"{SVG}title").text == "Barriers found"  # type: ignore[union-attr]
    assert svg.find(f"{SVG}title").get("id") == "c1-title"  # type: ignore[union-attr]
    assert svg.find(f"{SVG}desc").text == "By type"  # type: ignore[union-attr]
    bars = svg.findall(f"{SVG}g")
    assert [b.find(f"{SVG}title").text for b in bars] == [  # type: ignore[union-attr]
        "Cost of care: 8",
        "Transport: 4",
        "<script>x</script>: 0",
    ]
    widths = [float(b.find(f"{SVG}rect").get("width")) for b in bars]  # type: ignore[union-attr, arg-type]
    assert widths[0] == pytest.approx(2 * widths[1])
    assert "<script>" not in str(bar_chart(data, chart_id="c", title="t", desc="d"))
    assert svg.get("viewBox", "").startswith("0 0 360 ")


def test_bar_chart_right_to_left_grows_from_the_right() -> None:
    data = [Datum("نقل", 5), Datum("كلفة", 10)]
    svg = parse_svg(bar_chart(data, chart_id="r", title="t", desc="d", rtl=True))
    rects = [r for g in svg.findall(f"{SVG}g") for r in g.findall(f"{SVG}rect")]
    for rect in rects:
        right_edge = float(rect.get("x")) + float(rect.get("width"))  # type: ignore[arg-type]
        assert right_edge == pytest.approx(359, abs=0.2)
    labels = [g.find(f"{SVG}text") for g in svg.findall(f"{SVG}g")]
    # the text runs right to left, starting at the right edge
    assert {t.get("text-anchor") for t in labels} == {"start"}  # type: ignore[union-attr]
    assert {t.get("direction") for t in labels} == {"rtl"}  # type: ignore[union-attr]
    assert {float(t.get("x")) for t in labels} == {359.0}  # type: ignore[union-attr, arg-type]
    assert svg.get("direction") == "ltr"  # the geometry itself is not mirrored twice


def test_empty_charts_say_so() -> None:
    svg = parse_svg(bar_chart([], chart_id="e", title="t", desc="d", empty_text="Nothing yet"))
    assert [t.text for t in svg.findall(f"{SVG}text")] == ["Nothing yet"]
    svg = parse_svg(line_chart([], chart_id="e2", title="t", desc="d", empty_text="Nothing"))
    assert [t.text for t in svg.findall(f"{SVG}text")] == ["Nothing"]


def test_line_chart_has_a_point_per_week() -> None:
    data = [Datum(f"w{i}", v) for i, v in enumerate([0, 3, 5, 2, 9, 4, 4, 1, 0, 6, 7, 8])]
    svg = parse_svg(line_chart(data, chart_id="l", title="Per week", desc="12 weeks"))
    points = svg.findall(f"{SVG}g")
    assert len(points) == 12
    assert points[4].find(f"{SVG}title").text == "w4: 9"  # type: ignore[union-attr]
    line = svg.find(f"{SVG}polyline")
    assert line is not None and len(line.get("points", "").split()) == 12
    ys = [float(p.find(f"{SVG}circle").get("cy")) for p in points]  # type: ignore[union-attr, arg-type]
    assert ys[4] == min(ys)  # the highest week is drawn highest
    x_labels = [t.text for t in svg.findall(f"{SVG}text") if (t.text or "").startswith("w")]
    assert 2 <= len(x_labels) <= 7 and x_labels[-1] == "w11"


# --- pages --------------------------------------------------------------------------------


def test_dashboard_page_shows_charts_and_tables(
    session: Session, client: Any, login: Any, pcws: tuple[User, User]
) -> None:
    north, south = pcws
    add_submission(session, north, ANA, created_at=datetime.now(UTC))
    add_submission(
        session, south, ANA | {"barriers": ["housing"]}, lang="to", created_at=datetime.now(UTC)
    )
    login(factories.user(session, Role.coordinator))
    response = client.get("/dashboard")
    assert response.status_code == 200
    page = parse(response.text)
    assert len(page.find_all("svg")) == 4
    assert page.has('svg[role="img"]')
    assert "Assessments per week" in page.text()
    # the same numbers as a table
    rows = [r for r in page.find_all("tr") if r.has('th[scope="row"]') and r.has("td.num")]
    counted = [(r.find('th[scope="row"]').text(), r.find("td.num").text()) for r in rows]
    assert ("Northside Whānau Trust", "1") in counted
    assert ("Lea faka-Tonga", "1") in counted
    assert ("Housing", "1") in counted
    # no chart script: only the scripts every page has (htmx, and focus after its updates)
    scripts = [s.attr("src") or "" for s in page.find_all("script[src]")]
    assert [src.split("?")[0] for src in scripts] == [
        "/static/vendor/htmx.min.js",
        "/static/focus.js",
    ]
    assert "Dashboard" in page.find("nav").text()  # in the navigation
    assert "/dashboard" in page.links()


def test_dashboard_period_switch_renders_only_the_board_for_htmx(
    session: Session, client: Any, login: Any
) -> None:
    login(factories.user(session, Role.admin))
    full = client.get("/dashboard?weeks=4")
    assert full.status_code == 200 and "<html" in full.text
    part = client.get("/dashboard?weeks=26", headers={"HX-Request": "true"})
    assert part.status_code == 200
    assert "<html" not in part.text
    board = parse(part.text)
    assert [(e.tag, e.id) for e in board.top()][:1] == [("div", "board")]
    assert len(board.find_all("svg")) == 4


def test_dashboard_in_arabic_is_right_to_left(session: Session, client: Any, login: Any) -> None:
    login(factories.user(session, Role.coordinator, locale="ar"))
    assert parse(client.get("/dashboard").text).dir == "rtl"


@pytest.mark.parametrize("role", [Role.pcw, Role.practice_staff, Role.liaison, Role.mso])
def test_others_may_not_see_the_dashboard_or_export(
    session: Session, client: Any, login: Any, role: Role
) -> None:
    login(factories.user(session, role))
    assert client.get("/dashboard").status_code == 403
    assert client.get("/dashboard/exports/barrier_assessment/xlsx").status_code == 403


# --- export routes --------------------------------------------------------------------------


def exported(session: Session) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.action == "exported").order_by(col(AuditEvent.id))
    return list(session.exec(stmt))


def test_exports_page_lists_each_form(
    session: Session, client: Any, login: Any, pcws: tuple[User, User]
) -> None:
    sub = add_submission(session, pcws[0], ANA)
    login(factories.user(session, Role.coordinator))
    html = client.get("/dashboard/exports").text
    assert "/dashboard/exports/barrier_assessment/xlsx" in html
    assert "/dashboard/exports/barrier_assessment/tables/household_members.csv" in html
    assert "/dashboard/exports/flag_problem/questionnaire.json" in html
    assert f"/dashboard/submissions/{sub.instance_id}/fhir.json" in html
    assert "Ana Faleolo" not in html
    dated = parse(client.get("/dashboard/exports?since=2026-01-01&until=").text)
    assert "/dashboard/exports/barrier_assessment/xlsx?since=2026-01-01" in dated.links()


EXPORT_URLS = (
    "/dashboard/exports/barrier_assessment/xlsx",
    "/dashboard/exports/barrier_assessment/csv.zip",
    "/dashboard/exports/barrier_assessment/tables/main.csv",
    "/dashboard/exports/barrier_assessment/tables/household_members.csv",
    "/dashboard/exports/barrier_assessment/fhir.ndjson",
)
BAD_PERIODS = [
    ("since=2026-12-31&until=2026-01-01", "The start date is after the end date."),
    ("since=2026-13-01", "Enter dates as year-month-day, for example 2026-11-24."),
    ("until=31%2F12%2F2026", "Enter dates as year-month-day, for example 2026-11-24."),
]


@pytest.mark.parametrize(("query", "message"), BAD_PERIODS)
def test_the_exports_page_says_what_is_wrong_with_the_dates(
    session: Session, client: Any, login: Any, pcws: tuple[User, User], query: str, message: str
) -> None:
    add_submission(session, pcws[0], ANA)
    login(factories.user(session, Role.coordinator))
    response = client.get(f"/dashboard/exports?{query}")
    assert response.status_code == 422
    page = parse(response.text)
    assert page.one('[role="alert"]').text() == message
    since = page.by_id("since")
    assert since.get("aria-invalid") == "true"
    assert since.get("aria-describedby") == "exports-error"
    # the links carry the dates as typed, so they refuse them too (not every date instead)
    xlsx = [u for u in page.links() if u.startswith(EXPORT_URLS[0])]
    assert xlsx == [f"{EXPORT_URLS[0]}?{query}"]


def test_the_exports_page_shows_the_date_error_in_the_users_language(
    session: Session, client: Any, login: Any
) -> None:
    login(factories.user(session, Role.coordinator, locale="mi"))
    response = client.get("/dashboard/exports?since=2026-12-31&until=2026-01-01")
    assert response.status_code == 422
    alert = parse(response.text).one('[role="alert"]').text()
    assert alert == "Kei muri te rā tīmata i te rā mutunga."


@pytest.mark.parametrize(("query", "message"), BAD_PERIODS)
@pytest.mark.parametrize("url", EXPORT_URLS)
def test_downloads_refuse_a_bad_period(
    session: Session,
    client: Any,
    login: Any,
    pcws: tuple[User, User],
    url: str,
    query: str,
    message: str,
) -> None:
    add_submission(session, pcws[0], ANA)
    login(factories.user(session, Role.coordinator))
    response = client.get(f"{url}?{query}")
    assert response.status_code == 422
    assert "attachment" not in response.headers.get("content-disposition", "")
    assert message in response.text
    assert exported(session) == []  # nothing was downloaded, so nothing is recorded


def test_the_exports_page_says_which_files_hold_names(
    session: Session, client: Any, login: Any, pcws: tuple[User, User]
) -> None:
    sub = add_submission(session, pcws[0], ANA)
    login(factories.user(session, Role.coordinator))
    page = parse(client.get("/dashboard/exports").text)
    intro = page.one("h1 + p").text()
    assert "The Excel workbooks and CSV files leave out names, phone numbers" in intro
    notice = page.by_id("fhir-identifies").text()
    assert "NDJSON, and one file per submission" in notice
    assert "names, phone numbers and dates of birth included" in notice
    for href in (
        "/dashboard/exports/barrier_assessment/fhir.ndjson",
        f"/dashboard/submissions/{sub.instance_id}/fhir.json",
    ):
        link = page.one(f'a[href="{href}"]')
        assert link.get("aria-describedby") == "fhir-identifies"
    # and so they do: the FHIR files name the person, the spreadsheets do not
    for href in (
        "/dashboard/exports/barrier_assessment/fhir.ndjson",
        f"/dashboard/submissions/{sub.instance_id}/fhir.json",
    ):
        fhir_text = client.get(href).content.decode("utf-8")
        assert "Ana Faleolo" in fhir_text and "1984-03-09" in fhir_text
    with zipfile.ZipFile(
        io.BytesIO(client.get("/dashboard/exports/barrier_assessment/csv.zip").content)
    ) as zf:
        everything = "".join(zf.read(n).decode("utf-8-sig") for n in zf.namelist())
    assert sub.instance_id in everything
    assert "Ana Faleolo" not in everything and "1984-03-09" not in everything


def test_csv_and_xlsx_downloads(
    session: Session, client: Any, login: Any, pcws: tuple[User, User]
) -> None:
    sub = add_submission(session, pcws[0], ANA)
    coordinator = factories.user(session, Role.coordinator)
    login(coordinator)
    zipped = client.get("/dashboard/exports/barrier_assessment/csv.zip")
    assert zipped.status_code == 200
    assert zipped.headers["content-type"] == "application/zip"
    assert zipped.headers["content-disposition"].startswith(
        'attachment; filename="barrier_assessment-'
    )
    assert zipped.headers["cache-control"] == "no-store"
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as zf:
        assert sub.instance_id in zf.read("barrier_assessment.csv").decode("utf-8-sig")
    one = client.get("/dashboard/exports/barrier_assessment/tables/household_members.csv")
    assert one.status_code == 200
    assert one.content.decode("utf-8-sig").splitlines()[0].startswith("instance_id,row,")
    main = client.get("/dashboard/exports/barrier_assessment/tables/main.csv")
    assert main.content.decode("utf-8-sig").startswith("instance_id,submitted_at")
    assert client.get("/dashboard/exports/barrier_assessment/tables/nope.csv").status_code == 404
    book = client.get("/dashboard/exports/barrier_assessment/xlsx?since=2000-01-01")
    wb = load_workbook(io.BytesIO(book.content), read_only=True)
    assert wb.sheetnames == ["barrier_assessment", "household_members", "codebook"]
    wb.close()
    book = client.get("/dashboard/exports/barrier_assessment/tables/codebook.csv")
    assert book.content.decode("utf-8-sig").startswith("table,column,type,label,choices")
    events = exported(session)
    assert [json.loads(e.detail)["format"] for e in events] == [
        "csv",
        "csv:household_members",
        "csv:main",
        "xlsx",
        "csv:codebook",
    ]
    assert {e.actor_id for e in events} == {coordinator.id}
    assert client.get("/dashboard/exports/no_such_form/xlsx").status_code == 404


def test_fhir_downloads_validate_and_viewing_a_response_is_audited(
    session: Session, client: Any, login: Any, pcws: tuple[User, User]
) -> None:
    sub = add_submission(session, pcws[0], ANA)
    admin = factories.user(session, Role.admin)
    login(admin)
    q = client.get("/dashboard/exports/barrier_assessment/questionnaire.json")
    assert q.status_code == 200
    assert q.headers["content-type"].startswith("application/fhir+json")
    questionnaire = q.json()
    assert questionnaire_problems(questionnaire) == []
    assert questionnaire["url"] == "http://testserver/fhir/Questionnaire/barrier-assessment"
    r = client.get(f"/dashboard/submissions/{sub.instance_id}/fhir.json")
    assert r.status_code == 200
    response = r.json()
    assert response_problems(response, questionnaire) == []
    assert response["questionnaire"] == questionnaire["url"] + "|1"
    viewed = session.exec(
        select(AuditEvent).where(
            AuditEvent.action == "viewed", AuditEvent.entity == "form_submission"
        )
    ).all()
    assert [(e.actor_id, e.entity_id) for e in viewed] == [(admin.id, str(sub.id))]
    assert client.get("/dashboard/submissions/not-there/fhir.json").status_code == 404


def test_demo_assessments_load_once_and_fill_the_dashboard(session: Session) -> None:
    from assistant.forms.models import FormSubmission
    from assistant.forms.reporting.dashboard_demo import COUNT, load_demo_assessments
    from assistant.pcw.models import FollowUpTask

    factories.user(session, Role.pcw)
    load_demo_assessments(session)
    tasks_once = len(session.exec(select(FollowUpTask)).all())
    load_demo_assessments(session)
    assert len(session.exec(select(FormSubmission)).all()) == COUNT
    assert len(session.exec(select(FollowUpTask)).all()) == tasks_once > 0
    board = build_dashboard(session, weeks=26)
    assert board.total == COUNT
    assert board.barriers and board.open_follow_ups == tasks_once
