"""Managing practices, teams, agencies, users and liaison portfolios.

Each ``parse_*`` turns what an admin typed into clean values or raises ``FormInvalid`` with a
translated message per field; each change is a plain function over a Session that records
an audit event.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from sqlmodel import Session, SQLModel, col, func, select

from assistant.audit import record
from assistant.clock import to_local, utcnow
from assistant.errors import Invalid, NotFound
from assistant.i18n import LANGUAGES, _
from assistant.people.cover import Cover, cover_for, is_away
from assistant.people.models import (
    Agency,
    AgencyBase,
    PortfolioAssignment,
    Practice,
    PracticeBase,
    Role,
    Team,
    TeamBase,
    TeamKind,
    User,
)
from assistant.security.passwords import hash_password
from assistant.security.sessions import end_all_sessions

MIN_PASSWORD = 10
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^[0-9 +()\-]*$")
_POSTCODE = re.compile(r"^[A-Za-z0-9 ]*$")

Model = TypeVar("Model", bound=SQLModel)


class FormInvalid(Invalid):
    """What was typed does not pass; ``errors`` maps field names to translated messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(_("Please correct the problems marked below."))
        self.errors = errors


@dataclass
class _Reader:
    """Reads text fields from a form, collecting errors."""

    form: Mapping[str, str]
    errors: dict[str, str] = field(default_factory=dict)

    def text(self, name: str, *, max_length: int) -> str:
        value = " ".join(str(self.form.get(name, "")).split())
        if len(value) > max_length:
            self.errors[name] = _(
                "Use at most %(max)d characters (you typed %(count)d).",
                max=max_length,
                count=len(value),
            )
        return value

    def name(self, name: str, *, max_length: int) -> str:
        value = self.text(name, max_length=max_length)
        if len(value) < 2:
            self.errors[name] = _("Enter a name of at least 2 characters.")
        return value

    def number(self, name: str, *, low: float, high: float, message: str) -> float | None:
        raw = str(self.form.get(name, "")).strip().replace(",", ".")
        if not raw:
            return None
        try:
            value = float(raw)
        except ValueError:
            self.errors[name] = message
            return None
        if not low <= value <= high:
            self.errors[name] = message
            return None
        return value

    def flag(self, name: str) -> bool:
        return str(self.form.get(name, "")).lower() in {"1", "on", "true", "yes"}

    def choice_id(self, name: str) -> int | None:
        return form_id(str(self.form.get(name, "")))

    def done(self) -> None:
        if self.errors:
            raise FormInvalid(self.errors)


def form_id(raw: str) -> int | None:
    """An id as a form sends it (a chosen option): None when nothing was chosen; 0, which no
    record has, when it is not plain digits within a database id's range, so the usual checks
    refuse it (str.isdigit() alone passes "¹", which int() refuses)."""
    text = raw.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit() and len(text) <= 10 and int(text) < 2**31:
        return int(text)
    return 0


def _get(session: Session, model: type[Model], obj_id: int) -> Model:
    obj = session.get(model, obj_id)
    if obj is None:
        raise NotFound()
    return obj


def _apply(obj: SQLModel, data: SQLModel, fields: tuple[str, ...]) -> list[str]:
    changed = []
    for name in fields:
        value = getattr(data, name)
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    return changed


def _save(
    session: Session, obj: Model, *, actor_id: int | None, action: str, entity: str, **detail: Any
) -> Model:
    session.add(obj)
    session.flush()
    record(
        session,
        actor_id=actor_id,
        action=action,
        entity=entity,
        entity_id=getattr(obj, "id", ""),
        **detail,
    )
    session.commit()
    session.refresh(obj)
    return obj


# Practices

PRACTICE_FIELDS = (
    "name",
    "address",
    "suburb",
    "postcode",
    "latitude",
    "longitude",
    "phone",
    "accepting_new_patients",
    "fee_notes",
    "languages",
)


