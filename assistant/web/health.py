"""Liveness with the database: 200 when reachable, 503 when not."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from assistant.db import get_engine, is_reachable
from assistant.deps import SettingsDep

router = APIRouter()


@router.get("/healthz", include_in_schema=False)
def healthz(settings: SettingsDep) -> JSONResponse:
    if is_reachable(get_engine(settings.database_url)):
        return JSONResponse({"status": "ok", "database": "ok"})
    return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
