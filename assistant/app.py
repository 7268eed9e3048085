"""The application factory."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import date
from typing import Any

from anyio import to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import HTTPException, RequestValidationError
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError, StatementError
from sqlalchemy.orm import configure_mappers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware

from assistant import i18n, templating
from assistant.clock import utcnow
from assistant.errors import AppError, LoginRequired
from assistant.forms.engine.definition import all_forms
from assistant.htmx import is_htmx
from assistant.i18n import _
from assistant.matcher import match
from assistant.outbox.runner import start_in_background
from assistant.schedule import steps_for
from assistant.security.csrf import verify_csrf
from assistant.settings import Settings, get_settings
from assistant.support import business_hours
from assistant.templating import render
from assistant.web import (
    account,
    admin,
    auth,
    chat,
    forms,
    forms_data,
    health,
    home,
    inbox,
    knowledge,
    pcw,
    practice,
    sms,
    sms_status,
)
from assistant.web.head import HeadMiddleware
from assistant.web.language import LanguageMiddleware
from assistant.web.middleware import SecurityMiddleware
from assistant.web.static import STATIC_DIR, VersionedStaticFiles

log = logging.getLogger(__name__)

# One router per area, in plain imports a reader (and mypy) can follow.
# A request is matched against the routes in this order: the busiest paths first (texts,
# chat questions, form submissions). No route hides another (tests/test_role_matrix.py), so
# the order changes only how soon a request finds its route.
ROUTERS = (
    sms.router,
    chat.router,
    forms.router,
    health.router,
    auth.router,
    home.router,
    admin.router,
    inbox.router,
    pcw.router,
    practice.router,
    sms_status.router,
    forms_data.router,
    knowledge.router,
    account.router,
)


def _lifespan(settings: Settings) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Background work tied to the app's life: the outbox worker, when configured."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _warm_up()
        # What start-up built (the app, the knowledge base, the matcher's indexes) lives as long
        # as the process: out of the collector's sight, a full collection no longer walks it and
        # stalls every request in flight for tens of milliseconds (``make bench``: p99).
        gc.collect()
        gc.freeze()
        to_thread.current_default_thread_limiter().total_tokens = settings.web_threads
        stop_worker = None
        if settings.run_worker_in_app and settings.environment != "test":
            stop_worker = start_in_background(settings, steps_for(settings))
        try:
            yield
        finally:
            if stop_worker is not None:
                stop_worker()

    return lifespan


def _warm_up() -> None:
    """Build at start-up what the first requests would otherwise build while people wait:
    the knowledge base and the matcher's indexes, the form definitions, this year's and next
    year's public holidays (a ticket's due time), the database models' mappings and the page
    templates. Eight form submissions arriving together at a new process each waited about 2 s
    for these. Each is built once per process."""
    match("", audience="practice")
    all_forms()
    this_year = utcnow().year
    for year in (this_year, this_year + 1):
        business_hours.holiday_name(date(year, 1, 1))
    configure_mappers()
    for name in templating.env.list_templates(extensions=("html",)):
        templating.env.get_template(name)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.check_production()
    app = FastAPI(
        title="PHO assistant",
        lifespan=_lifespan(settings),
        dependencies=[Depends(verify_csrf)],
        docs_url=None if settings.environment == "production" else "/docs",
        # The API description only where the docs are served.
        openapi_url=None if settings.environment == "production" else "/openapi.json",
        redoc_url=None,
    )
    app.state.settings = settings  # the routes' SettingsDep
    app.add_middleware(LanguageMiddleware)
    app.add_middleware(SecurityMiddleware, secure_cookies=settings.https)
    # HTML, CSS and JavaScript compress well (the form page: 112 KB as sent, 31 KB gzipped).
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    # Outermost: a HEAD request is answered as its GET would be, headers and all, without a body.
    app.add_middleware(HeadMiddleware)
    app.mount("/static", VersionedStaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(
            STATIC_DIR / "favicon.svg",
            media_type="image/svg+xml",
            headers={"Cache-Control": "public, max-age=604800"},
        )

    for router in ROUTERS:
        app.include_router(router)
    _install_error_handlers(app)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    async def login_required(request: Request, exc: Exception) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        url = f"/login?next={target}" if request.method == "GET" else "/login"
        if is_htmx(request):
            return Response(status_code=204, headers={"HX-Redirect": url})
        return RedirectResponse(url, status_code=302)

    async def app_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AppError)
        return _error_page(request, exc.status_code, exc.message)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if request.url.path.startswith("/api/"):
            from fastapi.responses import JSONResponse

            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
        page = _error_page(request, exc.status_code, "")
        page.headers.update(exc.headers or {})  # 405's Allow, say
        return page

    async def unstorable(request: Request, exc: Exception) -> Response:
        """Input the database cannot hold (an id beyond 64 bits, a NUL character) or cannot
        read (JSON nested thousands deep): the request is refused, nothing else is lost."""
        log.info("refused unstorable input on %s: %s", request.url.path, type(exc).__name__)
        message = _(
            "Something in what was sent cannot be stored: a number that is far too long, or a "
            "character that is not text. Check it and try again."
        )
        if request.url.path.startswith("/api/"):
            from fastapi.responses import JSONResponse

            return JSONResponse({"detail": message}, status_code=400)
        return _error_page(request, 400, message)

    async def invalid_request(request: Request, exc: Exception) -> Response:
        """A request whose address, query or form does not fit the route (the two JSON routes
        read their bodies themselves): a page in the person's language (a 404 for an address
        that names no record), never the raw error, and never what was typed (a password)
        echoed back."""
        assert isinstance(exc, RequestValidationError)
        errors = list(exc.errors())
        if any(error["loc"][:1] == ("path",) for error in errors):
            return _error_page(request, 404, "")
        return _error_page(request, 422, _invalid_message(errors))

    async def database_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StatementError)
        if isinstance(exc, DataError) or isinstance(exc.orig, (OverflowError, ValueError)):
            return await unstorable(request, exc)
        raise exc

    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(OverflowError, unstorable)
    app.add_exception_handler(RecursionError, unstorable)
    app.add_exception_handler(StatementError, database_error)
    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(AppError, app_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(StarletteHTTPException, http_error)


def _invalid_message(errors: list[Any]) -> str:
    """What was wrong with a request's fields, said plainly (the first problem found)."""
    for error in errors:
        if error.get("type") == "string_too_long":
            limit = (error.get("ctx") or {}).get("max_length")
            if isinstance(limit, int):
                return _("That is too long: please keep it under %(n)s characters.", n=limit)
    if any(error.get("type") == "missing" for error in errors):
        return _("Something the form needs is missing. Go back, fill it in and try again.")
    return _("Something in what was sent is not valid. Go back, check it and try again.")


def _error_page(request: Request, status: int, message: str) -> Response:
    # The request's language as last settled (a route that read the signed-in user in its own
    # thread settled it there).
    i18n.set_locale(getattr(request.state, "locale", i18n.current_locale()))
    titles = {
        422: _("Please check what you sent."),
        403: _("You do not have access to this page."),
        404: _("We could not find that page."),
        409: _("That conflicts with a change someone else made."),
        429: _("Too many requests. Please wait a moment and try again."),
    }
    if status == 403 and not message:
        message = _("If you were filling in a form, go back, reload the page and try again.")
    title = titles.get(status, _("Something went wrong."))
    return render(request, "error.html", {"title": title, "message": message}, status_code=status)
