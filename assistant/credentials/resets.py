"""Reset links sent by email, and new passwords an admin asks a person to choose.

A reset link carries a random token; only its SHA-256 is stored. A link works once, for a short
while, and using it ends every other link of that person. "Forgot password" answers the same
whether or not the address belongs to anyone; requests are throttled by address (a refusal
says so) and by account (silently: no more emails go out).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, update
from sqlmodel import Session, col, delete, select

from assistant import audit
from assistant.clock import utcnow
from assistant.credentials.models import (
    PasswordChangeRequired,
    PasswordResetRequest,
    PasswordResetToken,
)
from assistant.errors import AppError, NotFound
from assistant.i18n import _
from assistant.notify.models import EmailKind
from assistant.notify.queue import enqueue_email
from assistant.people.accounts import find_by_email, new_password_problems
from assistant.people.admin import FormInvalid
from assistant.people.models import User
from assistant.security.passwords import hash_password
from assistant.security.sessions import UserSession
from assistant.settings import Settings

RESET_PATH = "/password/reset/"
KEEP_REQUESTS = timedelta(days=2)


class TooManyResetRequests(AppError):
    status_code = 429


class ResetLinkInvalid(AppError):
    """Unknown, used, expired, or for an account that can no longer sign in."""

    status_code = 410


@dataclass(frozen=True)
class ResetPolicy:
    minutes: int = 30
    window_seconds: int = 3600
    per_account: int = 3
    per_ip: int = 10

    @classmethod
    def from_settings(cls, settings: Settings) -> ResetPolicy:
        return cls(
            minutes=settings.password_reset_minutes,
            window_seconds=settings.password_reset_window_seconds,
            per_account=settings.password_reset_per_account,
            per_ip=settings.password_reset_per_ip,
        )


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _account_digest(email: str) -> str:
    return _digest(email.strip().lower())


def _issue(session: Session, *, user_id: int, purpose: str, minutes: int, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        PasswordResetToken(
            id=_digest(token),
            user_id=user_id,
            purpose=purpose,
            created_at=now,
            expires_at=now + timedelta(minutes=minutes),
        )
    )
    session.flush()
    return token


def _count(session: Session, *clauses: ColumnElement[bool]) -> int:
    stmt = select(func.count()).select_from(PasswordResetRequest).where(*clauses)
    return int(session.exec(stmt).one())


def request_reset(
    session: Session, *, email: str, ip: str, policy: ResetPolicy, now: datetime | None = None
) -> None:
    """Someone asked for a reset link for ``email``: queue one if the address is an active
    account's and it has not had too many lately. Flushed, not committed."""
    now = now or utcnow()
    since = now - timedelta(seconds=policy.window_seconds)
    session.exec(
        delete(PasswordResetRequest).where(col(PasswordResetRequest.at) < now - KEEP_REQUESTS)
    )
    if (
        _count(session, col(PasswordResetRequest.ip) == ip, col(PasswordResetRequest.at) > since)
        >= policy.per_ip
    ):
        raise TooManyResetRequests(_("Too many requests. Please wait a moment and try again."))
    account = _account_digest(email)
    earlier = _count(
        session,
        col(PasswordResetRequest.account_digest) == account,
        col(PasswordResetRequest.at) > since,
    )
    session.add(PasswordResetRequest(at=now, ip=ip[:64], account_digest=account))
    session.flush()
    if earlier >= policy.per_account:
        return
    user = find_by_email(session, email)
    if user is None or not user.active or user.id is None:
        return
    token = _issue(session, user_id=user.id, purpose="email", minutes=policy.minutes, now=now)
    enqueue_email(
        session,
        to=user.email,
        user_id=user.id,
        kind=EmailKind.password_reset,
        dedupe_key=f"password_reset:{_digest(token)}",
        params={"path": RESET_PATH + token, "minutes": policy.minutes},
        sensitive=True,
        expires_at=now + timedelta(minutes=policy.minutes),
        now=now,
    )
    audit.record(
        session,
        actor_id=None,
        action="password_reset_requested",
        entity="user",
        entity_id=user.id,
    )


