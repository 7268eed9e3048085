"""Loading the form definitions shipped in forms/."""

from __future__ import annotations

import pytest

from assistant.forms.engine.definition import (
    FormNotFound,
    all_forms,
    load_form,
    translate,
)
from assistant.i18n import LANGUAGES


def test_both_forms_ship_with_a_version_and_pages() -> None:
    ids = {form.id for form in all_forms()}
    assert {"barrier_assessment", "flag_problem"} <= ids
    for form in all_forms():
        assert form.version
        assert form.pages
        assert form.title_text("en")


def test_barrier_assessment_starts_with_consent_and_covers_the_domains() -> None:
    form = load_form("barrier_assessment")
    first = form.pages[0]
    assert form.consent_field == "consent"
    assert [f.name for f in first.fields if f.is_input] == ["consent"]
    # every later page is skipped without consent
    assert all(p.relevant == "${consent} != 'no'" for p in form.pages[1:])
    for name in (
        "enrolment_status",
        "cost_difficulty",
        "transport_barrier",
        "interpreter_needed",
        "lonely",
        "housing",
        "food_worry",
        "feels_safe",
        "knows_how_to_enrol",
        "phone_access",
        "internet_access",
        "household_members",
        "barriers",
        "actions",
        "follow_up_date",
    ):
        assert name in form.fields, name


def test_repeat_group_holds_household_members() -> None:
    form = load_form("barrier_assessment")
    members = form.fields["household_members"]
    assert members.is_repeat
    assert {c.name for c in members.children} >= {"member_name", "member_age"}
    assert form.fields["member_age"].parent == "household_members"


def test_select_with_other_gets_a_companion_text_question() -> None:
    form = load_form("barrier_assessment")
    housing = form.fields["housing"]
    assert "other" in housing.choice_values()
    companion = form.fields["housing_other"]
    assert companion.type == "text"
    assert companion.relevant == "selected(${housing}, 'other')"


def test_yes_no_answers_are_translated_in_every_language() -> None:
    consent = load_form("barrier_assessment").fields["consent"]
    labels = {lang: consent.choice("yes").text(lang) for lang in LANGUAGES}  # type: ignore[union-attr]
    assert labels["en"] == "Yes"
    assert len(set(labels.values())) > 3


def test_missing_translation_falls_back_to_english() -> None:
    assert translate({"en": "Hello", "sm": "Talofa"}, "sm") == "Talofa"
    assert translate({"en": "Hello"}, "ar") == "Hello"
    assert translate({}, "ar") == ""


def test_unknown_form_is_not_found() -> None:
    with pytest.raises(FormNotFound):
        load_form("nope")


def test_definition_json_carries_every_translation() -> None:
    data = load_form("barrier_assessment").to_json()
    assert data["id"] == "barrier_assessment"
    consent = data["pages"][0]["fields"][1]
    assert consent["name"] == "consent"
    assert set(consent["label"]) == set(LANGUAGES)
