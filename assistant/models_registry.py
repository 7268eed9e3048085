"""Import every table model so SQLModel.metadata is complete (Alembic, tests)."""

from __future__ import annotations

import importlib
import pkgutil

import assistant

FOUNDATION_MODULES = (
    "assistant.audit",
    "assistant.security.sessions",
    "assistant.security.throttle",
)


def import_all() -> None:
    for name in FOUNDATION_MODULES:
        importlib.import_module(name)
    for info in pkgutil.walk_packages(assistant.__path__, prefix="assistant."):
        if info.name.rsplit(".", 1)[-1] == "models":
            importlib.import_module(info.name)
