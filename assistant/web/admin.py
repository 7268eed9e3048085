"""Admin pages: practices, teams, agencies, users and liaison portfolios."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from assistant.credentials import resets
from assistant.deps import FormFields, SessionDep, require_roles
from assistant.i18n import _, lazy_gettext
from assistant.people import admin
from assistant.people.admin import FormInvalid
from assistant.people.models import Practice, Role, TeamKind, User
from assistant.templating import render

router = APIRouter(prefix="/admin")


AdminUser = Annotated[User, Depends(require_roles(Role.admin))]

ROLE_LABELS = {
    Role.practice_staff: lazy_gettext("Practice staff"),
    Role.liaison: lazy_gettext("Practice support liaison"),
    Role.coordinator: lazy_gettext("Practice coordinator"),
    Role.mso: lazy_gettext("MSO staff"),
    Role.pcw: lazy_gettext("Partnership community worker"),
    Role.admin: lazy_gettext("Administrator"),
}
TEAM_KIND_LABELS = {
    TeamKind.liaison: lazy_gettext("Practice support liaison"),
    TeamKind.coordination: lazy_gettext("Practice coordination"),
    TeamKind.mso: lazy_gettext("MSO"),
    TeamKind.pcw: lazy_gettext("Partnership community workers"),
}


def _done(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def _page(
    request: Request, template: str, context: dict[str, Any], *, status_code: int = 200
) -> Response:
    base = {
        "role_labels": ROLE_LABELS,
        "team_kind_labels": TEAM_KIND_LABELS,
        "values": {},
        "errors": {},
        "saved": request.query_params.get("saved"),
    }
    return render(request, template, base | context, status_code=status_code)


def _invalid(
    request: Request, template: str, exc: FormInvalid, values: dict[str, str], **context: Any
) -> Response:
    ctx = {"values": values, "errors": exc.errors, "error_summary": exc.message} | context
    return _page(request, template, ctx, status_code=422)


@router.get("")
def index(request: Request, user: AdminUser) -> Response:
    return _page(request, "admin/index.html", {})


# Practices


def _practice_values(p: Practice) -> dict[str, str]:
    values = {
        name: "" if getattr(p, name) is None else str(getattr(p, name))
        for name in admin.PRACTICE_FIELDS
    }
    values["accepting_new_patients"] = "on" if p.accepting_new_patients else ""
    return values


@router.get("/practices")
def practices(request: Request, user: AdminUser, session: SessionDep) -> Response:
    return _page(request, "admin/practices.html", {"practices": admin.list_practices(session)})


@router.get("/practices/new")
def practice_new(request: Request, user: AdminUser) -> Response:
    return _page(request, "admin/practice_form.html", {"practice": None})


@router.post("/practices")
def practice_create(
    request: Request, user: AdminUser, session: SessionDep, form: FormFields
) -> Response:
    try:
        practice = admin.create_practice(session, actor_id=user.id, data=admin.parse_practice(form))
    except FormInvalid as exc:
        return _invalid(request, "admin/practice_form.html", exc, form, practice=None)
    return _done(f"/admin/practices?saved={practice.id}")


@router.get("/practices/{practice_id}")
def practice_edit(
    request: Request, user: AdminUser, session: SessionDep, practice_id: int
) -> Response:
    practice = admin.get_practice(session, practice_id)
    ctx = {"practice": practice, "values": _practice_values(practice)}
    return _page(request, "admin/practice_form.html", ctx)


@router.post("/practices/{practice_id}")
def practice_update(
    request: Request, user: AdminUser, session: SessionDep, form: FormFields, practice_id: int
) -> Response:
    practice = admin.get_practice(session, practice_id)
    try:
        admin.update_practice(
            session, actor_id=user.id, practice_id=practice_id, data=admin.parse_practice(form)
        )
    except FormInvalid as exc:
        return _invalid(request, "admin/practice_form.html", exc, form, practice=practice)
    return _done(f"/admin/practices?saved={practice_id}")


@router.post("/practices/{practice_id}/active")
def practice_active(
    user: AdminUser, session: SessionDep, form: FormFields, practice_id: int
) -> Response:
    active = form.get("active") == "1"
    admin.set_practice_active(session, actor_id=user.id, practice_id=practice_id, active=active)
    return _done(f"/admin/practices?saved={practice_id}")


# Teams


@router.get("/teams")
def teams(request: Request, user: AdminUser, session: SessionDep) -> Response:
    return _page(request, "admin/teams.html", {"teams": admin.list_teams(session)})


@router.get("/teams/new")
def team_new(request: Request, user: AdminUser) -> Response:
    return _page(request, "admin/team_form.html", {"team": None})


@router.post("/teams")
def team_create(
    request: Request, user: AdminUser, session: SessionDep, form: FormFields
) -> Response:
    try:
        team = admin.create_team(session, actor_id=user.id, data=admin.parse_team(session, form))
    except FormInvalid as exc:
        return _invalid(request, "admin/team_form.html", exc, form, team=None)
    return _done(f"/admin/teams?saved={team.id}")


@router.get("/teams/{team_id}")
def team_edit(request: Request, user: AdminUser, session: SessionDep, team_id: int) -> Response:
    team = admin.get_team(session, team_id)
    values = {"name": team.name, "kind": str(team.kind)}
    return _page(request, "admin/team_form.html", {"team": team, "values": values})


@router.post("/teams/{team_id}")
def team_update(
    request: Request, user: AdminUser, session: SessionDep, form: FormFields, team_id: int
) -> Response:
    team = admin.get_team(session, team_id)
    try:
        data = admin.parse_team(session, form, team_id=team_id)
        admin.update_team(session, actor_id=user.id, team_id=team_id, data=data)
    except FormInvalid as exc:
        return _invalid(request, "admin/team_form.html", exc, form, team=team)
    return _done(f"/admin/teams?saved={team_id}")


@router.post("/teams/{team_id}/active")
def team_active(user: AdminUser, session: SessionDep, form: FormFields, team_id: int) -> Response:
    active = form.get("active") == "1"
    admin.set_team_active(session, actor_id=user.id, team_id=team_id, active=active)
    return _done(f"/admin/teams?saved={team_id}")


# Agencies


@router.get("/agencies")
def agencies(request: Request, user: AdminUser, session: SessionDep) -> Response:
    return _page(request, "admin/agencies.html", {"agencies": admin.list_agencies(session)})


@router.get("/agencies/new")
def agency_new(request: Request, user: AdminUser) -> Response:
    return _page(request, "admin/agency_form.html", {"agency": None})


@router.post("/agencies")
def agency_create(
    request: Request, user: AdminUser, session: SessionDep, form: FormFields
) -> Response:
    try:
        data = admin.parse_agency(session, form)
        agency = admin.create_agency(session, actor_id=user.id, data=data)
    except FormInvalid as exc:
        return _invalid(request, "admin/agency_form.html", exc, form, agency=None)
    return _done(f"/admin/agencies?saved={agency.id}")


@router.get("/agencies/{agency_id}")
def agency_edit(request: Request, user: AdminUser, session: SessionDep, agency_id: int) -> Response:
    agency = admin.get_agency(session, agency_id)
    ctx = {"agency": agency, "values": {"name": agency.name}}
    return _page(request, "admin/agency_form.html", ctx)


@router.post("/agencies/{agency_id}")
def agency_update(
    request: Request, user: AdminUser, session: SessionDep, form: FormFields, agency_id: int
) -> Response:
    agency = admin.get_agency(session, agency_id)
    try:
        data = admin.parse_agency(session, form, agency_id=agency_id)
        admin.update_agency(session, actor_id=user.id, agency_id=agency_id, data=data)
    except FormInvalid as exc:
        return _invalid(request, "admin/agency_form.html", exc, form, agency=agency)
    return _done(f"/admin/agencies?saved={agency_id}")


@router.post("/agencies/{agency_id}/active")
def agency_active(
    user: AdminUser, session: SessionDep, form: FormFields, agency_id: int
) -> Response:
    active = form.get("active") == "1"
    admin.set_agency_active(session, actor_id=user.id, agency_id=agency_id, active=active)
    return _done(f"/admin/agencies?saved={agency_id}")


# Users


def _user_choices(session: SessionDep) -> dict[str, Any]:
    return {
        "practices": [p for p in admin.list_practices(session) if p.active],
        "teams": [t for t in admin.list_teams(session) if t.active],
        "agencies": [a for a in admin.list_agencies(session) if a.active],
        "roles": list(Role),
    }


def _user_values(u: User) -> dict[str, str]:
    return {
        name: "" if getattr(u, name) is None else str(getattr(u, name))
        for name in admin.USER_FIELDS
    }


@router.get("/users")
def users(request: Request, user: AdminUser, session: SessionDep) -> Response:
    ctx = {
        "users": admin.list_users(session),
        "practice_names": {p.id: p.name for p in admin.list_practices(session)},
        "team_names": {t.id: t.name for t in admin.list_teams(session)},
        "agency_names": {a.id: a.name for a in admin.list_agencies(session)},
    }
    return _page(request, "admin/users.html", ctx)


@router.get("/users/new")
def user_new(request: Request, user: AdminUser, session: SessionDep) -> Response:
    return _page(request, "admin/user_form.html", {"person": None} | _user_choices(session))


@router.post("/users")
def user_create(
    request: Request, user: AdminUser, session: SessionDep, form: FormFields
) -> Response:
    try:
        data, password = admin.parse_user(session, form)
        assert password is not None
        person = admin.create_user(session, actor_id=user.id, data=data, password=password)
    except FormInvalid as exc:
        values = form | {"password": ""}
        return _invalid(
            request, "admin/user_form.html", exc, values, person=None, **_user_choices(session)
        )
    return _done(f"/admin/users?saved={person.id}")


@router.get("/users/{user_id}")
def user_edit(request: Request, user: AdminUser, session: SessionDep, user_id: int) -> Response:
    person = admin.view_user(session, actor_id=user.id, user_id=user_id)
    session.commit()  # the view's audit record
    ctx = {"person": person, "values": _user_values(person)} | _user_choices(session)
    ctx["change_required"] = resets.change_required(session, user_id=user_id)
    return _page(request, "admin/user_form.html", ctx)


@router.post("/users/{user_id}")
def user_update(
    request: Request, user: AdminUser, session: SessionDep, form: FormFields, user_id: int
) -> Response:
    person = admin.get_user(session, user_id)
    try:
        data, _password = admin.parse_user(session, form, user_id=user_id)
        admin.update_user(session, actor_id=user.id, user_id=user_id, data=data)
    except FormInvalid as exc:
        return _invalid(
            request, "admin/user_form.html", exc, form, person=person, **_user_choices(session)
        )
    return _done(f"/admin/users?saved={user_id}")


@router.post("/users/{user_id}/active")
def user_active(
    request: Request, user: AdminUser, session: SessionDep, form: FormFields, user_id: int
) -> Response:
    person = admin.get_user(session, user_id)
    try:
        admin.set_user_active(
            session, actor_id=user.id, user_id=user_id, active=form.get("active") == "1"
        )
    except FormInvalid as exc:
        return _invalid(
            request,
            "admin/user_form.html",
            exc,
            _user_values(person),
            person=person,
            **_user_choices(session),
        )
    return _done(f"/admin/users?saved={user_id}")


@router.post("/users/{user_id}/password")
def user_password(
    request: Request, user: AdminUser, session: SessionDep, form: FormFields, user_id: int
) -> Response:
    person = admin.get_user(session, user_id)
    try:
        admin.reset_password(
            session, actor_id=user.id, user_id=user_id, password=form.get("password", "")
        )
    except FormInvalid as exc:
        return _invalid(
            request,
            "admin/user_form.html",
            exc,
            _user_values(person),
            person=person,
            **_user_choices(session),
        )
    return _done(f"/admin/users?saved={user_id}")


@router.post("/users/{user_id}/password-change")
def user_password_change(
    request: Request, user: AdminUser, session: SessionDep, user_id: int
) -> Response:
    """The person must choose a new password at their next sign-in."""
    person = admin.get_user(session, user_id)
    try:
        resets.require_change(session, actor_id=user.id, user_id=user_id)
    except FormInvalid as exc:
        session.rollback()
        return _invalid(
            request,
            "admin/user_form.html",
            exc,
            _user_values(person),
            person=person,
            **_user_choices(session),
        )
    session.commit()
    return _done(f"/admin/users?saved={user_id}")


# Liaison portfolios


def _portfolio_page(
    request: Request,
    session: SessionDep,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    view = admin.portfolios(session)
    if values is None:
        values = {f"liaison_{pid}": str(lid) for pid, lid in view.holder.items()}
        for liaison in view.liaisons:
            values[f"cover_{liaison.id}"] = str(liaison.cover_id or "")
            values[f"away_until_{liaison.id}"] = (
                liaison.away_until.isoformat() if liaison.away_until else ""
            )
    ctx = {
        "view": view,
        "values": values,
        "errors": errors or {},
        "names": {u.id: u.name for u in view.liaisons},
    }
    if errors:
        ctx["error_summary"] = FormInvalid(errors).message
    return _page(request, "admin/portfolios.html", ctx, status_code=status_code)


@router.get("/portfolios")
def portfolio_page(request: Request, user: AdminUser, session: SessionDep) -> Response:
    return _portfolio_page(request, session)


@router.post("/portfolios")
def portfolio_save(
    request: Request, user: AdminUser, session: SessionDep, form: FormFields
) -> Response:
    assignments: dict[int, int | None] = {}
    for key, value in form.items():
        practice_id = admin.form_id(key.removeprefix("liaison_"))
        if key.startswith("liaison_") and practice_id:
            assignments[practice_id] = admin.form_id(value)
    try:
        admin.assign_practices(session, actor_id=user.id, assignments=assignments)
    except FormInvalid as exc:
        return _portfolio_page(request, session, errors=exc.errors, values=form, status_code=422)
    return _done("/admin/portfolios?saved=portfolios")


@router.post("/liaisons/{user_id}/away")
def liaison_away(
    request: Request, user: AdminUser, session: SessionDep, form: FormFields, user_id: int
) -> Response:
    cover = form.get("cover_id", "")
    until = form.get("away_until", "").strip()
    try:
        try:
            last_day = date.fromisoformat(until) if until else None
        except ValueError:
            raise FormInvalid({"away_until": _("Enter the last day away as a date.")}) from None
        admin.set_away(
            session,
            actor_id=user.id,
            liaison_id=user_id,
            away=form.get("away") == "1",
            cover_id=admin.form_id(cover),
            away_until=last_day,
        )
    except FormInvalid as exc:
        errors = {
            f"away_until_{user_id}" if key == "away_until" else f"cover_{user_id}": msg
            for key, msg in exc.errors.items()
        }
        return _portfolio_page(request, session, errors=errors, status_code=422)
    return _done(f"/admin/portfolios?saved=liaison-{user_id}")