def parse_practice(form: Mapping[str, str]) -> PracticeBase:
    r = _Reader(form)
    name = r.name("name", max_length=200)
    address = r.text("address", max_length=300)
    suburb = r.text("suburb", max_length=100)
    postcode = r.text("postcode", max_length=10).upper()
    if "postcode" not in r.errors and not _POSTCODE.match(postcode):
        r.errors["postcode"] = _("Enter a postcode using letters and digits only.")
    latitude = r.number(
        "latitude", low=-90, high=90, message=_("Enter a latitude between -90 and 90.")
    )
    longitude = r.number(
        "longitude", low=-180, high=180, message=_("Enter a longitude between -180 and 180.")
    )
    if (latitude is None) != (longitude is None) and not {"latitude", "longitude"} & set(r.errors):
        missing = "latitude" if latitude is None else "longitude"
        r.errors[missing] = _("Enter both latitude and longitude, or leave both empty.")
    phone = r.text("phone", max_length=40)
    if "phone" not in r.errors and not _PHONE.match(phone):
        r.errors["phone"] = _("Enter a phone number using digits, spaces and + ( ) - only.")
    fee_notes = r.text("fee_notes", max_length=500)
    languages = ", ".join(
        part.strip() for part in str(form.get("languages", "")).split(",") if part.strip()
    )
    if len(languages) > 200:
        r.errors["languages"] = _(
            "Use at most %(max)d characters (you typed %(count)d).", max=200, count=len(languages)
        )
    r.done()
    return PracticeBase(
        name=name,
        address=address,
        suburb=suburb,
        postcode=postcode,
        latitude=latitude,
        longitude=longitude,
        phone=phone,
        accepting_new_patients=r.flag("accepting_new_patients"),
        fee_notes=fee_notes,
        languages=languages,
    )


def list_practices(session: Session) -> list[Practice]:
    return list(
        session.exec(select(Practice).order_by(col(Practice.active).desc(), col(Practice.name)))
    )


def get_practice(session: Session, practice_id: int) -> Practice:
    return _get(session, Practice, practice_id)


def create_practice(session: Session, *, actor_id: int | None, data: PracticeBase) -> Practice:
    practice = Practice.model_validate(data.model_dump())
    return _save(session, practice, actor_id=actor_id, action="created", entity="practice")


def update_practice(
    session: Session, *, actor_id: int | None, practice_id: int, data: PracticeBase
) -> Practice:
    practice = get_practice(session, practice_id)
    changed = _apply(practice, data, PRACTICE_FIELDS)
    return _save(
        session, practice, actor_id=actor_id, action="changed", entity="practice", fields=changed
    )


def set_practice_active(
    session: Session, *, actor_id: int | None, practice_id: int, active: bool
) -> Practice:
    practice = get_practice(session, practice_id)
    practice.active = active
    action = "reactivated" if active else "deactivated"
    return _save(session, practice, actor_id=actor_id, action=action, entity="practice")


# Teams and agencies


def _name_taken(
    session: Session, model: type[Team] | type[Agency], name: str, own: int | None
) -> bool:
    """Another row has this name, whatever the case: compared in Python, as the databases'
    lower() leaves letters such as Ō alone (a few dozen rows)."""
    wanted = name.casefold()
    rows = session.exec(select(model.id, model.name)).all()
    return any(row_id != own and row_name.casefold() == wanted for row_id, row_name in rows)


def parse_team(
    session: Session, form: Mapping[str, str], *, team_id: int | None = None
) -> TeamBase:
    r = _Reader(form)
    name = r.name("name", max_length=120)
    kind_raw = str(form.get("kind", ""))
    if kind_raw not in {k.value for k in TeamKind}:
        r.errors["kind"] = _("Choose what kind of team this is.")
    if "name" not in r.errors and _name_taken(session, Team, name, team_id):
        r.errors["name"] = _("Another team already has this name.")
    r.done()
    return TeamBase(name=name, kind=TeamKind(kind_raw))


def list_teams(session: Session) -> list[Team]:
    return list(session.exec(select(Team).order_by(col(Team.active).desc(), col(Team.name))))


