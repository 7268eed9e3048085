"""Managing practices, teams, agencies, users and liaison portfolios.

Each change is a plain function over a Session, taking what ``admin_forms`` read from a form:
it adds, flushes and records an audit event; the caller commits. (``FormInvalid`` and
``MIN_PASSWORD`` are re-exported for the places that know them from here.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlmodel import Session, SQLModel, col, select

from assistant.audit import record
from assistant.clock import to_local, utcnow
from assistant.errors import NotFound
from assistant.i18n import _
from assistant.people.admin_forms import MIN_PASSWORD as MIN_PASSWORD
from assistant.people.admin_forms import (
    AgencyForm,
    NewUserForm,
    PasswordForm,
    PracticeForm,
    TeamForm,
    UserForm,
    read_form,
)
from assistant.people.admin_forms import FormInvalid as FormInvalid
from assistant.people.cover import Cover, cover_for, is_away
from assistant.people.models import (
    Agency,
    PortfolioAssignment,
    Practice,
    Role,
    Team,
    User,
)
from assistant.security.passwords import hash_password
from assistant.security.sessions import end_all_sessions

Model = TypeVar("Model", bound=SQLModel)
Managed = TypeVar("Managed", Practice, Team, Agency)


def _get(session: Session, model: type[Model], obj_id: int) -> Model:
    obj = session.get(model, obj_id)
    if obj is None:
        raise NotFound()
    return obj


def _apply(obj: SQLModel, data: BaseModel, fields: tuple[str, ...]) -> list[str]:
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
    return obj


def _create(
    session: Session, model: type[Model], data: BaseModel, *, actor_id: int | None, entity: str
) -> Model:
    obj = model.model_validate(data.model_dump())
    return _save(session, obj, actor_id=actor_id, action="created", entity=entity)


def _update(
    session: Session,
    model: type[Model],
    obj_id: int,
    data: BaseModel,
    *,
    actor_id: int | None,
    entity: str,
) -> Model:
    obj = _get(session, model, obj_id)
    changed = _apply(obj, data, tuple(type(data).model_fields))
    return _save(session, obj, actor_id=actor_id, action="changed", entity=entity, fields=changed)


def _set_active(
    session: Session,
    model: type[Managed],
    obj_id: int,
    active: bool,
    *,
    actor_id: int | None,
    entity: str,
) -> Managed:
    obj = _get(session, model, obj_id)
    obj.active = active
    action = "reactivated" if active else "deactivated"
    return _save(session, obj, actor_id=actor_id, action=action, entity=entity)


# Practices


def list_practices(session: Session) -> list[Practice]:
    return list(
        session.exec(select(Practice).order_by(col(Practice.active).desc(), col(Practice.name)))
    )


def get_practice(session: Session, practice_id: int) -> Practice:
    return _get(session, Practice, practice_id)


def create_practice(session: Session, *, actor_id: int | None, data: PracticeForm) -> Practice:
    return _create(session, Practice, data, actor_id=actor_id, entity="practice")


def update_practice(
    session: Session, practice_id: int, *, actor_id: int | None, data: PracticeForm
) -> Practice:
    return _update(session, Practice, practice_id, data, actor_id=actor_id, entity="practice")


def set_practice_active(
    session: Session, practice_id: int, *, actor_id: int | None, active: bool
) -> Practice:
    return _set_active(session, Practice, practice_id, active, actor_id=actor_id, entity="practice")


# Teams and agencies


def list_teams(session: Session) -> list[Team]:
    return list(session.exec(select(Team).order_by(col(Team.active).desc(), col(Team.name))))


def get_team(session: Session, team_id: int) -> Team:
    return _get(session, Team, team_id)


def create_team(session: Session, *, actor_id: int | None, data: TeamForm) -> Team:
    return _create(session, Team, data, actor_id=actor_id, entity="team")


def update_team(session: Session, team_id: int, *, actor_id: int | None, data: TeamForm) -> Team:
    return _update(session, Team, team_id, data, actor_id=actor_id, entity="team")


def set_team_active(session: Session, team_id: int, *, actor_id: int | None, active: bool) -> Team:
    return _set_active(session, Team, team_id, active, actor_id=actor_id, entity="team")


def list_agencies(session: Session) -> list[Agency]:
    return list(session.exec(select(Agency).order_by(col(Agency.active).desc(), col(Agency.name))))


def get_agency(session: Session, agency_id: int) -> Agency:
    return _get(session, Agency, agency_id)


def create_agency(session: Session, *, actor_id: int | None, data: AgencyForm) -> Agency:
    return _create(session, Agency, data, actor_id=actor_id, entity="agency")


def update_agency(
    session: Session, agency_id: int, *, actor_id: int | None, data: AgencyForm
) -> Agency:
    return _update(session, Agency, agency_id, data, actor_id=actor_id, entity="agency")


def set_agency_active(
    session: Session, agency_id: int, *, actor_id: int | None, active: bool
) -> Agency:
    return _set_active(session, Agency, agency_id, active, actor_id=actor_id, entity="agency")


# Users


def list_users(session: Session, *, role: Role | None = None) -> list[User]:
    stmt = select(User).order_by(col(User.active).desc(), col(User.name))
    if role is not None:
        stmt = stmt.where(User.role == role)
    return list(session.exec(stmt))


def get_user(session: Session, user_id: int) -> User:
    return _get(session, User, user_id)


def view_user(session: Session, user_id: int, *, actor_id: int | None) -> User:
    """A user's record for the edit page; the view is audited."""
    user = get_user(session, user_id)
    record(session, actor_id=actor_id, action="viewed", entity="user", entity_id=user_id)
    session.refresh(user)
    return user


def create_user(session: Session, *, actor_id: int | None, data: NewUserForm) -> User:
    user = User.model_validate(
        data.model_dump(exclude={"password"}) | {"password_hash": hash_password(data.password)}
    )
    return _save(session, user, actor_id=actor_id, action="created", entity="user")


def update_user(session: Session, user_id: int, *, actor_id: int | None, data: UserForm) -> User:
    user = get_user(session, user_id)
    if user_id == actor_id and data.role != user.role:
        raise FormInvalid({"role": _("You cannot change your own role.")})
    changed = _apply(user, data, tuple(UserForm.model_fields))
    if "role" in changed and user.role != Role.liaison:
        user.away, user.cover_id = False, None
    return _save(session, user, actor_id=actor_id, action="changed", entity="user", fields=changed)


def set_user_active(session: Session, user_id: int, *, actor_id: int | None, active: bool) -> User:
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
    data = read_form(PasswordForm, {"password": password})
    user = get_user(session, user_id)
    user.password_hash = hash_password(data.password)
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
