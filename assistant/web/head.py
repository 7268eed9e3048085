"""HEAD answered as GET would be, without the body (RFC 9110, 9.3.2).

FastAPI's routes answer only the methods they name, so a HEAD request (an uptime monitor, a link
checker, a browser checking a download) got 405 from every page. Starlette's own routes answer
HEAD wherever they answer GET; this does the same for the whole app, in one place: the request
reaches the app as a GET, and the response keeps its status and headers (its length and type
among them) but sends no body.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # the body's parts are dropped; the last one ends the response
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        # A copy: the server still sees the HEAD it was sent (and sends no body either way).
        await self.app({**scope, "method": "GET"}, receive, headers_only)
