"""Admin: practices, teams, agencies, users and liaison portfolios."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from assistant.audit import AuditEvent, events_for
from assistant.people import admin
from assistant.people.accounts import authenticate, user_for_token
from assistant.people.admin_forms import (
    AgencyForm,
    FormInvalid,
    NewUserForm,
    PracticeForm,
    TeamForm,
    UserForm,
    read_form,
)
from assistant.people.models import (
    Agency,
    PortfolioAssignment,
    Practice,
    Role,
    Team,
    TeamKind,
    User,
)
from assistant.security.sessions import start_session
from tests import factories
from tests.conftest import Client
from tests.html import Page, parse

PRACTICE_FORM = {
    "name": "Halswell Health",
    "address": "1 Halswell Road",
    "suburb": "Halswell",
    "postcode": "8025",
    "latitude": "-43.58",
    "longitude": "172.57",
    "phone": "03 322 1000",
    "accepting_new_patients": "on",
    "fee_notes": "Adults $30",
    "languages": "English,  Samoan ,Hindi,",
}


def selected(page: Page, select_id: str) -> list[str]:
    """The values of the options marked selected in the select with this id."""
    return [o.option_value() for o in page.by_id(select_id).find_all("option[selected]")]


@pytest.fixture
def admin_user(session: Session) -> User:
    return factories.user(session, Role.admin, name="Ana Admin")


@pytest.fixture
def as_admin(client: Client, login: Any, admin_user: User) -> Client:
    return login(admin_user)  # type: ignore[no-any-return]


# Domain functions


def test_parse_practice_cleans_and_keeps_values() -> None:
    data = read_form(PracticeForm, PRACTICE_FORM)
    assert data.languages == "English, Samoan, Hindi"
    assert (data.latitude, data.longitude) == (-43.58, 172.57)
    assert data.accepting_new_patients is True


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": "A"}, "name", "at least 2 characters"),
        ({"latitude": "north"}, "latitude", "between -90 and 90"),
        ({"latitude": "-95"}, "latitude", "between -90 and 90"),
        ({"longitude": "200"}, "longitude", "between -180 and 180"),
        ({"longitude": ""}, "longitude", "both latitude and longitude"),
        ({"phone": "call me"}, "phone", "digits, spaces"),
        ({"postcode": "80-25"}, "postcode", "letters and digits"),
        ({"fee_notes": "x" * 501}, "fee_notes", "at most 500 characters (you typed 501)"),
    ],
)
def test_parse_practice_refuses_bad_input(
    changes: dict[str, str], field: str, message: str
) -> None:
    with pytest.raises(FormInvalid) as caught:
        read_form(PracticeForm, PRACTICE_FORM | changes)
    assert field in caught.value.errors
    assert message in caught.value.errors[field]


def test_practice_create_update_deactivate_are_audited(session: Session) -> None:
    data = read_form(PracticeForm, PRACTICE_FORM)
    practice = admin.create_practice(session, actor_id=7, data=data)
    assert practice.id is not None
    data = read_form(PracticeForm, PRACTICE_FORM | {"phone": "03 322 2000"})
    admin.update_practice(session, practice.id, actor_id=7, data=data)
    admin.set_practice_active(session, practice.id, actor_id=7, active=False)
    events = events_for(session, "practice", practice.id)
    assert [(e.action, e.actor_id) for e in events] == [
        ("created", 7),
        ("changed", 7),
        ("deactivated", 7),
    ]
    assert '"fields": ["phone"]' in events[1].detail
    session.refresh(practice)
    assert practice.phone == "03 322 2000" and not practice.active


def test_team_and_agency_names_are_unique_ignoring_case(session: Session) -> None:
    factories.team(session, name="Liaison North")
    with pytest.raises(FormInvalid) as caught:
        read_form(TeamForm, {"name": "liaison north", "kind": "liaison"}, session=session)
    assert caught.value.errors == {"name": "Another team already has this name."}
    agency = factories.agency(session, name="Youth Hub")
    # Saving an agency under its own name is fine; taking another's is not.
    own = read_form(AgencyForm, {"name": "Youth Hub"}, session=session, record_id=agency.id)
    assert own.name == "Youth Hub"
    with pytest.raises(FormInvalid):
        read_form(AgencyForm, {"name": "YOUTH HUB"}, session=session)


def test_team_kind_must_be_chosen(session: Session) -> None:
    with pytest.raises(FormInvalid) as caught:
        read_form(TeamForm, {"name": "Someone", "kind": "pirates"}, session=session)
    assert caught.value.errors == {"kind": "Choose what kind of team this is."}


def _user_form(session: Session, **changes: str) -> dict[str, str]:
    practice = factories.practice(session)
    return {
        "name": "Hemi Reception",
        "email": "hemi@practice.example.nz",
        "role": "practice_staff",
        "practice_id": str(practice.id),
        "locale": "mi",
        "password": "long enough password",
    } | changes


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "Enter the person's name."),
        ({"email": "hemi"}, "email", "Enter an email address like name@example.nz."),
        ({"role": "boss"}, "role", "Choose a role."),
        ({"practice_id": ""}, "practice_id", "Choose the practice this person works at."),
        ({"role": "pcw"}, "agency_id", "Choose the agency this person works from."),
        ({"password": "short"}, "password", "Use a password of at least 10 characters."),
    ],
)
def test_parse_user_refuses_bad_input(
    session: Session, changes: dict[str, str], field: str, message: str
) -> None:
    with pytest.raises(FormInvalid) as caught:
        read_form(NewUserForm, _user_form(session, **changes), session=session)
    assert caught.value.errors[field] == message


def test_user_email_is_unique_ignoring_case(session: Session) -> None:
    factories.user(session, email="taken@example.nz")
    with pytest.raises(FormInvalid) as caught:
        read_form(NewUserForm, _user_form(session, email="Taken@Example.NZ"), session=session)
    assert caught.value.errors["email"] == "Another user already has this email address."


def test_create_user_keeps_only_the_affiliation_the_role_uses(session: Session) -> None:
    team = factories.team(session)
    form = _user_form(session, role="liaison", team_id=str(team.id))
    data = read_form(NewUserForm, form, session=session)
    user = admin.create_user(session, actor_id=1, data=data)
    assert (user.role, user.team_id, user.practice_id, user.locale) == (
        Role.liaison,
        team.id,
        None,
        "mi",
    )
    assert authenticate(session, email="hemi@practice.example.nz", password=data.password)
    assert [e.action for e in events_for(session, "user", user.id)] == ["created"]


def test_deactivating_a_user_ends_their_sessions(session: Session) -> None:
    user = factories.user(session)
    assert user.id is not None
    token = start_session(session, user_id=user.id, max_age_seconds=600)
    admin.set_user_active(session, user.id, actor_id=99, active=False)
    assert user_for_token(session, token) is None
    assert authenticate(session, email=user.email, password=factories.PASSWORD) is None


def test_admin_cannot_lock_themselves_out(session: Session, admin_user: User) -> None:
    assert admin_user.id is not None
    with pytest.raises(FormInvalid):
        admin.set_user_active(session, admin_user.id, actor_id=admin_user.id, active=False)
    form = {"name": "Ana", "email": admin_user.email, "role": "liaison"}
    data = read_form(UserForm, form, session=session, record_id=admin_user.id)
    with pytest.raises(FormInvalid):
        admin.update_user(session, admin_user.id, actor_id=admin_user.id, data=data)


def test_reset_password_checks_length_and_signs_the_user_out(session: Session) -> None:
    user = factories.user(session)
    assert user.id is not None
    token = start_session(session, user_id=user.id, max_age_seconds=600)
    with pytest.raises(FormInvalid):
        admin.reset_password(session, actor_id=999, user_id=user.id, password="short")
    admin.reset_password(session, actor_id=999, user_id=user.id, password="a brand new secret")
    assert user_for_token(session, token) is None
    assert authenticate(session, email=user.email, password="a brand new secret") is not None
    assert events_for(session, "user", user.id)[-1].action == "password_reset"


def test_assign_practices_moves_practices_between_liaisons(session: Session) -> None:
    mere = factories.user(session, Role.liaison)
    sione = factories.user(session, Role.liaison)
    a, b = factories.practice(session), factories.practice(session)
    assert a.id and b.id and mere.id and sione.id
    factories.portfolio(session, a, mere)
    changed = admin.assign_practices(
        session, actor_id=1, assignments={a.id: sione.id, b.id: mere.id}
    )
    assert sorted(changed) == sorted([a.id, b.id])
    view = admin.portfolios(session)
    assert [p.id for p in view.practices_of(sione.id)] == [a.id]
    assert [p.id for p in view.practices_of(mere.id)] == [b.id]
    assert admin.assign_practices(session, actor_id=1, assignments={a.id: sione.id}) == []
    admin.assign_practices(session, actor_id=1, assignments={a.id: None})
    assert session.get(PortfolioAssignment, a.id) is None
    assert [e.action for e in events_for(session, "practice", a.id)] == ["portfolio_changed"] * 2


def test_only_active_liaisons_hold_practices(session: Session) -> None:
    coordinator = factories.user(session, Role.coordinator)
    practice = factories.practice(session)
    assert practice.id and coordinator.id
    with pytest.raises(FormInvalid) as caught:
        admin.assign_practices(session, actor_id=1, assignments={practice.id: coordinator.id})
    assert caught.value.errors == {f"liaison_{practice.id}": "Choose an active liaison."}


@pytest.mark.parametrize(
    ("cover", "message"),
    [
        ("self", "A liaison cannot cover for themselves."),
        ("coordinator", "Choose an active liaison."),
        ("away", "Choose a liaison who is not away."),
    ],
)
def test_set_away_refuses_a_bad_cover(session: Session, cover: str, message: str) -> None:
    mere = factories.user(session, Role.liaison)
    others = {
        "self": mere,
        "coordinator": factories.user(session, Role.coordinator),
        "away": factories.user(session, Role.liaison, away=True),
    }
    assert mere.id is not None
    with pytest.raises(FormInvalid) as caught:
        admin.set_away(
            session, actor_id=1, liaison_id=mere.id, away=True, cover_id=others[cover].id
        )
    assert caught.value.errors == {"cover_id": message}


def test_set_away_with_cover(session: Session) -> None:
    mere = factories.user(session, Role.liaison)
    sione = factories.user(session, Role.liaison)
    assert mere.id is not None
    admin.set_away(session, actor_id=1, liaison_id=mere.id, away=True, cover_id=sione.id)
    session.refresh(mere)
    assert mere.away and mere.cover_id == sione.id
    assert events_for(session, "user", mere.id)[-1].action == "away_changed"


# Pages


def test_admin_pages_are_for_admins_only(client: Client, session: Session, login: Any) -> None:
    assert client.get("/admin/practices").status_code == 302
    login(factories.user(session, Role.liaison))
    assert client.get("/admin/practices").status_code == 403


def test_admin_home_links_every_section(as_admin: Client) -> None:
    assert "/admin" in parse(as_admin.get("/").text).links()
    links = parse(as_admin.get("/admin").text).links()
    for href in ("practices", "teams", "agencies", "users", "portfolios"):
        assert f"/admin/{href}" in links


@pytest.mark.parametrize(
    "url", ["/admin/practices/new", "/admin/teams/new", "/admin/agencies/new", "/admin/users/new"]
)
def test_every_input_has_a_label(as_admin: Client, url: str) -> None:
    page = parse(as_admin.get(url).text)
    controls = [c for c in page.find_all("input, select, textarea") if c.get("type") != "hidden"]
    assert controls
    labels = {label.attr("for") for label in page.find_all("label[for]")}
    unlabelled = [c.get("id", "") for c in controls if c.get("id", "") not in labels]
    assert unlabelled == []


def test_create_practice_through_the_form(as_admin: Client, session: Session) -> None:
    response = as_admin.post("/admin/practices", data=PRACTICE_FORM)
    assert response.status_code == 303
    practice = session.exec(select(Practice).where(Practice.name == "Halswell Health")).one()
    assert response.headers["location"] == f"/admin/practices?saved={practice.id}"
    listing = as_admin.get(response.headers["location"])
    assert "Your changes were saved." in listing.text
    assert "Halswell Health" in listing.text
    audit = session.exec(select(AuditEvent).where(AuditEvent.entity == "practice")).all()
    assert [e.action for e in audit] == ["created"]


def test_invalid_practice_form_keeps_what_was_typed(as_admin: Client, session: Session) -> None:
    form = PRACTICE_FORM | {"latitude": "-95", "name": "Typed <Name>"}
    response = as_admin.post("/admin/practices", data=form)
    assert response.status_code == 422
    page = parse(response.text)
    assert page.by_id("f-latitude").attr("value") == "-95"
    assert page.by_id("f-latitude").attr("aria-invalid") == "true"
    assert page.by_id("f-name").attr("value") == "Typed <Name>"
    assert page.by_id("f-fee_notes").tag == "textarea"
    assert "Enter a latitude between -90 and 90." in response.text
    assert page.has('[role="alert"]')
    assert session.exec(select(Practice)).all() == []


def test_invalid_form_errors_are_translated(as_admin: Client) -> None:
    as_admin.post("/lang", data={"lang": "mi", "next": "/"})
    response = as_admin.post("/admin/practices", data=PRACTICE_FORM | {"latitude": "-95"})
    assert response.status_code == 422
    assert "Enter a latitude between -90 and 90." not in response.text
    assert parse(response.text).lang == "mi"


def test_edit_and_deactivate_practice(as_admin: Client, session: Session) -> None:
    practice = factories.practice(session, name="Old Name", accepting_new_patients=True)
    edit = parse(as_admin.get(f"/admin/practices/{practice.id}").text)
    assert edit.by_id("f-name").attr("value") == "Old Name"
    assert edit.by_id("f-accepting_new_patients").checked
    form = PRACTICE_FORM | {"name": "New Name"}
    form.pop("accepting_new_patients")
    assert as_admin.post(f"/admin/practices/{practice.id}", data=form).status_code == 303
    response = as_admin.post(f"/admin/practices/{practice.id}/active", data={"active": "0"})
    assert response.status_code == 303
    session.refresh(practice)
    assert (practice.name, practice.accepting_new_patients, practice.active) == (
        "New Name",
        False,
        False,
    )
    assert "Inactive" in as_admin.get("/admin/practices").text
    assert as_admin.get("/admin/practices/999999").status_code == 404


def test_teams_and_agencies_through_the_forms(as_admin: Client, session: Session) -> None:
    assert (
        as_admin.post("/admin/teams", data={"name": "MSO South", "kind": "mso"}).status_code == 303
    )
    team = session.exec(select(Team).where(Team.name == "MSO South")).one()
    assert team.kind == TeamKind.mso
    duplicate = as_admin.post("/admin/teams", data={"name": "mso south", "kind": "mso"})
    assert duplicate.status_code == 422
    assert "Another team already has this name." in duplicate.text
    assert selected(parse(duplicate.text), "f-kind") == ["mso"]
    as_admin.post(f"/admin/teams/{team.id}", data={"name": "MSO Canterbury", "kind": "mso"})
    as_admin.post(f"/admin/teams/{team.id}/active", data={"active": "0"})
    session.refresh(team)
    assert (team.name, team.active) == ("MSO Canterbury", False)

    assert as_admin.post("/admin/agencies", data={"name": "Kai Collective"}).status_code == 303
    agency = session.exec(select(Agency).where(Agency.name == "Kai Collective")).one()
    as_admin.post(f"/admin/agencies/{agency.id}", data={"name": "Kai Collective Trust"})
    as_admin.post(f"/admin/agencies/{agency.id}/active", data={"active": "0"})
    session.refresh(agency)
    assert (agency.name, agency.active) == ("Kai Collective Trust", False)
    assert "Kai Collective Trust" in as_admin.get("/admin/agencies").text


def test_create_and_edit_a_user_through_the_forms(as_admin: Client, session: Session) -> None:
    agency = factories.agency(session)
    form = {
        "name": "Losa PCW",
        "email": "losa@agency.example.nz",
        "role": "pcw",
        "agency_id": str(agency.id),
        "locale": "sm",
        "password": "short",
    }
    refused = as_admin.post("/admin/users", data=form)
    assert refused.status_code == 422
    page = parse(refused.text)
    assert page.by_id("f-email").attr("value") == "losa@agency.example.nz"
    assert page.by_id("f-password").attr("value") == ""  # a password is never sent back
    assert selected(page, "f-role") == ["pcw"] and selected(page, "f-locale") == ["sm"]
    assert (
        as_admin.post("/admin/users", data=form | {"password": "long enough pw"}).status_code == 303
    )
    user = session.exec(select(User).where(User.email == "losa@agency.example.nz")).one()
    assert (user.role, user.agency_id, user.locale) == (Role.pcw, agency.id, "sm")
    edit = parse(as_admin.get(f"/admin/users/{user.id}").text)
    assert selected(edit, "f-agency_id") == [str(agency.id)]
    changed = form | {"name": "Losa Tuilagi", "locale": ""}
    assert as_admin.post(f"/admin/users/{user.id}", data=changed).status_code == 303
    assert (
        as_admin.post(f"/admin/users/{user.id}/password", data={"password": "a new password!"})
    ).status_code == 303
    assert as_admin.post(f"/admin/users/{user.id}/active", data={"active": "0"}).status_code == 303
    session.refresh(user)
    assert (user.name, user.locale, user.active) == ("Losa Tuilagi", None, False)
    actions = [e.action for e in events_for(session, "user", user.id)]
    assert actions == ["created", "viewed", "changed", "password_reset", "deactivated"]


def test_admin_sets_and_clears_practice_manager_on_practice_staff(
    as_admin: Client, session: Session
) -> None:
    form = _user_form(session, practice_manager="on")
    assert as_admin.post("/admin/users", data=form).status_code == 303
    user = session.exec(select(User).where(User.email == "hemi@practice.example.nz")).one()
    assert user.practice_manager is True
    assert "Practice manager" in as_admin.get("/admin/users").text
    edit = as_admin.get(f"/admin/users/{user.id}").text
    assert parse(edit).by_id("f-practice_manager").checked
    # An unticked box is not sent: no longer a manager.
    unticked = {k: v for k, v in form.items() if k != "practice_manager"}
    assert as_admin.post(f"/admin/users/{user.id}", data=unticked).status_code == 303
    session.refresh(user)
    assert user.practice_manager is False
    box = parse(as_admin.get(f"/admin/users/{user.id}").text).by_id("f-practice_manager")
    assert box.get("type") != "hidden" and not box.checked


def test_only_practice_staff_can_be_practice_managers(session: Session) -> None:
    team = factories.team(session)
    form = _user_form(session, role="liaison", team_id=str(team.id), practice_manager="on")
    data = read_form(NewUserForm, form, session=session)
    assert data.practice_manager is False


def test_admin_cannot_deactivate_themselves_through_the_form(
    as_admin: Client, admin_user: User
) -> None:
    response = as_admin.post(f"/admin/users/{admin_user.id}/active", data={"active": "0"})
    assert response.status_code == 422
    assert "You cannot deactivate your own account." in response.text
    assert as_admin.get("/admin").status_code == 200


RECORDS: dict[str, Callable[[Session], Practice | Team | Agency | User]] = {
    "users": lambda session: factories.user(session, Role.liaison),
    "practices": factories.practice,
    "teams": factories.team,
    "agencies": factories.agency,
}


@pytest.mark.parametrize("resource", list(RECORDS))
def test_deactivate_button_works_as_a_plain_form(
    app: FastAPI, as_admin: Client, session: Session, resource: str
) -> None:
    record = RECORDS[resource](session)
    url = f"/admin/{resource}/{record.id}"
    form = parse(as_admin.get(url).text).find(f'form[action="{url}/active"]')
    assert form.find("button[type=submit]").text() == "Deactivate"
    # A browser without JavaScript (and htmx, for a form it does not handle) sends the form's
    # fields and its cookies, no X-CSRF-Token header: the token must be in the form.
    with TestClient(app, cookies=as_admin.cookies, follow_redirects=False) as browser:
        response = browser.post(form.attr("action"), data=dict(form.form_data()))
        assert response.status_code == 303
        shown = parse(browser.get(url).text).find(f'form[action="{url}/active"]')
    assert shown.find("button[type=submit]").text() == "Reactivate"
    session.refresh(record)
    assert record.active is False


def test_portfolio_page_assigns_practices_and_marks_away(
    as_admin: Client, session: Session
) -> None:
    mere = factories.user(session, Role.liaison, name="Mere")
    sione = factories.user(session, Role.liaison, name="Sione")
    practice = factories.practice(session, name="Woolston Health")
    page = as_admin.get("/admin/portfolios")
    assert page.status_code == 200
    assert parse(page.text).has(f'label[for="f-liaison_{practice.id}"]')
    response = as_admin.post("/admin/portfolios", data={f"liaison_{practice.id}": str(mere.id)})
    assert response.status_code == 303
    assert session.get(PortfolioAssignment, practice.id).liaison_id == mere.id  # type: ignore[union-attr]
    response = as_admin.post(
        f"/admin/liaisons/{mere.id}/away", data={"away": "1", "cover_id": str(sione.id)}
    )
    assert response.status_code == 303
    session.refresh(mere)
    assert mere.away and mere.cover_id == sione.id
    shown = parse(as_admin.get("/admin/portfolios").text)
    headings = {h.text(): h for h in shown.find_all("h3")}
    assert headings["Mere Away"].find("span.tag").text() == "Away"
    refused = as_admin.post(
        f"/admin/liaisons/{sione.id}/away", data={"away": "1", "cover_id": str(mere.id)}
    )
    assert refused.status_code == 422
    assert "Choose a liaison who is not away." in refused.text
