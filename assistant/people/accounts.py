"""Signing in and the user's own preferences."""

from __future__ import annotations

from sqlmodel import Session, func, select

from assistant.i18n import LANGUAGES
from assistant.people.models import User
from assistant.security.passwords import DUMMY_HASH, hash_password, verify_password


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
    user.password_hash = hash_password(password)
    session.add(user)
    session.commit()


def set_locale(session: Session, *, user_id: int, lang: str) -> None:
    if lang not in LANGUAGES:
        raise ValueError(lang)
    user = session.get(User, user_id)
    if user is not None:
        user.locale = lang
        session.add(user)
        session.commit()
