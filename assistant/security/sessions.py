"""Server-side sessions stored in the database; the cookie carries only a random token.

Starting and ending sessions only writes in the caller's transaction: the caller commits.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, bindparam
from sqlmodel import Field, Session, SQLModel, col, delete

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
    """Create a session for the user (flushed: the caller commits); returns the token to put
    in the cookie."""
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            id=_digest(token),
            user_id=user_id,
            expires_at=utcnow() + timedelta(seconds=max_age_seconds),
        )
    )
    session.flush()
    return token


def live_session_params(token: str) -> dict[str, object]:
    """The values for :data:`LIVE_SESSION`: this cookie's token, while it lasts."""
    return {"session_digest": _digest(token), "session_now": utcnow()}


# A condition on ``user_session`` (to join a user's row in the same query), with its values
# given by :func:`live_session_params`: built once, as it is asked on every signed-in request.
LIVE_SESSION: ColumnElement[bool] = and_(
    col(UserSession.id) == bindparam("session_digest"),
    col(UserSession.expires_at) > bindparam("session_now"),
)


def end_session(session: Session, token: str | None) -> None:
    """Sign this cookie's session out (the caller commits)."""
    if token:
        session.exec(delete(UserSession).where(col(UserSession.id) == _digest(token)))


def end_all_sessions(session: Session, user_id: int) -> None:
    """Sign the user out everywhere (with the change that calls for it: the caller commits)."""
    session.exec(delete(UserSession).where(col(UserSession.user_id) == user_id))


def purge_expired(session: Session, *, now: datetime) -> int:
    """Delete the sessions that have run out (they sign no one in again), in one statement;
    how many (the caller commits)."""
    gone = session.execute(delete(UserSession).where(col(UserSession.expires_at) <= now))
    return int(getattr(gone, "rowcount", 0))
