"""Exports: CSV (zip of one file per table) and XLSX (a sheet per table), linked by instance_id."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel import Session

from assistant.forms.engine.definition import FormDefinition, load_form, parse_definition
from assistant.forms.models import FormSubmission
from assistant.forms.reporting.exports import (
    META_COLUMNS,
    build_tables,
    codebook,
    csv_zip,
    export_csv,
    export_xlsx,
    submissions_for,
    table_csv,
    workbook_bytes,
)
from assistant.people.models import Role, User
from assistant.periods import BadPeriod, parse_period
from tests import factories
from tests.forms_data import ANA, NO_CONSENT, add_submission


@pytest.fixture
def form() -> FormDefinition:
    return load_form("barrier_assessment")


@pytest.fixture
def pcw(session: Session) -> User:
    return factories.user(session, Role.pcw)


def test_main_table_has_one_row_per_submission(
    session: Session, form: FormDefinition, pcw: User
) -> None:
    a = add_submission(session, pcw, ANA, lang="sm")
    b = add_submission(session, pcw, NO_CONSENT, created_at=datetime(2026, 11, 3, tzinfo=UTC))
    main, members = build_tables(form, submissions_for(session, form_id=form.id))
    assert main.headers[: len(META_COLUMNS)] == list(META_COLUMNS)
    assert [row[0] for row in main.rows] == [a.instance_id, b.instance_id]
    row = dict(zip(main.headers, main.rows[0], strict=True))
    assert row["submitted_at"] == "2026-11-02T23:00:00Z"
    assert row["lang"] == "sm"
    assert row["agency_id"] == pcw.agency_id
    assert row["consent"] == "yes"
    assert row["barriers"] == "cost transport other"
    assert row["housing"] == "cold_damp overcrowded"
    assert row["interpreter_needed"] == "yes"
    assert row["follow_up_date"] == "2026-11-20"
    assert row["household_size"] == 3  # calculated: two members plus the person
    assert row["children_13_and_under"] == 1
    # without consent nothing but the consent answer is exported
    empty = dict(zip(main.headers, main.rows[1], strict=True))
    assert empty["consent"] == "no"
    assert all(empty[f] is None for f in main.headers[len(META_COLUMNS) :])
    assert members.name == "household_members"


def test_personal_fields_are_left_out_unless_asked(
    session: Session, form: FormDefinition, pcw: User
) -> None:
    add_submission(session, pcw, ANA)
    subs = submissions_for(session, form_id=form.id)
    personal = {f.name for f in form.fields.values() if f.personal}
    assert personal, "the barrier form marks names and phone numbers as personal"
    main, members = build_tables(form, subs)
    assert not personal & set(main.headers)
    assert not personal & set(members.headers)
    flat = json.dumps(main.rows + members.rows)
    assert "Ana Faleolo" not in flat and "Losa" not in flat
    main_all, members_all = build_tables(form, subs, include_personal=True)
    assert "person_name" in main_all.headers
    assert "member_name" in members_all.headers


def test_repeat_rows_link_back_by_instance_id(
    session: Session, form: FormDefinition, pcw: User
) -> None:
    sub = add_submission(session, pcw, ANA)
    _main, members = build_tables(form, [sub])
    assert members.headers[:2] == ["instance_id", "row"]
    rows = [dict(zip(members.headers, r, strict=True)) for r in members.rows]
    assert [(r["instance_id"], r["row"], r["member_age"]) for r in rows] == [
        (sub.instance_id, 1, 8),
        (sub.instance_id, 2, 15),
    ]
    assert [r["member_is_child"] for r in rows] == [1, 0]


def test_spreadsheet_formulas_are_neutralised(
    session: Session, form: FormDefinition, pcw: User
) -> None:
    sub = add_submission(session, pcw, ANA)
    main, _members = build_tables(form, [sub])
    row = dict(zip(main.headers, main.rows[0], strict=True))
    assert row["barriers_other"] == '\'=HYPERLINK("http://evil.example")'


def test_csv_zip_holds_one_file_per_table(
    session: Session, form: FormDefinition, pcw: User
) -> None:
    sub = add_submission(session, pcw, ANA)
    data = export_csv(session, form=form)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.namelist() == [
            "barrier_assessment.csv",
            "barrier_assessment-household_members.csv",
            "barrier_assessment-codebook.csv",
        ]
        book = list(
            csv.DictReader(
                io.StringIO(zf.read("barrier_assessment-codebook.csv").decode("utf-8-sig"))
            )
        )
        main_text = zf.read("barrier_assessment.csv").decode("utf-8-sig")
        members_text = zf.read("barrier_assessment-household_members.csv").decode("utf-8-sig")
    main_rows = list(csv.DictReader(io.StringIO(main_text)))
    assert len(main_rows) == 1
    assert main_rows[0]["instance_id"] == sub.instance_id
    assert main_rows[0]["notes"] == "Prefers a call after 3pm; whānau meeting on Sunday"
    assert main_rows[0]["practice_id"] == ""
    member_rows = list(csv.DictReader(io.StringIO(members_text)))
    assert {r["instance_id"] for r in member_rows} == {sub.instance_id}
    # the codebook explains every form column and its codes
    by_column = {(r["table"], r["column"]): r for r in book}
    assert by_column[("barrier_assessment", "barriers")]["type"] == "select_multiple"
    assert "transport = Transport" in by_column[("barrier_assessment", "barriers")]["choices"]
    assert ("household_members", "member_age") in by_column
    assert ("barrier_assessment", "person_name") not in by_column  # left out, so not explained


def test_codebook_in_another_language(form: FormDefinition) -> None:
    tables = build_tables(form, [])
    book = codebook(form, tables, lang="sm")
    row = next(r for r in book.rows if r[1] == "barriers")
    assert row[3] == form.fields["barriers"].label_text("sm")
    assert f"cost = {form.fields['barriers'].choice('cost').text('sm')}" in row[4]  # type: ignore[union-attr]


def test_csv_starts_with_a_byte_order_mark_for_spreadsheets(
    session: Session, form: FormDefinition, pcw: User
) -> None:
    add_submission(session, pcw, ANA)
    main, _ = build_tables(form, submissions_for(session, form_id=form.id))
    assert table_csv(main).startswith(b"\xef\xbb\xbfinstance_id,")


def test_xlsx_has_a_main_sheet_and_one_per_repeat(
    session: Session, form: FormDefinition, pcw: User
) -> None:
    sub = add_submission(session, pcw, ANA)
    add_submission(session, pcw, NO_CONSENT)
    wb = load_workbook(io.BytesIO(export_xlsx(session, form=form)), read_only=True)
    assert wb.sheetnames == ["barrier_assessment", "household_members", "codebook"]
    main = list(wb["barrier_assessment"].iter_rows(values_only=True))
    assert main[0][: len(META_COLUMNS)] == META_COLUMNS
    assert len(main) == 3
    headers = list(main[0])
    assert main[1][headers.index("household_size")] == 3  # a number, not text
    assert main[1][headers.index("barriers_other")].startswith("'=")
    members = list(wb["household_members"].iter_rows(values_only=True))
    assert [r[0] for r in members[1:]] == [sub.instance_id, sub.instance_id]
    wb.close()


def test_date_range_filters_submissions(session: Session, form: FormDefinition, pcw: User) -> None:
    add_submission(session, pcw, ANA, created_at=datetime(2026, 10, 1, tzinfo=UTC))
    mid = add_submission(session, pcw, ANA, created_at=datetime(2026, 10, 15, 12, tzinfo=UTC))
    add_submission(session, pcw, ANA, created_at=datetime(2026, 11, 1, tzinfo=UTC))
    add_submission(session, pcw, {"provider": "hospital_ed"}, form_id="flag_problem")
    got = submissions_for(
        session, form_id=form.id, since=date(2026, 10, 10), until=date(2026, 10, 15)
    )
    assert [s.instance_id for s in got] == [mid.instance_id]
    assert len(submissions_for(session, form_id=form.id)) == 3


def test_empty_export_still_has_headers(form: FormDefinition) -> None:
    tables = build_tables(form, [])
    data = csv_zip(tables, form=form)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        text = zf.read("barrier_assessment.csv").decode("utf-8-sig")
    assert text.startswith("instance_id,submitted_at")
    wb = load_workbook(io.BytesIO(workbook_bytes(tables)), read_only=True)
    assert len(list(wb["household_members"].iter_rows(values_only=True))) == 1
    wb.close()


def test_long_and_odd_sheet_names_are_made_safe() -> None:
    from assistant.forms.reporting.exports import Table

    tables = [
        Table("a_very_long_form_identifier_that_overflows", ["x"]),
        Table("a_very_long_form_identifier_that_overflows_too", ["y"]),
        Table("what?/[odd]", ["z"]),
    ]
    wb = load_workbook(io.BytesIO(workbook_bytes(tables)), read_only=True)
    assert wb.sheetnames == [
        "a_very_long_form_identifier_tha",
        "a_very_long_form_identifier_t_2",
        "what___odd_",
    ]
    wb.close()


# --- the consent answer once; names beside the ids ------------------------------------------


def _csv_tables(data: bytes) -> dict[str, list[list[str]]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {
            name: list(csv.reader(io.StringIO(zf.read(name).decode("utf-8-sig"))))
            for name in zf.namelist()
        }


def test_consent_is_one_column_in_csv_xlsx_and_codebook(
    session: Session, form: FormDefinition, pcw: User
) -> None:
    add_submission(session, pcw, ANA)
    add_submission(session, pcw, NO_CONSENT, created_at=datetime(2026, 11, 3, tzinfo=UTC))
    files = _csv_tables(export_csv(session, form=form))
    header, *rows = files["barrier_assessment.csv"]
    assert header.count("consent") == 1
    assert [row[header.index("consent")] for row in rows] == ["yes", "no"]
    book = files["barrier_assessment-codebook.csv"]
    assert [r[:3] for r in book if r[1] == "consent"] == [
        ["barrier_assessment", "consent", "yes_no"]
    ]
    wb = load_workbook(io.BytesIO(export_xlsx(session, form=form)), read_only=True)
    sheet_header = next(wb["barrier_assessment"].iter_rows(values_only=True))
    assert sheet_header.count("consent") == 1
    codebook_columns = [r[1] for r in wb["codebook"].iter_rows(values_only=True)]
    assert codebook_columns.count("consent") == 1
    wb.close()


def test_names_stand_beside_the_ids(session: Session, form: FormDefinition) -> None:
    trust = factories.agency(session, name="Pacific Trust")
    tala = factories.user(session, Role.pcw, name="Tala Fiso", agency_id=trust.id)
    clinic = factories.practice(session, name="Riccarton Clinic")
    nurse = factories.user(session, Role.practice_staff, name="Nurse Ngaio", practice_id=clinic.id)
    add_submission(session, tala, ANA)
    add_submission(session, nurse, {"provider": "hospital_ed"}, form_id="flag_problem")

    header, row = _csv_tables(export_csv(session, form=form))["barrier_assessment.csv"]
    for name in ("submitted_by", "agency", "practice"):
        # each name column comes straight after its id column
        assert header.index(f"{name}_name") == header.index(f"{name}_id") + 1
    cells = dict(zip(header, row, strict=True))
    assert (cells["submitted_by_id"], cells["submitted_by_name"]) == (str(tala.id), "Tala Fiso")
    assert (cells["agency_id"], cells["agency_name"]) == (str(trust.id), "Pacific Trust")
    assert (cells["practice_id"], cells["practice_name"]) == ("", "")

    flag = load_form("flag_problem")
    wb = load_workbook(io.BytesIO(export_xlsx(session, form=flag)))
    head, values = list(wb["flag_problem"].iter_rows(values_only=True))
    cells_x = dict(zip(head, values, strict=True))
    assert cells_x["submitted_by_name"] == "Nurse Ngaio"
    assert (cells_x["practice_id"], cells_x["practice_name"]) == (clinic.id, "Riccarton Clinic")
    assert cells_x["agency_name"] is None
    wb.close()


def test_names_that_look_like_formulas_are_neutralised(
    session: Session, form: FormDefinition
) -> None:
    sneaky = factories.user(session, Role.pcw, name="=cmd|' /C calc'!A0")
    add_submission(session, sneaky, ANA)
    header, row = _csv_tables(export_csv(session, form=form))["barrier_assessment.csv"]
    assert row[header.index("submitted_by_name")] == "'=cmd|' /C calc'!A0"


def test_codebook_explains_every_column_of_every_table(
    session: Session, form: FormDefinition, pcw: User
) -> None:
    add_submission(session, pcw, ANA)
    files = _csv_tables(export_csv(session, form=form))
    book = {(r[0], r[1]): r for r in files["barrier_assessment-codebook.csv"][1:]}
    for table, name in (
        ("barrier_assessment", "barrier_assessment.csv"),
        ("household_members", "barrier_assessment-household_members.csv"),
    ):
        header = files[name][0]
        assert [c for c in header if (table, c) not in book] == []
    assert (
        book[("barrier_assessment", "agency_name")][3] == "The agency the form was sent for (name)."
    )
    assert "sm = Gagana Sāmoa" in book[("barrier_assessment", "lang")][4]
    consent_question = form.fields["consent"].label_text("en")
    assert book[("barrier_assessment", "consent")][3] == consent_question


# --- one column per name: a question never shares a built-in column's name -----------------


def test_the_practice_asked_about_is_not_the_practice_sent_for(
    session: Session, form: FormDefinition
) -> None:
    """The barrier form asks "Which practice?" in a question named ``practice_name``; the
    export's own ``practice_name`` is the practice the form was sent for."""
    clinic = factories.practice(session, name="Riccarton Clinic")
    sender = factories.user(session, Role.pcw, practice_id=clinic.id)
    add_submission(
        session,
        sender,
        ANA | {"enrolment_status": "enrolled_seen", "practice_name": "Hornby Health"},
    )
    files = _csv_tables(export_csv(session, form=form))
    header, row = files["barrier_assessment.csv"]
    assert len(header) == len({c.lower() for c in header})
    cells = dict(zip(header, row, strict=True))
    assert cells["practice_name"] == "Riccarton Clinic"
    assert cells["practice_name_answer"] == "Hornby Health"
    book = {(r[0], r[1]): r for r in files["barrier_assessment-codebook.csv"][1:]}
    assert book[("barrier_assessment", "practice_name")][3] == (
        "The practice the form was sent for (name)."
    )
    assert book[("barrier_assessment", "practice_name_answer")][2:4] == ["text", "Which practice?"]
    assert len(files["barrier_assessment-codebook.csv"][1:]) == len(book)  # each column once

    wb = load_workbook(io.BytesIO(export_xlsx(session, form=form)), read_only=True)
    sheet_header, sheet_row = list(wb["barrier_assessment"].iter_rows(values_only=True))
    assert sheet_header.count("practice_name") == 1
    assert sheet_row[sheet_header.index("practice_name_answer")] == "Hornby Health"
    wb.close()