def purge_expired_links(session: Session, *, now: datetime) -> int:
    """Delete the reset links that ran out (used or not, they open nothing any more), in one
    statement; how many (the caller commits). The audit log keeps that they were asked for."""
    gone = session.execute(
        delete(PasswordResetToken).where(col(PasswordResetToken.expires_at) <= now)
    )
    return int(getattr(gone, "rowcount", 0))


def _valid_token(session: Session, token: str, now: datetime) -> PasswordResetToken | None:
    if not token or len(token) > 200:
        return None
    row = session.get(PasswordResetToken, _digest(token))
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return row


def check_link(session: Session, *, token: str, now: datetime | None = None) -> PasswordResetToken:
    """The reset token behind a link, if it can still be used; raises ResetLinkInvalid."""
    row = _valid_token(session, token, now or utcnow())
    if row is None:
        raise ResetLinkInvalid(
            _("This link has expired or has already been used. Ask for a new one.")
        )
    return row


def reset_with_token(
    session: Session, *, token: str, password: str, confirm: str, now: datetime | None = None
) -> User:
    """Set a new password through a reset link (or a forced change at sign-in).

    The link is used up, every other open link of the person too; an admin's request for a new
    password is met; the person's sessions end. Flushed, not committed.
    """
    now = now or utcnow()
    row = check_link(session, token=token, now=now)
    user = session.get(User, row.user_id)
    assert user is not None and user.id is not None
    problems = new_password_problems(password, confirm, old_hash=user.password_hash)
    if problems:
        raise FormInvalid(problems)
    # Use the link up with a guarded UPDATE, so two requests with one link cannot both succeed.
    used = session.exec(
        update(PasswordResetToken)
        .where(
            col(PasswordResetToken.id) == row.id,
            col(PasswordResetToken.used_at).is_(None),
        )
        .values(used_at=now)
    )
    if used.rowcount != 1:
        raise ResetLinkInvalid(
            _("This link has expired or has already been used. Ask for a new one.")
        )
    session.exec(
        update(PasswordResetToken)
        .where(
            col(PasswordResetToken.user_id) == user.id,
            col(PasswordResetToken.used_at).is_(None),
        )
        .values(used_at=now)
    )
    user.password_hash = hash_password(password)
    session.add(user)
    session.exec(
        delete(PasswordChangeRequired).where(col(PasswordChangeRequired.user_id) == user.id)
    )
    session.exec(delete(UserSession).where(col(UserSession.user_id) == user.id))
    audit.record(
        session,
        actor_id=user.id,
        action="password_reset",
        entity="user",
        entity_id=user.id,
        via=row.purpose,
    )
    session.flush()
    return user


def change_required(session: Session, *, user_id: int) -> bool:
    return session.get(PasswordChangeRequired, user_id) is not None


def start_forced_change(
    session: Session, *, user_id: int, policy: ResetPolicy, now: datetime | None = None
) -> str:
    """At sign-in, for a person who must choose a new password: a one-time token that lets the
    next form set it (the session starts only after that). Flushed, not committed."""
    return _issue(
        session, user_id=user_id, purpose="forced", minutes=policy.minutes, now=now or utcnow()
    )


def require_change(
    session: Session, *, actor_id: int | None, user_id: int, now: datetime | None = None
) -> User:
    """An admin asks a person to choose a new password at their next sign-in; the person's
    sessions end now. Flushed, not committed."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound()
    if user_id == actor_id:
        raise FormInvalid(
            {"password_change": _("To change your own password, use your account page.")}
        )
    if session.get(PasswordChangeRequired, user_id) is None:
        session.add(
            PasswordChangeRequired(
                user_id=user_id, required_by_id=actor_id, created_at=now or utcnow()
            )
        )
    session.exec(delete(UserSession).where(col(UserSession.user_id) == user_id))
    audit.record(
        session,
        actor_id=actor_id,
        action="password_change_required",
        entity="user",
        entity_id=user_id,
    )
    session.flush()
    return user
