"""Tiny typed helpers for htmx request and response headers."""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import Request, Response


def is_htmx(request: Request) -> bool:
    """An htmx request that wants a fragment (a page restored from history wants the page)."""
    return (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-history-restore-request") != "true"
    )


def is_boosted(request: Request) -> bool:
    return request.headers.get("hx-boosted") == "true"


def trigger(response: Response, event: str, detail: Any = None) -> Response:
    response.headers["HX-Trigger"] = json.dumps({event: detail}) if detail is not None else event
    return response


def redirect(response: Response, url: str) -> Response:
    response.headers["HX-Redirect"] = url
    return response


def retarget(
    response: Response,
    selector: str,
    swap: Literal["innerHTML", "outerHTML", "beforeend", "afterbegin", "none"] = "innerHTML",
) -> Response:
    response.headers["HX-Retarget"] = selector
    response.headers["HX-Reswap"] = swap
    return response