def get_team(session: Session, team_id: int) -> Team:
    return _get(session, Team, team_id)


def create_team(session: Session, *, actor_id: int | None, data: TeamBase) -> Team:
    team = Team.model_validate(data.model_dump())
    return _save(session, team, actor_id=actor_id, action="created", entity="team")


def update_team(session: Session, *, actor_id: int | None, team_id: int, data: TeamBase) -> Team:
    team = get_team(session, team_id)
    changed = _apply(team, data, ("name", "kind"))
    return _save(session, team, actor_id=actor_id, action="changed", entity="team", fields=changed)


def set_team_active(session: Session, *, actor_id: int | None, team_id: int, active: bool) -> Team:
    team = get_team(session, team_id)
    team.active = active
    action = "reactivated" if active else "deactivated"
    return _save(session, team, actor_id=actor_id, action=action, entity="team")


def parse_agency(
    session: Session, form: Mapping[str, str], *, agency_id: int | None = None
) -> AgencyBase:
    r = _Reader(form)
    name = r.name("name", max_length=160)
    if "name" not in r.errors and _name_taken(session, Agency, name, agency_id):
        r.errors["name"] = _("Another agency already has this name.")
    r.done()
    return AgencyBase(name=name)


def list_agencies(session: Session) -> list[Agency]:
    return list(session.exec(select(Agency).order_by(col(Agency.active).desc(), col(Agency.name))))


def get_agency(session: Session, agency_id: int) -> Agency:
    return _get(session, Agency, agency_id)


def create_agency(session: Session, *, actor_id: int | None, data: AgencyBase) -> Agency:
    agency = Agency.model_validate(data.model_dump())
    return _save(session, agency, actor_id=actor_id, action="created", entity="agency")


def update_agency(
    session: Session, *, actor_id: int | None, agency_id: int, data: AgencyBase
) -> Agency:
    agency = get_agency(session, agency_id)
    changed = _apply(agency, data, ("name",))
    return _save(
        session, agency, actor_id=actor_id, action="changed", entity="agency", fields=changed
    )


def set_agency_active(
    session: Session, *, actor_id: int | None, agency_id: int, active: bool
) -> Agency:
    agency = get_agency(session, agency_id)
    agency.active = active
    action = "reactivated" if active else "deactivated"
    return _save(session, agency, actor_id=actor_id, action=action, entity="agency")


# Users

USER_FIELDS = (
    "name",
    "email",
    "role",
    "practice_id",
    "team_id",
    "agency_id",
    "locale",
    "practice_manager",
)


@dataclass(frozen=True)
class UserData:
    name: str
    email: str
    role: Role
    practice_id: int | None
    team_id: int | None
    agency_id: int | None
    locale: str | None
    # Practice staff only: keeps the practice's "taking new patients" listing current.
    practice_manager: bool = False


