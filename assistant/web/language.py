"""Pure ASGI middleware: each request's language, settled before anything answers it.

From the cookie (the person's choice on this device), else the browser's Accept-Language, else
English; reading the signed-in user then puts their own saved choice first
(``deps.settle_locale``). Pages for unknown addresses speak it too.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from assistant.deps import settle_locale


class LanguageMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            settle_locale(Request(scope), None)
        await self.app(scope, receive, send)
