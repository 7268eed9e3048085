"""Signing in and the user's own preferences, including their own password."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col, delete, func, select

from assistant import audit, db
from assistant.i18n import LANGUAGES, _
from assistant.people.admin import MIN_PASSWORD, FormInvalid
from assistant.people.models import User
from assistant.security.passwords import DUMMY_HASH, hash_password, verify_password
from assistant.security.sessions import LIVE_SESSION, UserSession, live_session_params

MAX_PASSWORD = 1024


class WrongCurrentPassword(FormInvalid):
    """The current password given to change it was not right (counted like a failed sign-in)."""


def find_by_email(session: Session, email: str) -> User | None:
    stmt = select(User).where(func.lower(User.email) == email.strip().lower())
    return session.exec(stmt).first()


def authenticate(session: Session, *, email: str, password: str) -> User | None:
    """The active user with this email and password, else None (constant-ish time)."""
    user = find_by_email(session, email)
    if user is None or not user.active:
        verify_password(DUMMY_HASH, password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    return user


def set_password(session: Session, *, user: User, password: str) -> None:
    """Flushed: the caller commits."""
    user.password_hash = hash_password(password)
    session.add(user)
    session.flush()


def set_locale(session: Session, *, user_id: int, lang: str) -> None:
    """The user's language from now on (flushed: the caller commits)."""
    if lang not in LANGUAGES:
        raise ValueError(lang)
    user = session.get(User, user_id)
    if user is not None:
        user.locale = lang
        session.add(user)
        session.flush()


def new_password_problems(password: str, confirm: str, *, old_hash: str = "") -> dict[str, str]:
    """What is wrong with a new password (field name -> translated message); empty when fine."""
    if len(password) < MIN_PASSWORD:
        return {"password": _("Use a password of at least %(min)d characters.", min=MIN_PASSWORD)}
    if len(password) > MAX_PASSWORD:
        return {"password": _("Use a password of at most %(max)d characters.", max=MAX_PASSWORD)}
    if password != confirm:
        return {"confirm": _("The two new passwords are not the same.")}
    if old_hash and verify_password(old_hash, password):
        return {"password": _("Choose a new password, not the one you have now.")}
    return {}


def change_password(
    session: Session, *, user_id: int, current: str, password: str, confirm: str
) -> User:
    """The signed-in person changes their own password (their current one is required).

    Every session of the person ends (the caller starts a fresh one for this browser). Only
    flushed: the caller commits.
    """
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise FormInvalid({"current": _("Your current password is not right.")})
    if not verify_password(user.password_hash, current):
        raise WrongCurrentPassword({"current": _("Your current password is not right.")})
    problems = new_password_problems(password, confirm, old_hash=user.password_hash)
    if problems:
        raise FormInvalid(problems)
    user.password_hash = hash_password(password)
    session.add(user)
    session.exec(delete(UserSession).where(col(UserSession.user_id) == user_id))
    audit.record(
        session,
        actor_id=user_id,
        action="password_changed",
        entity="user",
        entity_id=user_id,
    )
    session.flush()
    return user


_USERS = User.metadata.tables["user"]
# A plain SELECT of the user's row (asked on every signed-in request): the ORM's loading would
# cost as much again as the query.
_SIGNED_IN = (
    sa.select(_USERS)
    .join(UserSession, col(UserSession.user_id) == _USERS.c.id)
    .where(LIVE_SESSION, _USERS.c.active.is_(True))
)


def user_for_token(session: Session, token: str | None) -> User | None:
    """The signed-in, still active user a session cookie belongs to (one query), detached
    from ``session``: changes to it are not saved unless it is added back."""
    if not token:
        return None
    row = session.connection().execute(_SIGNED_IN, live_session_params(token)).first()
    return None if row is None else db.loaded(User, row._mapping)
