"""The signed-in home page: where each role starts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from assistant.deps import CurrentUser
from assistant.templating import render
from assistant.web.nav import links_for

router = APIRouter()


@router.get("/")
def home(request: Request, user: CurrentUser) -> Response:
    return render(request, "home.html", {"links": links_for(user.role)})
