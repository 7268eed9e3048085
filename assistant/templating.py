"""Jinja2 rendering: a whole page, or one block of it for an htmx request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from jinja2_fragments import render_block
from sqlmodel import Session

from assistant import i18n
from assistant.db import get_engine
from assistant.forms.capture.filling import logic as form_logic
from assistant.htmx import is_htmx
from assistant.security.csrf import CSRF_FIELD, token_for
from assistant.settings import get_settings
from assistant.web.nav import NavLink, links_for
from assistant.web.static import static_url

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


def _template_ngettext(singular: str, plural: str, n: int) -> str:
    """Jinja fills in ``num`` and any other named values itself, after this returns."""
    return i18n.translations(i18n.current_locale()).ngettext(singular, plural, n)


def _make_env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        # Production's templates do not change under a running process: no check of each
        # template's file on every page.
        auto_reload=get_settings().environment != "production",
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, _template_ngettext, newstyle=True
    )
    env.globals.update(
        languages=i18n.LANGUAGES,
        language_names=i18n.LANGUAGE_NAMES,
        csrf_field=CSRF_FIELD,
        nav_links=links_for,
        form_logic=form_logic,
        static_url=static_url,
    )
    env.filters["date"] = i18n.format_date
    env.filters["datetime"] = i18n.format_datetime
    env.filters["number"] = i18n.format_number
    return env


env = _make_env()


def _nav_badge(request: Request, user: Any) -> Any:
    """For the nav: the count behind a link, asked only when the full page draws it."""

    counted: dict[str, int] = {}

    def count(link: NavLink) -> int:
        if link.badge is None or user is None:
            return 0
        settings = getattr(request.app.state, "settings", None)
        if settings is None:
            return 0
        if link.href not in counted:
            session = getattr(request.state, "db", None)
            if session is not None:  # the request's own session
                counted[link.href] = link.badge(session, user)
            else:  # a page drawn outside a route's session (an error page, say)
                with Session(get_engine(settings.database_url)) as own:
                    counted[link.href] = link.badge(own, user)
        return counted[link.href]

    return count


def page_context(request: Request) -> dict[str, Any]:
    lang = i18n.current_locale()
    user = getattr(request.state, "user", None)
    return {
        "request": request,
        "user": user,
        "nav_badge": _nav_badge(request, user),
        "lang": lang,
        "html_lang": i18n.html_lang(lang),
        "dir": i18n.text_direction(lang),
        "csrf_token": token_for(request),
        "path": request.url.path,
    }


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    block: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render ``template``; for an htmx request with ``block`` given, only that block."""
    ctx = page_context(request) | (context or {})
    if block is not None and is_htmx(request):
        html = render_block(env, template, block, ctx)
    else:
        html = env.get_template(template).render(ctx)
    return HTMLResponse(html, status_code=status_code, headers=headers)


def render_string(template: str, context: dict[str, Any] | None = None) -> str:
    """Render a template outside a request (SMS bodies, e-mails, exports)."""
    return env.get_template(template).render(context or {})
