"""Admin pages: practices, teams, agencies, users and liaison portfolios.

Practices, teams, agencies and users are each declared once as a ``Resource``; ``add_resource``
gives each the same six routes (list, new, create, edit, update, active). Users' passwords and
the liaisons' portfolios have routes of their own. The routes commit; the domain only flushes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Generic, Protocol, TypeVar

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import AliasChoices, BaseModel
from sqlmodel import Session

from assistant.credentials import resets
from assistant.deps import FormFields, SessionDep, require_roles
from assistant.i18n import lazy_gettext
from assistant.people import admin
from assistant.people.admin_forms import (
    AgencyForm,
    AwayForm,
    FormInvalid,
    NewUserForm,
    PracticeForm,
    TeamForm,
    UserForm,
    form_id,
    read_form,
)
from assistant.people.models import Role, TeamKind, User
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

# What is typed is never sent back in a page.
NEVER_SHOWN = frozenset({"password"})


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


@router.get("")
def index(request: Request, user: AdminUser) -> Response:
    return _page(request, "admin/index.html", {})


# The records the admin manages: each declared once, with its six routes from add_resource.


class HasId(Protocol):
    id: int | None


Record = TypeVar("Record", bound=HasId)
Record_co = TypeVar("Record_co", bound=HasId, covariant=True)
New = TypeVar("New", bound=BaseModel)
New_contra = TypeVar("New_contra", bound=BaseModel, contravariant=True)
Edit = TypeVar("Edit", bound=BaseModel)
Edit_contra = TypeVar("Edit_contra", bound=BaseModel, contravariant=True)


class Creates(Protocol[Record_co, New_contra]):
    def __call__(
        self, session: Session, /, *, actor_id: int | None, data: New_contra
    ) -> Record_co: ...


class Updates(Protocol[Edit_contra]):
    def __call__(
        self, session: Session, record_id: int, /, *, actor_id: int | None, data: Edit_contra
    ) -> object: ...


class SetsActive(Protocol):
    def __call__(
        self, session: Session, record_id: int, /, *, actor_id: int | None, active: bool
    ) -> object: ...


class Views(Protocol[Record_co]):
    def __call__(
        self, session: Session, record_id: int, /, *, actor_id: int | None
    ) -> Record_co: ...


def _no_extras(session: Session, record: object) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Resource(Generic[Record, New, Edit]):
    """One kind of record: its pages, the forms that create and change it, and the domain
    functions that list, read, create, change and (de)activate it."""

    path: str  # under /admin: "practices"
    id_name: str  # its path parameter, one of RECORD_IDS: "practice_id"
    record_name: str  # what the form's template calls the record (None on a new one)
    list_template: str
    form_template: str
    new_form: type[New]
    edit_form: type[Edit]
    listing: Callable[[Session], dict[str, Any]]  # the list page's context
    get: Callable[[Session, int], Record]
    create: Creates[Record, New]
    update: Updates[Edit]
    set_active: SetsActive
    view: Views[Record] | None = None  # the edit page's read, where reading it is audited
    form_extras: Callable[[Session, Record | None], dict[str, Any]] = _no_extras


# One endpoint serves each route of every resource: FastAPI reads the id from whichever of
# these names the route's path has.
RECORD_IDS = ("practice_id", "team_id", "agency_id", "user_id")
RecordId = Annotated[int, Path(validation_alias=AliasChoices(*RECORD_IDS))]


def _values(record: object, form: type[BaseModel]) -> dict[str, str]:
    """A stored record as its form shows it (a ticked box is "on")."""
    values = {}
    for name in form.model_fields:
        value = getattr(record, name)
        if isinstance(value, bool):
            values[name] = "on" if value else ""
        else:
            values[name] = "" if value is None else str(value)
    return values


def _form_page(
    resource: Resource[Record, New, Edit],
    request: Request,
    session: Session,
    record: Record | None,
    *,
    values: Mapping[str, str],
    problem: FormInvalid | None = None,
) -> Response:
    """The record's form (a new one's when ``record`` is None); with the problems found, as
    typed (a password left out), answered 422."""
    context = {
        resource.record_name: record,
        "values": {k: v for k, v in values.items() if k not in NEVER_SHOWN},
    } | resource.form_extras(session, record)
    if problem is None:
        return _page(request, resource.form_template, context)
    context |= {"errors": problem.errors, "error_summary": problem.message}
    return _page(request, resource.form_template, context, status_code=422)


def add_resource(router: APIRouter, resource: Resource[Record, New, Edit]) -> None:
    """The resource's six routes: its list, a new one's form, creating it, its form, changing
    it and (de)activating it. Each change is committed here, or rolled back when refused."""
    if resource.id_name not in RECORD_IDS:
        raise ValueError(f"{resource.id_name} is not one of RECORD_IDS")
    many = f"/{resource.path}"
    one = f"{many}/{{{resource.id_name}}}"

    def listing(request: Request, user: AdminUser, session: SessionDep) -> Response:
        return _page(request, resource.list_template, resource.listing(session))

    def new(request: Request, user: AdminUser, session: SessionDep) -> Response:
        return _form_page(resource, request, session, None, values={})

    def create(
        request: Request, user: AdminUser, session: SessionDep, form: FormFields
    ) -> Response:
        try:
            data = read_form(resource.new_form, form, session=session)
            created_id = resource.create(session, actor_id=user.id, data=data).id
        except FormInvalid as problem:
            session.rollback()
            return _form_page(resource, request, session, None, values=form, problem=problem)
        session.commit()
        return _done(f"/admin{many}?saved={created_id}")

    def edit(
        request: Request, user: AdminUser, session: SessionDep, record_id: RecordId
    ) -> Response:
        if resource.view is None:
            record = resource.get(session, record_id)
        else:
            record = resource.view(session, record_id, actor_id=user.id)
            session.commit()  # the view's audit record
        values = _values(record, resource.edit_form)
        return _form_page(resource, request, session, record, values=values)

    def update(
        request: Request,
        user: AdminUser,
        session: SessionDep,
        form: FormFields,
        record_id: RecordId,
    ) -> Response:
        record = resource.get(session, record_id)
        try:
            data = read_form(resource.edit_form, form, session=session, record_id=record_id)
            resource.update(session, record_id, actor_id=user.id, data=data)
        except FormInvalid as problem:
            session.rollback()
            return _form_page(resource, request, session, record, values=form, problem=problem)
        session.commit()
        return _done(f"/admin{many}?saved={record_id}")

    def active(
        request: Request,
        user: AdminUser,
        session: SessionDep,
        form: FormFields,
        record_id: RecordId,
    ) -> Response:
        record = resource.get(session, record_id)
        try:
            resource.set_active(
                session, record_id, actor_id=user.id, active=form.get("active") == "1"
            )
        except FormInvalid as problem:
            session.rollback()
            values = _values(record, resource.edit_form)
            return _form_page(resource, request, session, record, values=values, problem=problem)
        session.commit()
        return _done(f"/admin{many}?saved={record_id}")

    name = resource.path
    router.add_api_route(many, listing, methods=["GET"], name=name)
    router.add_api_route(f"{many}/new", new, methods=["GET"], name=f"{name}_new")
    router.add_api_route(many, create, methods=["POST"], name=f"{name}_create")
    router.add_api_route(one, edit, methods=["GET"], name=f"{name}_edit")
    router.add_api_route(one, update, methods=["POST"], name=f"{name}_update")
    router.add_api_route(f"{one}/active", active, methods=["POST"], name=f"{name}_active")


def _users_listing(session: Session) -> dict[str, Any]:
    return {
        "users": admin.list_users(session),
        "practice_names": {p.id: p.name for p in admin.list_practices(session)},
        "team_names": {t.id: t.name for t in admin.list_teams(session)},
        "agency_names": {a.id: a.name for a in admin.list_agencies(session)},
    }


def _user_choices(session: Session, person: User | None) -> dict[str, Any]:
    choices: dict[str, Any] = {
        "practices": [p for p in admin.list_practices(session) if p.active],
        "teams": [t for t in admin.list_teams(session) if t.active],
        "agencies": [a for a in admin.list_agencies(session) if a.active],
        "roles": list(Role),
    }
    if person is not None and person.id is not None:
        choices["change_required"] = resets.change_required(session, user_id=person.id)
    return choices


PRACTICES = Resource(
    path="practices",
    id_name="practice_id",
    record_name="practice",
    list_template="admin/practices.html",
    form_template="admin/practice_form.html",
    new_form=PracticeForm,
    edit_form=PracticeForm,
    listing=lambda session: {"practices": admin.list_practices(session)},
    get=admin.get_practice,
    create=admin.create_practice,
    update=admin.update_practice,
    set_active=admin.set_practice_active,
)
TEAMS = Resource(
    path="teams",
    id_name="team_id",
    record_name="team",
    list_template="admin/teams.html",
    form_template="admin/team_form.html",
    new_form=TeamForm,
    edit_form=TeamForm,
    listing=lambda session: {"teams": admin.list_teams(session)},
    get=admin.get_team,
    create=admin.create_team,
    update=admin.update_team,
    set_active=admin.set_team_active,
)
AGENCIES = Resource(
    path="agencies",
    id_name="agency_id",
    record_name="agency",
    list_template="admin/agencies.html",
    form_template="admin/agency_form.html",
    new_form=AgencyForm,
    edit_form=AgencyForm,
    listing=lambda session: {"agencies": admin.list_agencies(session)},
    get=admin.get_agency,
    create=admin.create_agency,
    update=admin.update_agency,
    set_active=admin.set_agency_active,
)
USERS = Resource(
    path="users",
    id_name="user_id",
    record_name="person",
    list_template="admin/users.html",
    form_template="admin/user_form.html",
    new_form=NewUserForm,
    edit_form=UserForm,
    listing=_users_listing,
    get=admin.get_user,
    view=admin.view_user,
    create=admin.create_user,
    update=admin.update_user,
    set_active=admin.set_user_active,
    form_extras=_user_choices,
)

add_resource(router, PRACTICES)
add_resource(router, TEAMS)
add_resource(router, AGENCIES)
add_resource(router, USERS)


# Users' passwords


@router.post("/users/{user_id}/password")
def user_password(
    request: Request, user: AdminUser, session: SessionDep, form: FormFields, user_id: int
) -> Response:
    person = admin.get_user(session, user_id)
    try:
        admin.reset_password(
            session, actor_id=user.id, user_id=user_id, password=form.get("password", "")
        )
    except FormInvalid as problem:
        session.rollback()
        values = _values(person, UserForm)
        return _form_page(USERS, request, session, person, values=values, problem=problem)
    session.commit()
    return _done(f"/admin/users?saved={user_id}")


@router.post("/users/{user_id}/password-change")
def user_password_change(
    request: Request, user: AdminUser, session: SessionDep, user_id: int
) -> Response:
    """The person must choose a new password at their next sign-in."""
    person = admin.get_user(session, user_id)
    try:
        resets.require_change(session, actor_id=user.id, user_id=user_id)
    except FormInvalid as problem:
        session.rollback()
        values = _values(person, UserForm)
        return _form_page(USERS, request, session, person, values=values, problem=problem)
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
        practice_id = form_id(key.removeprefix("liaison_"))
        if key.startswith("liaison_") and practice_id:
            assignments[practice_id] = form_id(value)
    try:
        admin.assign_practices(session, actor_id=user.id, assignments=assignments)
    except FormInvalid as problem:
        session.rollback()
        return _portfolio_page(
            request, session, errors=problem.errors, values=form, status_code=422
        )
    session.commit()
    return _done("/admin/portfolios?saved=portfolios")


@router.post("/liaisons/{user_id}/away")
def liaison_away(
    request: Request, user: AdminUser, session: SessionDep, form: FormFields, user_id: int
) -> Response:
    try:
        data = read_form(AwayForm, form)
        admin.set_away(
            session,
            actor_id=user.id,
            liaison_id=user_id,
            away=data.away,
            cover_id=data.cover_id,
            away_until=data.away_until,
        )
    except FormInvalid as problem:
        session.rollback()
        errors = {
            f"away_until_{user_id}" if key == "away_until" else f"cover_{user_id}": message
            for key, message in problem.errors.items()
        }
        return _portfolio_page(request, session, errors=errors, status_code=422)
    session.commit()
    return _done(f"/admin/portfolios?saved=liaison-{user_id}")
