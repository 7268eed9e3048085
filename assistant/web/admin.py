"""Admin pages: practices, teams, agencies, users and liaison portfolios."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/admin")