def _password_error(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return _("Use a password of at least %(min)d characters.", min=MIN_PASSWORD)
    if len(password) > 1024:
        return _("Use a password of at most %(max)d characters.", max=1024)
    return None


def parse_user(
    session: Session, form: Mapping[str, str], *, user_id: int | None = None
) -> tuple[UserData, str | None]:
    """Clean user fields; for a new user (no ``user_id``) also the first password."""
    r = _Reader(form)
    name = r.text("name", max_length=120)
    if not name:
        r.errors["name"] = _("Enter the person's name.")
    email = str(form.get("email", "")).strip()
    if not _EMAIL.match(email) or len(email) > 254:
        r.errors["email"] = _("Enter an email address like name@example.nz.")
    else:
        # Both sides through the database's lower(): Python's also folds letters such as Ü,
        # which let an existing address through to the unique index.
        same = func.lower(User.email) == func.lower(email)
        other = session.exec(select(User).where(same)).first()
        if other is not None and other.id != user_id:
            r.errors["email"] = _("Another user already has this email address.")
    role_raw = str(form.get("role", ""))
    role = Role(role_raw) if role_raw in {x.value for x in Role} else None
    if role is None:
        r.errors["role"] = _("Choose a role.")
    practice_id = r.choice_id("practice_id")
    team_id = r.choice_id("team_id")
    agency_id = r.choice_id("agency_id")
    if practice_id is not None and session.get(Practice, practice_id) is None:
        practice_id = None
    if team_id is not None and session.get(Team, team_id) is None:
        team_id = None
    if agency_id is not None and session.get(Agency, agency_id) is None:
        agency_id = None
    if role == Role.practice_staff and practice_id is None:
        r.errors["practice_id"] = _("Choose the practice this person works at.")
    if role == Role.pcw and agency_id is None:
        r.errors["agency_id"] = _("Choose the agency this person works from.")
    if role in (Role.practice_staff, Role.pcw):
        team_id = None
    if role != Role.practice_staff:
        practice_id = None
    if role != Role.pcw:
        agency_id = None
    practice_manager = role == Role.practice_staff and r.flag("practice_manager")
    locale_raw = str(form.get("locale", ""))
    locale = locale_raw if locale_raw in LANGUAGES else None
    password: str | None = None
    if user_id is None:
        password = str(form.get("password", ""))
        problem = _password_error(password)
        if problem:
            r.errors["password"] = problem
    r.done()
    assert role is not None
    data = UserData(name, email, role, practice_id, team_id, agency_id, locale, practice_manager)
    return data, password


def list_users(session: Session, *, role: Role | None = None) -> list[User]:
    stmt = select(User).order_by(col(User.active).desc(), col(User.name))
    if role is not None:
        stmt = stmt.where(User.role == role)
    return list(session.exec(stmt))


def get_user(session: Session, user_id: int) -> User:
    return _get(session, User, user_id)


def view_user(session: Session, *, actor_id: int | None, user_id: int) -> User:
    """A user's record for the edit page; the view is audited."""
    user = get_user(session, user_id)
    record(session, actor_id=actor_id, action="viewed", entity="user", entity_id=user_id)
    session.refresh(user)
    return user


def create_user(session: Session, *, actor_id: int | None, data: UserData, password: str) -> User:
    user = User(
        name=data.name,
        email=data.email,
        role=data.role,
        practice_id=data.practice_id,
        team_id=data.team_id,
        agency_id=data.agency_id,
        locale=data.locale,
        practice_manager=data.practice_manager,
        password_hash=hash_password(password),
    )
    return _save(session, user, actor_id=actor_id, action="created", entity="user")


def update_user(session: Session, *, actor_id: int | None, user_id: int, data: UserData) -> User:
    user = get_user(session, user_id)
    if user_id == actor_id and data.role != user.role:
        raise FormInvalid({"role": _("You cannot change your own role.")})
    changed = []
    for name in USER_FIELDS:
        value = getattr(data, name)
        if getattr(user, name) != value:
            setattr(user, name, value)
            changed.append(name)
    if "role" in changed and user.role != Role.liaison:
        user.away, user.cover_id = False, None
    return _save(session, user, actor_id=actor_id, action="changed", entity="user", fields=changed)


def set_user_active(session: Session, *, actor_id: int | None, user_id: int, active: bool) -> User:
    user = get_user(session, user_id)
    if user_id == actor_id and not active:
        raise FormInvalid({"active": _("You cannot deactivate your own account.")})
    user.active = active
    action = "reactivated" if active else "deactivated"
    saved = _save(session, user, actor_id=actor_id, action=action, entity="user")
    if not active:
        end_all_sessions(session, user_id)
    return saved


def reset_password(session: Session, *, actor_id: int | None, user_id: int, password: str) -> User:
    """Set a new password; the user's open sessions end."""
    problem = _password_error(password)
    if problem:
        raise FormInvalid({"password": problem})
    user = get_user(session, user_id)
    user.password_hash = hash_password(password)
    saved = _save(session, user, actor_id=actor_id, action="password_reset", entity="user")
    if user_id != actor_id:
        end_all_sessions(session, user_id)
    return saved


# Liaison portfolios


@dataclass(frozen=True)
class Portfolios:
    liaisons: list[User]
    practices: list[Practice]
    holder: dict[int, int]  # practice id -> liaison id
    covers: dict[int, Cover] = field(default_factory=dict)  # liaison id -> who answers today
    away: set[int] = field(default_factory=set)  # liaisons away today

    def practices_of(self, liaison_id: int | None) -> list[Practice]:
        return [
            p for p in self.practices if p.id is not None and self.holder.get(p.id) == liaison_id
        ]


def portfolios(session: Session) -> Portfolios:
    liaisons = list(
        session.exec(
            select(User).where(User.role == Role.liaison, col(User.active)).order_by(col(User.name))
        )
    )
    practices = list(
        session.exec(select(Practice).where(col(Practice.active)).order_by(col(Practice.name)))
    )
    holder = {a.practice_id: a.liaison_id for a in session.exec(select(PortfolioAssignment))}
    today = to_local(utcnow()).date()
    covers = {u.id: cover_for(session, u, today) for u in liaisons if u.id is not None}
    away = {u.id for u in liaisons if u.id is not None and is_away(u, today)}
    return Portfolios(liaisons, practices, holder, covers, away)


def _active_liaison(session: Session, user_id: int) -> User | None:
    user = session.get(User, user_id)
    if user is None or user.role != Role.liaison or not user.active:
        return None
    return user


def assign_practices(
    session: Session, *, actor_id: int | None, assignments: Mapping[int, int | None]
) -> list[int]:
    """Set who holds each practice (None: nobody); returns the practices that changed."""
    errors = {}
    for practice_id, liaison_id in assignments.items():
        if session.get(Practice, practice_id) is None:
            raise NotFound()
        if liaison_id is not None and _active_liaison(session, liaison_id) is None:
            errors[f"liaison_{practice_id}"] = _("Choose an active liaison.")
    if errors:
        raise FormInvalid(errors)
    changed = []
    for practice_id, liaison_id in assignments.items():
        current = session.get(PortfolioAssignment, practice_id)
        if current is not None and current.liaison_id == liaison_id:
            continue
        if current is None and liaison_id is None:
            continue
        if current is not None:
            session.delete(current)
            session.flush()
        if liaison_id is not None:
            session.add(PortfolioAssignment(practice_id=practice_id, liaison_id=liaison_id))
        record(
            session,
            actor_id=actor_id,
            action="portfolio_changed",
            entity="practice",
            entity_id=practice_id,
            liaison_id=liaison_id,
        )
        changed.append(practice_id)
    session.commit()
    return changed


def set_away(
    session: Session,
    *,
    actor_id: int | None,
    liaison_id: int,
    away: bool,
    cover_id: int | None,
    away_until: date | None = None,
    today: date | None = None,
) -> User:
    """Mark a liaison away (until a last day, or until marked back) or back, and who covers
    their practices meanwhile."""
    liaison = _active_liaison(session, liaison_id)
    if liaison is None:
        raise NotFound()
    today = today or to_local(utcnow()).date()
    if away and away_until is not None and away_until < today:
        raise FormInvalid({"away_until": _("The last day away cannot be in the past.")})
    if cover_id is not None:
        cover = _active_liaison(session, cover_id)
        if cover_id == liaison_id:
            raise FormInvalid({"cover_id": _("A liaison cannot cover for themselves.")})
        if cover is None:
            raise FormInvalid({"cover_id": _("Choose an active liaison.")})
        if away and is_away(cover, today):
            raise FormInvalid({"cover_id": _("Choose a liaison who is not away.")})
    liaison.away = away
    liaison.away_until = away_until if away else None
    liaison.cover_id = cover_id
    return _save(
        session,
        liaison,
        actor_id=actor_id,
        action="away_changed",
        entity="user",
        away=away,
        away_until=str(away_until or ""),
        cover_id=cover_id,
    )
