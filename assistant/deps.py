"""Request dependencies in one place, as Annotated aliases."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from assistant import i18n
from assistant.db import get_engine
from assistant.errors import Forbidden, LoginRequired
from assistant.people.accounts import user_for_token
from assistant.people.models import Role, User
from assistant.security.sessions import SESSION_COOKIE
from assistant.settings import Settings, get_settings

SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_session(request: Request, settings: SettingsDep) -> Iterator[Session]:
    """The request's one database session (the sign-in check, the route and the page's
    navigation badges share it); it connects only when first used."""
    with Session(get_engine(settings.database_url)) as session:
        request.state.db = session
        try:
            yield session
        finally:
            request.state.db = None


SessionDep = Annotated[Session, Depends(get_session)]


def load_user(request: Request, session: SessionDep) -> User | None:
    """The signed-in user, if any (no database work without a session cookie). Detached from
    the session, so the route's commits leave it as it was read."""
    token = request.cookies.get(SESSION_COOKIE)
    user: User | None = None
    if token:
        user = user_for_token(session, token)
        if user is not None:
            session.expunge(user)
    request.state.user = user
    return user


async def set_request_locale(
    request: Request, user: Annotated[User | None, Depends(load_user)]
) -> str:
    """App-wide: the request's language, from the user, the cookie or the browser."""
    lang = i18n.negotiate(
        user_pref=user.locale if user else None,
        cookie=request.cookies.get(i18n.LOCALE_COOKIE),
        accept_language=request.headers.get("accept-language"),
    )
    i18n.set_locale(lang)
    request.state.locale = lang
    return lang


OptionalUser = Annotated[User | None, Depends(load_user)]
LocaleDep = Annotated[str, Depends(set_request_locale)]


def require_user(user: OptionalUser) -> User:
    if user is None:
        raise LoginRequired()
    return user


CurrentUser = Annotated[User, Depends(require_user)]


def require_roles(*roles: Role) -> Callable[[User], User]:
    """A dependency allowing only the given roles (admins are not implied)."""
    allowed = frozenset(roles)

    def check(user: CurrentUser) -> User:
        if user.role not in allowed:
            raise Forbidden()
        return user

    check.allowed_roles = allowed  # type: ignore[attr-defined]
    return check


StaffOfPHO = (Role.liaison, Role.coordinator, Role.mso, Role.admin)


async def form_fields(request: Request) -> dict[str, str]:
    """The posted form's text fields (the first value of each)."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


FormFields = Annotated[dict[str, str], Depends(form_fields)]
