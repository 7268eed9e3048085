"""Sign in, sign out, the language switch, and forgotten or forced-new passwords."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from anyio import sleep
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from assistant import i18n
from assistant.clock import utcnow
from assistant.credentials import resets
from assistant.deps import OptionalUser, SessionDep, SettingsDep
from assistant.htmx import is_htmx
from assistant.i18n import _
from assistant.people import accounts
from assistant.people.admin import FormInvalid
from assistant.security import throttle
from assistant.security.sessions import SESSION_COOKIE, end_session, start_session
from assistant.settings import Settings
from assistant.templating import render
from assistant.web.home import landing_for

router = APIRouter()

# Pages carrying a reset token are not kept by the browser or anything in between.
NO_STORE = {"Cache-Control": "no-store"}


def safe_next(url: str | None) -> str:
    """Only same-site paths; anything else goes home."""
    if url and url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    return "/"


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def set_session_cookie(response: Response, token: str, settings: Settings) -> Response:
    """The signed-in browser's session cookie (HTTP only, same-site, secure over HTTPS)."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_max_age_seconds,
        httponly=True,
        samesite="lax",
        secure=settings.https,
    )
    return response


def _too_many_attempts(request: Request, context: dict[str, Any], minutes: int) -> Response:
    error = i18n.ngettext(
        "Too many failed sign-in attempts. Try again in %(num)d minute.",
        "Too many failed sign-in attempts. Try again in %(num)d minutes.",
        minutes,
    )
    return render(request, "auth/login.html", context | {"error": error}, status_code=429)


@router.get("/login")
def login_form(
    request: Request, user: OptionalUser, next: str | None = None, changed: str | None = None
) -> Response:
    if user is not None:
        return RedirectResponse(safe_next(next), status_code=302)
    context = {"next": safe_next(next), "email": "", "password_changed": changed == "1"}
    return render(request, "auth/login.html", context)


@router.post("/login")
async def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    context = {"next": safe_next(next), "email": email}
    counted = await run_in_threadpool(_count_attempt, request, session, settings, email, context)
    if isinstance(counted, Response):
        return counted
    # Slowed down after several failures: the wait holds no thread and no database connection
    # (the attempt is stored already), so many slowed attempts at once leave the server free.
    if counted:
        await sleep(counted)
    return await run_in_threadpool(
        _check_password, request, session, settings, email, password, next, context
    )


def _count_attempt(
    request: Request, session: Session, settings: Settings, email: str, context: dict[str, Any]
) -> Response | float:
    """The attempt counted before its password is checked: a refusal, or how long to wait."""
    ip = client_ip(request)
    state = throttle.state_for(
        session,
        ip=ip,
        account=email,
        window_seconds=settings.login_window_seconds,
        slow_after=settings.login_slow_after,
        block_after=settings.login_block_after,
        slow_delay_seconds=settings.login_slow_delay_seconds,
    )
    if state.blocked_until is not None:
        minutes = max(1, round((state.blocked_until - utcnow()).total_seconds() / 60))
        return _too_many_attempts(request, context, minutes)
    attempt = throttle.begin_attempt(
        session,
        ip=ip,
        account=email,
        window_seconds=settings.login_window_seconds,
        block_after=settings.login_block_after,
    )
    if attempt is None:  # other attempts at the same moment used up the allowance
        minutes = max(1, round(settings.login_window_seconds / 60))
        return _too_many_attempts(request, context, minutes)
    session.commit()  # gives the connection back for the wait
    return state.delay_seconds


