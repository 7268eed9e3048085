"""The signed-in person's own account: their password and which emails they get."""

from __future__ import annotations

from typing import Any

from anyio import sleep
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from assistant import i18n
from assistant.clock import utcnow
from assistant.deps import CurrentUser, FormFields, SessionDep, SettingsDep
from assistant.i18n import lazy_gettext
from assistant.notify import preferences
from assistant.notify.models import EmailKind
from assistant.people import accounts
from assistant.people.admin import FormInvalid
from assistant.people.models import User
from assistant.security import throttle
from assistant.security.sessions import start_session
from assistant.settings import Settings
from assistant.templating import render
from assistant.web.auth import client_ip, set_session_cookie

router = APIRouter(prefix="/account")

KIND_LABELS: dict[EmailKind, Any] = {
    EmailKind.ticket_new: lazy_gettext("A new question is waiting in my queue"),
    EmailKind.ticket_overdue: lazy_gettext("A question in my queue is overdue"),
    EmailKind.ticket_reply: lazy_gettext("The PHO has replied to my question"),
    EmailKind.enrolment_new: lazy_gettext("Someone asks my practice to take them on"),
}


@router.get("")
def index(request: Request, user: CurrentUser) -> Response:
    return render(request, "account/index.html", {})


# Password


def _password_page(request: Request, *, status_code: int = 200, **context: Any) -> Response:
    base: dict[str, Any] = {"errors": {}, "error_summary": "", "changed": False}
    return render(request, "account/password.html", base | context, status_code=status_code)


@router.get("/password")
def password_form(request: Request, user: CurrentUser, changed: str | None = None) -> Response:
    return _password_page(request, changed=changed == "1")


@router.post("/password")
async def change_password(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    form: FormFields,
) -> Response:
    waited = await run_in_threadpool(_slowed_or_refused, request, session, settings, user)
    if isinstance(waited, Response):
        return waited
    if waited:  # as a slowed sign-in: holding no thread and no database connection
        await sleep(waited)
    return await run_in_threadpool(_change, request, session, settings, user, form)


def _slowed_or_refused(
    request: Request, session: Session, settings: Settings, user: User
) -> Response | float:
    """Failed sign-ins for this account refuse the change for a while, or slow it down."""
    state = throttle.state_for(
        session,
        ip=client_ip(request),
        account=user.email,
        window_seconds=settings.login_window_seconds,
        slow_after=settings.login_slow_after,
        block_after=settings.login_block_after,
        slow_delay_seconds=settings.login_slow_delay_seconds,
    )
    if state.blocked_until is not None:
        minutes = max(1, round((state.blocked_until - utcnow()).total_seconds() / 60))
        error = i18n.ngettext(
            "Too many failed sign-in attempts. Try again in %(num)d minute.",
            "Too many failed sign-in attempts. Try again in %(num)d minutes.",
            minutes,
        )
        return _password_page(request, error_summary=error, status_code=429)
    session.commit()  # gives the connection back for the wait
    return state.delay_seconds


def _change(
    request: Request, session: Session, settings: Settings, user: User, form: dict[str, str]
) -> Response:
    assert user.id is not None
    ip = client_ip(request)
    try:
        accounts.change_password(
            session,
            user_id=user.id,
            current=form.get("current", ""),
            password=form.get("password", ""),
            confirm=form.get("confirm", ""),
        )
    except FormInvalid as exc:
        session.rollback()
        if isinstance(exc, accounts.WrongCurrentPassword):
            # A wrong current password counts like a failed sign-in for this account.
            throttle.record_failure(session, ip=ip, account=user.email)
        return _password_page(
            request, errors=exc.errors, error_summary=exc.message, status_code=422
        )
    # Every session of the person ended with the change: this browser gets a fresh one (the
    # new password and the new session are stored together).
    token = start_session(
        session, user_id=user.id, max_age_seconds=settings.session_max_age_seconds
    )
    session.commit()
    response = RedirectResponse("/account/password?changed=1", status_code=303)
    return set_session_cookie(response, token, settings)


# Notifications


def _notifications_page(
    request: Request, session: SessionDep, settings: SettingsDep, user: CurrentUser, saved: bool
) -> Response:
    assert user.id is not None
    choices = preferences.preferences_for(session, user_id=user.id, role=user.role)
    context = {
        "choices": choices,
        "labels": KIND_LABELS,
        "saved": saved,
        "email_enabled": settings.email_enabled,
    }
    return render(request, "account/notifications.html", context)


@router.get("/notifications")
def notifications_form(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    saved: str | None = None,
) -> Response:
    return _notifications_page(request, session, settings, user, saved == "1")


@router.post("/notifications")
def save_notifications(user: CurrentUser, session: SessionDep, form: FormFields) -> Response:
    assert user.id is not None
    chosen = {kind: form.get(kind.value) == "on" for kind in preferences.kinds_for(user.role)}
    preferences.set_preferences(session, user_id=user.id, role=user.role, enabled=chosen)
    session.commit()
    return RedirectResponse("/account/notifications?saved=1", status_code=303)
