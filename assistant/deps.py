"""Request dependencies in one place, as Annotated aliases."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

from anyio import CapacityLimiter, to_thread
from fastapi import Depends, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from assistant import i18n
from assistant.db import close_session, get_engine
from assistant.errors import Forbidden, LoginRequired
from assistant.people.accounts import user_for_token
from assistant.people.models import Role, User
from assistant.security.sessions import SESSION_COOKIE
from assistant.settings import Settings, get_settings

# The request's dependencies that do no blocking work are ``async def``: FastAPI runs a plain
# ``def`` dependency in the thread pool, a hand-over that costs more than the work itself. Each
# dependency also costs its own step in FastAPI's solving, on every request: the busiest ones
# take what they need from the request directly.


def settings_of(request: Request) -> Settings:
    """The app's settings (``create_app``'s), else the environment's."""
    settings = getattr(request.app.state, "settings", None)
    return settings if isinstance(settings, Settings) else get_settings()


async def current_settings(request: Request) -> Settings:
    return settings_of(request)


SettingsDep = Annotated[Settings, Depends(current_settings)]


_CLOSING = CapacityLimiter(4)


def _open_session(request: Request) -> Session:
    """The request's one database session (the sign-in check, the route and the page's
    navigation badges share it); it connects only when first used."""
    session = Session(get_engine(settings_of(request).database_url))
    request.state.db = session
    return session


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's session (``_open_session``); one that did connect is closed in the
    thread pool (closing it ends its transaction in the database)."""
    session = _open_session(request)
    try:
        yield session
    finally:
        request.state.db = None
        if session.in_transaction():
            # Its own threads: a session that holds SQLite's write lock must be able to close
            # while every thread of the pool waits for that lock (FastAPI does the same).
            await to_thread.run_sync(close_session, session, limiter=_CLOSING)
        else:
            session.close()


SessionDep = Annotated[Session, Depends(get_session)]

T = TypeVar("T")


async def in_request_thread(request: Request, work: Callable[[Session], T]) -> T:
    """``work(session)`` in the thread pool, with the request's session opened, used and
    closed in that thread (ended as ``close_session`` ends it), instead of ``SessionDep``. The
    busiest routes use it: a dependency that yields costs FastAPI's solving an exit stack and
    a shielded exit on every request (for a text, a fifth of the event loop's Python calls)."""

    def run() -> T:
        session = _open_session(request)
        try:
            return work(session)
        finally:
            request.state.db = None
            close_session(session)

    return await run_in_threadpool(run)


async def load_user(request: Request, session: SessionDep) -> User | None:
    """The signed-in user, if any (no database work without a session cookie). Detached from
    the session, so the route's commits leave it as it was read. The request's language is
    then the user's own choice, if they made one."""
    token = request.cookies.get(SESSION_COOKIE)
    user: User | None = None
    if token:
        user = await run_in_threadpool(_signed_in_then_close, session, token)
    _seen(request, user)
    return user


def _signed_in_then_close(session: Session, token: str) -> User | None:
    user = user_for_token(session, token)
    # The connection goes back to the pool while the request waits for a thread for its route.
    close_session(session, only_read=True)
    return user


def _seen(request: Request, user: User | None) -> None:
    request.state.user = user
    if user is not None and user.locale:
        settle_locale(request, user)


def settle_locale(request: Request, user: User | None) -> str:
    """The request's language: the user's own choice (when given), the cookie, the browser;
    set for the request (``i18n.current_locale``, ``request.state.locale``)."""
    lang = i18n.negotiate(
        user_pref=user.locale if user else None,
        cookie=request.cookies.get(i18n.LOCALE_COOKIE),
        accept_language=request.headers.get("accept-language"),
    )
    i18n.set_locale(lang)
    request.state.locale = lang
    return lang


OptionalUser = Annotated[User | None, Depends(load_user)]


async def require_user(user: OptionalUser) -> User:
    if user is None:
        raise LoginRequired()
    return user


CurrentUser = Annotated[User, Depends(require_user)]


def require_roles(*roles: Role) -> Callable[[User], Awaitable[User]]:
    """A dependency allowing only the given roles (admins are not implied)."""
    allowed = frozenset(roles)

    async def check(user: CurrentUser) -> User:
        if user.role not in allowed:
            raise Forbidden()
        return user

    check.allowed_roles = allowed  # type: ignore[attr-defined]
    return check


StaffOfPHO = (Role.liaison, Role.coordinator, Role.mso, Role.admin)


@dataclass(frozen=True)
class SignIn:
    """The signed-in person, read when the route asks (``user()``), in the route's own thread.

    A route whose work runs in the thread pool reads the sign-in there too: one hand-over to a
    thread per request instead of two (``load_user`` takes one of its own), on the paths people
    use most. Who may use the route is declared all the same, by the dependency that gives it
    (:func:`sign_in_later`)."""

    request: Request
    roles: frozenset[Role]

    def user(self, session: Session) -> User:
        """The user, read in the request's ``session``, if signed in with one of the route's
        roles; else LoginRequired or Forbidden, as ``require_roles`` would have raised."""
        token = self.request.cookies.get(SESSION_COOKIE)
        user = user_for_token(session, token)
        _seen(self.request, user)
        if user is None:
            raise LoginRequired()
        if user.role not in self.roles:
            raise Forbidden()
        return user


def sign_in_later(*roles: Role) -> Callable[[Request], Awaitable[SignIn]]:
    """A dependency giving the route a :class:`SignIn` for the given roles (admins are not
    implied); nothing is read until the route asks."""
    allowed = frozenset(roles)

    async def later(request: Request) -> SignIn:
        return SignIn(request, allowed)

    later.allowed_roles = allowed  # type: ignore[attr-defined]
    return later


async def form_fields(request: Request) -> dict[str, str]:
    """The posted form's text fields (the first value of each)."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


FormFields = Annotated[dict[str, str], Depends(form_fields)]