def _check_password(
    request: Request,
    session: Session,
    settings: Settings,
    email: str,
    password: str,
    next: str,
    context: dict[str, Any],
) -> Response:
    user = accounts.authenticate(session, email=email, password=password)
    if user is None or user.id is None:
        # The attempt, counted before the check, stays counted as a failure.
        error = _("That email and password do not match an active account. Please try again.")
        return render(request, "auth/login.html", context | {"error": error}, status_code=401)
    throttle.clear_account(session, account=email)
    if resets.change_required(session, user_id=user.id):
        # An admin asked for a new password: no session until one is chosen.
        reset_token = resets.start_forced_change(
            session, user_id=user.id, policy=resets.ResetPolicy.from_settings(settings)
        )
        session.commit()
        reset_context = {"token": reset_token, "forced": True, "next": safe_next(next)}
        return render(request, "auth/reset.html", reset_context, headers=NO_STORE)
    token = start_session(
        session, user_id=user.id, max_age_seconds=settings.session_max_age_seconds
    )
    session.commit()
    # Back to where sign-in interrupted them; else to their own work.
    target = safe_next(next)
    response = RedirectResponse(
        target if target != "/" else landing_for(user.role), status_code=303
    )
    return set_session_cookie(response, token, settings)


@router.post("/logout")
def logout(request: Request, session: SessionDep) -> Response:
    end_session(session, request.cookies.get(SESSION_COOKIE))
    session.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    # Tells the offline forms' service worker and page to clear the phone's stored data.
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@router.post("/lang")
def switch_language(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: OptionalUser,
    lang: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    response: Response = RedirectResponse(safe_next(next), status_code=303)
    if is_htmx(request):
        # Chosen from the menu with JavaScript on: reload the page in the new language.
        response = Response(status_code=204, headers={"HX-Refresh": "true"})
    if lang in i18n.LANGUAGES:
        if user is not None and user.id is not None:
            accounts.set_locale(session, user_id=user.id, lang=lang)
            session.commit()
        response.set_cookie(
            i18n.LOCALE_COOKIE,
            lang,
            max_age=60 * 60 * 24 * 365,
            httponly=True,
            samesite="lax",
            secure=settings.https,
        )
    return response


@router.get("/password/forgot")
def forgot_form(request: Request) -> Response:
    return render(request, "auth/forgot.html", {"email": "", "sent": False})


@router.post("/password/forgot")
def forgot(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    email: Annotated[str, Form(max_length=254)] = "",
) -> Response:
    """The same answer whether or not the address belongs to anyone."""
    policy = resets.ResetPolicy.from_settings(settings)
    try:
        resets.request_reset(session, email=email, ip=client_ip(request), policy=policy)
    except resets.TooManyResetRequests as exc:
        session.rollback()
        context = {"email": email, "sent": False, "error": exc.message}
        return render(request, "auth/forgot.html", context, status_code=429)
    session.commit()
    context = {"email": "", "sent": True, "minutes": policy.minutes}
    return render(request, "auth/forgot.html", context)


@router.get("/password/reset/{token}")
def reset_form(request: Request, session: SessionDep, token: str) -> Response:
    try:
        resets.check_link(session, token=token)
    except resets.ResetLinkInvalid as exc:
        context = {"invalid": exc.message}
        return render(request, "auth/reset.html", context, status_code=exc.status_code)
    return render(request, "auth/reset.html", {"token": token, "next": "/"}, headers=NO_STORE)


@router.post("/password/reset")
def reset(
    request: Request,
    session: SessionDep,
    token: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=2048)] = "",
    confirm: Annotated[str, Form(max_length=2048)] = "",
    forced: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    try:
        resets.reset_with_token(session, token=token, password=password, confirm=confirm)
    except resets.ResetLinkInvalid as exc:
        session.rollback()
        context = {"invalid": exc.message}
        return render(request, "auth/reset.html", context, status_code=exc.status_code)
    except FormInvalid as exc:
        session.rollback()
        form_context = {
            "token": token,
            "forced": forced == "1",
            "next": safe_next(next),
            "errors": exc.errors,
            "error_summary": exc.message,
        }
        return render(request, "auth/reset.html", form_context, status_code=422)
    session.commit()
    query = {"changed": "1"} | ({"next": safe_next(next)} if safe_next(next) != "/" else {})
    response = RedirectResponse(f"/login?{urlencode(query)}", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