CLASHING_FORM: dict[str, Any] = {
    "id": "clashing",
    "version": "1",
    "title": {"en": "Clashing"},
    "consent_field": "agreed",
    "pages": [
        {
            "name": "only",
            "title": {"en": "Only"},
            "fields": [
                {"name": "agreed", "type": "yes_no", "label": {"en": "Agreed?"}},
                {"name": "Lang", "type": "text", "label": {"en": "Language at home"}},
                {"name": "lang_answer", "type": "text", "label": {"en": "Answer in full"}},
                {"name": "consent", "type": "yes_no", "label": {"en": "Photos allowed?"}},
                {"name": "weight", "type": "decimal", "label": {"en": "Weight"}},
                {
                    "name": "visits",
                    "type": "repeat",
                    "label": {"en": "Visits"},
                    "fields": [
                        {"name": "row", "type": "integer", "label": {"en": "Room number"}},
                        {"name": "instance_id", "type": "text", "label": {"en": "Visit id"}},
                    ],
                },
            ],
        }
    ],
}


def test_any_question_named_like_a_built_in_column_gets_its_own_column() -> None:
    form = parse_definition(CLASHING_FORM, Path("clashing.yaml"))
    answers = {
        "agreed": "yes",
        "Lang": "Tongan",
        "lang_answer": "Mostly Tongan",
        "consent": "no",
        "weight": "70.5",
        "visits": [{"row": 12, "instance_id": "v-1"}],
    }
    sub = FormSubmission(
        instance_id="sub-1",
        form_id=form.id,
        form_version="1",
        lang="to",
        answers=json.dumps(answers),
        content_hash="x",
        submitted_by_id=1,
        consent=True,
        created_at=datetime(2026, 11, 2, tzinfo=UTC),
    )
    main, visits = build_tables(form, [sub])
    # the built-in columns keep their names; a free name (weight, lang_answer) is kept too
    assert main.headers == [
        *META_COLUMNS,
        "Lang_answer_2",
        "lang_answer",
        "consent_answer",
        "weight",
    ]
    cells = dict(zip(main.headers, main.rows[0], strict=True))
    assert (cells["lang"], cells["Lang_answer_2"], cells["lang_answer"]) == (
        "to",
        "Tongan",
        "Mostly Tongan",
    )
    assert (cells["consent"], cells["consent_answer"]) == ("yes", "no")
    assert visits.headers == ["instance_id", "row", "row_answer", "instance_id_answer"]
    assert visits.rows == [["sub-1", 1, 12, "v-1"]]
    # the same names whatever the data: an export with no rows has them too
    assert [t.headers for t in build_tables(form, [])] == [main.headers, visits.headers]

    labels = {(r[0], r[1]): r[3] for r in codebook(form, [main, visits]).rows}
    assert labels[("clashing", "lang")] == "The language the form was filled in."
    assert labels[("clashing", "Lang_answer_2")] == "Language at home"
    assert labels[("clashing", "consent")] == "Agreed?"
    assert labels[("clashing", "consent_answer")] == "Photos allowed?"
    assert labels[("visits", "row")] == "The row's number within its submission."
    assert labels[("visits", "row_answer")] == "Room number"
    assert labels[("visits", "instance_id_answer")] == "Visit id"


# --- the period to export ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("since", "until", "period"),
    [
        (None, None, (None, None)),
        ("", " ", (None, None)),
        ("2026-10-01", None, (date(2026, 10, 1), None)),
        (None, "2026-10-31", (None, date(2026, 10, 31))),
        (" 2026-10-01 ", "2026-10-01", (date(2026, 10, 1), date(2026, 10, 1))),
    ],
)
def test_a_period_may_be_open_at_either_end(
    since: str | None, until: str | None, period: tuple[date | None, date | None]
) -> None:
    assert parse_period(since=since, until=until) == period


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        ("2026-12-31", "2026-01-01", "The start date is after the end date."),
        ("2026-13-01", None, "Enter dates as year-month-day, for example 2026-11-24."),
        (None, "31/12/2026", "Enter dates as year-month-day, for example 2026-11-24."),
        ("1900-01-01", None, "Choose dates between 2000-01-01 and 2100-12-31."),
    ],
)
def test_a_bad_period_is_refused(since: str | None, until: str | None, message: str) -> None:
    with pytest.raises(BadPeriod) as caught:
        parse_period(since=since, until=until)
    assert caught.value.message == message
