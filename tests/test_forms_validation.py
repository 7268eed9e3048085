"""Validating answers page by page: types, relevance, required, constraints, repeats."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from assistant.forms.engine import validation as v
from assistant.forms.engine.definition import load_form, parse_definition

TODAY = date(2026, 11, 22)


@pytest.fixture
def barrier():  # type: ignore[no-untyped-def]
    return load_form("barrier_assessment")


@pytest.fixture
def flag():  # type: ignore[no-untyped-def]
    return load_form("flag_problem")


@pytest.mark.parametrize(
    ("field", "raw", "typed", "error"),
    [
        ("staff_minutes", "45", 45, None),
        ("staff_minutes", " 7 ", 7, None),
        ("staff_minutes", "4.5", "4.5", "Enter a whole number."),
        ("staff_minutes", "lots", "lots", "Enter a whole number."),
        ("event_date", "2026-11-01", "2026-11-01", None),
        ("event_date", "31/02/2026", "31/02/2026", "Enter a date."),
        ("provider", "hospital_ed", "hospital_ed", None),
        ("provider", "zoo", "zoo", "Choose one of the options."),
        ("work_type", ["tests", "referrals"], ["tests", "referrals"], None),
        ("work_type", ["referrals", "tests", "tests"], ["tests", "referrals"], None),
        ("work_type", ["tests", "zoo"], ["tests", "zoo"], "Choose from the options."),
        ("funding_offered", "yes", "yes", None),
        ("funding_offered", True, True, "Please give a valid answer."),
    ],
)
def test_types(flag: Any, field: str, raw: Any, typed: Any, error: str | None) -> None:
    answers, errors = v.normalise(flag, {field: raw}, "en")
    assert answers[field] == typed
    assert errors.get(field) == error


def test_phone_numbers_become_e164(barrier: Any) -> None:
    answers, errors = v.normalise(barrier, {"phone": "021 123 4567"}, "en")
    assert errors == {}
    assert answers["phone"] == "+64211234567"
    _answers, errors = v.normalise(barrier, {"phone": "12"}, "en")
    assert "phone" in errors


PHONE_ERROR = "Enter a phone number, like 021 123 4567."


@pytest.mark.parametrize(
    ("raw", "stored", "error"),
    [
        ("021 123 4567", "+64211234567", None),
        ("027-555-0100", "+64275550100", None),
        ("03 348 1000", "+6433481000", None),  # a landline: a household's number may be one
        ("0800 123 456", "+64800123456", None),
        ("+61 412 345 678", "+61412345678", None),  # family across the Tasman
        ("12345", "12345", PHONE_ERROR),  # was stored as "+6412345"
        ("09 123", "09 123", PHONE_ERROR),  # an Auckland number cut short
        ("021 12", "021 12", PHONE_ERROR),
        ("+64 99 999 9999", "+64 99 999 9999", PHONE_ERROR),  # no such area code
    ],
)
def test_a_phone_answer_must_be_a_real_number(
    barrier: Any, raw: str, stored: str, error: str | None
) -> None:
    answers, errors = v.normalise(barrier, {"phone": raw}, "en")
    assert errors.get("phone") == error
    assert answers["phone"] == stored
    person = next(p for p in barrier.pages if p.name == "person")
    page_errors = v.validate_page(barrier, person, {"consent": "yes", "phone": raw}, "en")
    assert page_errors.get("phone") == error


DOB_ERROR = (
    "The date of birth cannot be in the future, and the person cannot be over 120 years old."
)


@pytest.mark.parametrize(
    ("born", "error"),
    [
        ("1984-03-09", None),
        ("2026-11-22", None),  # born today
        ("1906-11-22", None),  # 120 today
        ("1906-11-23", None),
        ("2026-11-23", DOB_ERROR),  # tomorrow
        ("1905-11-22", DOB_ERROR),  # 121 today
        ("1800-01-01", DOB_ERROR),  # would be 226
        ("0001-01-01", DOB_ERROR),
    ],
)
def test_a_date_of_birth_is_neither_in_the_future_nor_implausibly_old(
    barrier: Any, born: str, error: str | None
) -> None:
    person = next(p for p in barrier.pages if p.name == "person")
    answers = {"consent": "yes", "date_of_birth": born}
    assert v.validate_page(barrier, person, answers, "en", today=TODAY).get("date_of_birth") == (
        error
    )


def test_an_implausible_date_of_birth_is_explained_in_the_forms_language(barrier: Any) -> None:
    person = next(p for p in barrier.pages if p.name == "person")
    answers = {"consent": "yes", "date_of_birth": "1800-01-01"}
    errors = v.validate_page(barrier, person, answers, "sm", today=TODAY)
    assert errors["date_of_birth"] == barrier.fields["date_of_birth"].message_text("sm")
    assert "120" in errors["date_of_birth"] and errors["date_of_birth"] != DOB_ERROR
    # The day decides: the same date of birth is fine the day before the person turns 121.
    old = {"consent": "yes", "date_of_birth": "1905-11-23"}
    assert "date_of_birth" not in v.validate_page(barrier, person, old, "en", today=TODAY)
    later = v.validate_page(barrier, person, old, "en", today=date(2026, 11, 23))
    assert later["date_of_birth"] == DOB_ERROR


def test_unknown_question_is_an_error(flag: Any) -> None:
    _answers, errors = v.normalise(flag, {"shoe_size": "9"}, "en")
    assert errors == {"shoe_size": "This question is not part of the form."}


@pytest.mark.parametrize(
    ("answers", "relevant", "not_relevant"),
    [
        ({"consent": "no"}, [], ["person_name", "household_members", "follow_up_date"]),
        ({"consent": "yes"}, ["person_name", "follow_up_date"], ["no_consent_note"]),
        ({"consent": "yes", "enrolment_status": "not_enrolled"}, [], ["practice_name"]),
        ({"consent": "yes", "enrolment_status": "enrolled_seen"}, ["practice_name"], []),
        ({"consent": "yes", "housing": ["cold_damp"]}, [], ["housing_other"]),
        ({"consent": "yes", "housing": ["cold_damp", "other"]}, ["housing_other"], []),
        ({"consent": "yes", "feels_safe": "no"}, ["safety_note"], []),
    ],
)
def test_relevance(
    barrier: Any, answers: dict[str, Any], relevant: list[str], not_relevant: list[str]
) -> None:
    state = v.evaluate_state(barrier, answers, today=TODAY)
    for name in relevant:
        assert state.is_relevant(barrier.fields[name]), name
    for name in not_relevant:
        assert not state.is_relevant(barrier.fields[name]), name


def test_required_on_a_page_in_the_forms_language(barrier: Any) -> None:
    page = barrier.pages[0]
    assert v.validate_page(barrier, page, {}, "en", today=TODAY) == {
        "consent": "This question needs an answer."
    }
    errors = v.validate_page(barrier, page, {}, "sm", today=TODAY)
    assert errors["consent"] != "This question needs an answer."


def test_constraint_message_comes_from_the_form_in_its_language(flag: Any) -> None:
    page = flag.pages[0]
    answers = {"provider": "hospital_ed", "work_type": ["tests"], "event_date": "2027-01-01"}
    errors = v.validate_page(flag, page, answers, "en", today=TODAY)
    assert errors == {"event_date": "The date cannot be in the future."}
    errors = v.validate_page(flag, page, answers, "ar", today=TODAY)
    assert errors["event_date"] == flag.fields["event_date"].message_text("ar")
    assert errors["event_date"] != "The date cannot be in the future."


def test_other_please_say_is_required_when_other_is_chosen(flag: Any) -> None:
    answers = {"provider": "other", "work_type": ["tests"], "event_date": "2026-11-01"}
    errors = v.validate_page(flag, flag.pages[0], answers, "en", today=TODAY)
    assert errors == {"provider_other": "This question needs an answer."}


def test_repeat_rows_are_checked_one_by_one(barrier: Any) -> None:
    rows = [
        {
            "member_name": "A",
            "member_relationship": "child",
            "member_age": 4,
            "member_enrolled": "yes",
        },
        {"member_name": "B", "member_relationship": "parent", "member_age": 130},
    ]
    answers = {"consent": "yes", "household_members": rows}
    page = barrier.pages[barrier.page_index("household")]
    errors = v.validate_page(barrier, page, answers, "en", today=TODAY)
    assert errors == {
        "household_members.1.member_age": "Enter an age from 0 to 120.",
        "household_members.1.member_enrolled": "This question needs an answer.",
    }


def test_calculations_and_what_is_stored(barrier: Any) -> None:
    rows = [
        {"member_name": "A", "member_relationship": "child", "member_age": 4},
        {"member_name": "B", "member_relationship": "child", "member_age": 13},
        {"member_name": "C", "member_relationship": "partner", "member_age": 40},
    ]
    answers = {
        "consent": "yes",
        "person_name": "Sina",
        "date_of_birth": "1990-11-23",
        "household_members": rows,
    }
    stored = v.final_answers(barrier, answers, today=TODAY)
    assert stored["age_years"] == 35
    assert stored["household_size"] == 4
    assert stored["children_13_and_under"] == 2
    assert stored["household_members"][0]["member_is_child"] == 1


def test_without_consent_nothing_personal_is_stored(barrier: Any) -> None:
    answers = {"consent": "no", "person_name": "Sina", "phone": "+64211234567"}
    assert v.validate_all(barrier, answers, "en", today=TODAY) == {}
    assert v.final_answers(barrier, answers, today=TODAY) == {"consent": "no"}
    assert not v.consent_given(barrier, {"consent": "no"})


ENGLISH_RANGE = "Enter a whole number from -2,147,483,648 to 2,147,483,647."


@pytest.mark.parametrize("raw", [2**31 - 1, -(2**31), 2147483647.0, "999999999"])
def test_whole_numbers_within_32_bits_are_taken(flag: Any, raw: Any) -> None:
    answers, errors = v.normalise(flag, {"staff_minutes": raw}, "en")
    assert errors == {}
    assert answers["staff_minutes"] == int(raw)


@pytest.mark.parametrize("raw", [2**31, -(2**31) - 1, 10**30, 1e12, -1e300])
def test_whole_numbers_beyond_32_bits_are_refused_in_the_forms_language(
    flag: Any, raw: Any
) -> None:
    _answers, errors = v.normalise(flag, {"staff_minutes": raw}, "en")
    assert errors == {"staff_minutes": ENGLISH_RANGE}
    _answers, samoan = v.normalise(flag, {"staff_minutes": raw}, "sm")
    assert samoan == {
        "staff_minutes": "Tusi se numera atoa mai le -2,147,483,648 i le 2,147,483,647."
    }
    whole = {"provider": "hospital_ed", "work_type": ["tests"], "event_date": "2026-11-01"}
    errors = v.validate_all(flag, whole | {"staff_minutes": raw}, "en", today=TODAY)
    assert errors.get("staff_minutes") == ENGLISH_RANGE


def test_a_huge_whole_number_in_a_repeat_row_is_refused_for_that_row(barrier: Any) -> None:
    rows = [
        {"member_name": "A", "member_relationship": "child", "member_age": 4},
        {"member_name": "B", "member_relationship": "child", "member_age": 10**20},
    ]
    _answers, errors = v.normalise(barrier, {"household_members": rows}, "en")
    assert errors == {"household_members.1.member_age": ENGLISH_RANGE}


RENT_FORM = {
    "id": "rent_form",
    "version": "1",
    "title": {"en": "Rent"},
    "pages": [
        {
            "name": "only",
            "title": {"en": "Only"},
            "fields": [{"name": "rent", "type": "decimal", "label": {"en": "Weekly rent"}}],
        }
    ],
}


@pytest.mark.parametrize("raw", [412.5, 0, "412,50", " 99.9 "])
def test_decimals_are_taken(raw: Any) -> None:
    form = parse_definition(RENT_FORM, Path("rent_form.yaml"))
    answers, errors = v.normalise(form, {"rent": raw}, "en")
    assert errors == {}
    assert answers["rent"] == float(str(raw).strip().replace(",", "."))


@pytest.mark.parametrize(
    "raw", [float("nan"), float("inf"), float("-inf"), "NaN", "Infinity", "1e400", 10**400]
)
def test_a_decimal_that_is_not_a_finite_number_is_refused(raw: Any) -> None:
    """JSON parsers let NaN and Infinity through; nobody's rent is either."""
    form = parse_definition(RENT_FORM, Path("rent_form.yaml"))
    _answers, errors = v.normalise(form, {"rent": raw}, "en")
    assert errors == {"rent": "Enter a number."}
