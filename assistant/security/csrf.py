"""CSRF protection: a double-submit token bound to an HttpOnly cookie.

Every state-changing request must carry the cookie's token back, in the form field
``csrf_token`` or the ``X-CSRF-Token`` header (htmx sends the header; see base.html).
Twilio's webhooks are exempt: they are authenticated by their signature instead.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import HTTPException, Request

CSRF_COOKIE = "csrftoken"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
EXEMPT_PREFIXES = ("/sms/twilio",)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_for(request: Request) -> str:
    """The token for this visitor, creating one (set as a cookie on the response) if needed."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf_token", None)
    if not token:
        token = new_token()
        request.state.new_csrf_token = token
    return str(token)


async def verify_csrf(request: Request) -> None:
    """App-wide dependency: refuse unsafe requests without a matching token."""
    if request.method in SAFE_METHODS or request.url.path.startswith(EXEMPT_PREFIXES):
        return
    expected = request.cookies.get(CSRF_COOKIE)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise HTTPException(status_code=403, detail="csrf")
