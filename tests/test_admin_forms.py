"""The admin's form models: limits, the messages a person sees, and the pages they come back on."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, select

from assistant.audit import events_for
from assistant.i18n import use_locale
from assistant.people import admin
from assistant.people.admin_forms import (
    AgencyForm,
    AwayForm,
    FormInvalid,
    NewUserForm,
    PracticeForm,
    TeamForm,
    read_form,
)
from assistant.people.models import Agency, Practice, Role, Team, User
from tests import factories
from tests.conftest import Client
from tests.html import parse

NOT_STORABLE = "a character that is not text"
PRACTICE = {"name": "Halswell Health", "latitude": "-43.58", "longitude": "172.57"}


def refused(model: type[Any], form: dict[str, str], **stored: Any) -> dict[str, str]:
    with pytest.raises(FormInvalid) as caught:
        read_form(model, form, **stored)
    return caught.value.errors


def test_a_huge_name_is_refused_with_its_length() -> None:
    errors = refused(PracticeForm, PRACTICE | {"name": "x" * 2000})
    assert errors == {"name": "Use at most 200 characters (you typed 2000)."}


def test_lengths_count_after_spaces_are_folded() -> None:
    data = read_form(PracticeForm, PRACTICE | {"suburb": "  Upper \n\t Riccarton  " + " " * 200})
    assert data.suburb == "Upper Riccarton"


@pytest.mark.parametrize("name", ["name", "address", "phone", "fee_notes", "languages"])
def test_a_nul_character_in_a_practice_field_is_refused_on_that_field(name: str) -> None:
    errors = refused(PracticeForm, PRACTICE | {name: "Halswell\x00 Health"})
    assert list(errors) == [name]
    assert NOT_STORABLE in errors[name]


def test_a_nul_character_in_names_and_emails_is_refused(session: Session) -> None:
    assert (
        NOT_STORABLE
        in refused(TeamForm, {"name": "A\x00B", "kind": "mso"}, session=session)["name"]
    )
    assert NOT_STORABLE in refused(AgencyForm, {"name": "A\x00B"}, session=session)["name"]
    form = {"name": "Hemi", "email": "he\x00mi@example.nz", "role": "mso", "password": "x" * 12}
    errors = refused(NewUserForm, form, session=session)
    assert errors == {"email": "Enter an email address like name@example.nz."}


def test_every_problem_is_reported_at_once() -> None:
    form = PRACTICE | {"name": "A", "longitude": "", "phone": "call me", "postcode": "80-25"}
    errors = refused(PracticeForm, form)
    # In the form's order; the missing coordinate is marked on its own field.
    assert list(errors) == ["name", "postcode", "longitude", "phone"]
    assert errors["longitude"] == "Enter both latitude and longitude, or leave both empty."
    only_longitude = refused(PracticeForm, PRACTICE | {"latitude": ""})
    assert only_longitude == {"latitude": "Enter both latitude and longitude, or leave both empty."}


@pytest.mark.parametrize("value", ["nan", "inf", "1e400", "-90.5", "abc"])
def test_a_latitude_must_be_a_number_on_the_map(value: str) -> None:
    assert refused(PracticeForm, PRACTICE | {"latitude": value}) == {
        "latitude": "Enter a latitude between -90 and 90."
    }


def test_a_decimal_comma_and_an_unticked_box_are_read_as_meant() -> None:
    data = read_form(PracticeForm, PRACTICE | {"latitude": "-43,5", "postcode": "ab12"})
    assert (data.latitude, data.postcode, data.accepting_new_patients) == (-43.5, "AB12", False)


def test_fields_left_out_are_read_as_empty(session: Session) -> None:
    assert refused(PracticeForm, {}) == {"name": "Enter a name of at least 2 characters."}
    assert refused(TeamForm, {}, session=session) == {
        "name": "Enter a name of at least 2 characters.",
        "kind": "Choose what kind of team this is.",
    }
    errors = refused(NewUserForm, {}, session=session)
    assert errors == {
        "name": "Enter the person's name.",
        "email": "Enter an email address like name@example.nz.",
        "role": "Choose a role.",
        "password": "Use a password of at least 10 characters.",
    }


def test_a_practice_staff_member_needs_a_practice_that_exists(session: Session) -> None:
    form = {"name": "Hemi", "email": "hemi@example.nz", "role": "practice_staff"}
    for practice_id in ("", "999999", "99999999999999999999", "\u00b9"):
        errors = refused(NewUserForm, form | {"practice_id": practice_id}, session=session)
        assert errors["practice_id"] == "Choose the practice this person works at."


def test_messages_are_in_the_persons_language() -> None:
    with use_locale("mi"):
        errors = refused(PracticeForm, PRACTICE | {"latitude": "-95"})
    assert errors["latitude"] != "Enter a latitude between -90 and 90."
    assert errors["latitude"]


def test_a_password_is_never_shown_in_a_models_repr(session: Session) -> None:
    form = {"name": "Hemi", "email": "hemi@example.nz", "role": "mso", "password": "s3cret words"}
    assert "s3cret" not in repr(read_form(NewUserForm, form, session=session))


def test_the_last_day_away_must_be_a_date() -> None:
    assert refused(AwayForm, {"away": "1", "away_until": "next week"}) == {
        "away_until": "Enter the last day away as a date."
    }
    assert read_form(AwayForm, {"away": "1", "cover_id": ""}).cover_id is None


def test_changes_are_left_for_the_caller_to_commit(session: Session) -> None:
    data = read_form(PracticeForm, PRACTICE)
    practice = admin.create_practice(session, actor_id=1, data=data)
    assert practice.id is not None and events_for(session, "practice", practice.id)
    session.rollback()
    assert session.exec(select(Practice)).all() == []


# Pages: every resource's form comes back with what was typed


@pytest.mark.parametrize(
    ("path", "form", "field", "message"),
    [
        ("/admin/practices", {"name": "Halswell\x00"}, "name", NOT_STORABLE),
        ("/admin/teams", {"name": "X" * 121, "kind": "mso"}, "name", "at most 120 characters"),
        ("/admin/agencies", {"name": "Y"}, "name", "at least 2 characters"),
        ("/admin/users", {"name": "Hemi", "email": "hemi@"}, "email", "like name@example.nz"),
    ],
)
def test_a_refused_form_comes_back_with_what_was_typed(
    client: Client,
    login: Any,
    session: Session,
    path: str,
    form: dict[str, str],
    field: str,
    message: str,
) -> None:
    login(factories.user(session, Role.admin))
    response = client.post(path, data=form)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    page = parse(response.text)
    assert page.by_id(f"f-{field}").attr("aria-invalid") == "true"
    assert message in page.by_id(f"f-{field}-error").text()
    shown = page.by_id("f-name").attr("value")
    assert shown == form["name"].replace("\x00", "\ufffd") or shown == form["name"]


@pytest.mark.parametrize(
    ("model", "path", "form"),
    [
        (Practice, "/admin/practices/{}", {"name": "Renamed", "latitude": "-95"}),
        (Team, "/admin/teams/{}", {"name": "Renamed", "kind": "pirates"}),
        (Agency, "/admin/agencies/{}", {"name": "R"}),
    ],
)
def test_a_refused_change_keeps_the_record_as_it_was(
    client: Client, login: Any, session: Session, model: Any, path: str, form: dict[str, str]
) -> None:
    login(factories.user(session, Role.admin))
    made = {Practice: factories.practice, Team: factories.team, Agency: factories.agency}
    record = made[model](session)
    before = record.name
    response = client.post(path.format(record.id), data=form)
    assert response.status_code == 422
    assert parse(response.text).by_id("f-name").attr("value") == form["name"]
    session.expire_all()
    assert session.get(model, record.id).name == before
    assert events_for(session, model.__name__.lower(), record.id) == []


def test_an_admin_changing_their_own_role_changes_nothing(
    client: Client, login: Any, session: Session
) -> None:
    me = factories.user(session, Role.admin, name="Ana Admin")
    login(me)
    form = {"name": "Ana Renamed", "email": me.email, "role": "liaison"}
    response = client.post(f"/admin/users/{me.id}", data=form)
    assert response.status_code == 422
    assert "You cannot change your own role." in response.text
    session.expire_all()
    stored = session.get(User, me.id)
    assert stored is not None and (stored.name, stored.role) == ("Ana Admin", Role.admin)
