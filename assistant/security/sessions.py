"""Server-side sessions stored in the database; the cookie carries only a random token."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlmodel import Field, Session, SQLModel, col, delete, select

from assistant.clock import utcnow

SESSION_COOKIE = "session"


class UserSession(SQLModel, table=True):
    __tablename__ = "user_session"

    id: str = Field(primary_key=True, max_length=64)  # sha256 of the cookie token
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, *, user_id: int, max_age_seconds: int) -> str:
    """Create a session for the user; returns the token to put in the cookie."""
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            id=_digest(token),
            user_id=user_id,
            expires_at=utcnow() + timedelta(seconds=max_age_seconds),
        )
    )
    session.commit()
    return token


def user_id_for_token(session: Session, token: str | None) -> int | None:
    """The user a session cookie belongs to, while the session lasts."""
    if not token:
        return None
    row = session.get(UserSession, _digest(token))
    if row is None or row.expires_at <= utcnow():
        return None
    return row.user_id


def end_session(session: Session, token: str | None) -> None:
    if token:
        session.exec(delete(UserSession).where(col(UserSession.id) == _digest(token)))
        session.commit()


def end_all_sessions(session: Session, user_id: int) -> None:
    session.exec(delete(UserSession).where(col(UserSession.user_id) == user_id))
    session.commit()


def purge_expired(session: Session) -> int:
    rows = list(session.exec(select(UserSession).where(UserSession.expires_at <= utcnow())))
    for row in rows:
        session.delete(row)
    session.commit()
    return len(rows)
