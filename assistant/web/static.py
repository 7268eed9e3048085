"""Static files under versioned addresses, kept by browsers for a year.

Pages link every script and stylesheet as ``/static/<path>?v=<digest of its content>``
(``static_url``, a template global): a changed file gets a new address, so the old one may be
cached for good. A request without ``v`` (or with an old one) must check back each time, and gets
a 304 when nothing changed (ETag).
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

from starlette.datastructures import QueryParams
from starlette.responses import Response
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
FOREVER = "public, max-age=31536000, immutable"
CHECK_BACK = "no-cache"


@lru_cache(maxsize=256)
def _digest(path: Path, mtime_ns: int, size: int) -> str:
    """The content's digest (cached for this version of the file: its time and size)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def version_of(relative: str) -> str:
    path = STATIC_DIR / relative
    stat = path.stat()
    return _digest(path, stat.st_mtime_ns, stat.st_size)


def static_url(relative: str) -> str:
    """The address of a file under ``assistant/static``, with its content's version."""
    return f"/static/{relative}?v={version_of(relative)}"


class VersionedStaticFiles(StaticFiles):
    def file_response(
        self,
        full_path: PathLike,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        asked = QueryParams(scope.get("query_string", b"")).get("v")
        current = asked is not None and asked == _digest(
            Path(full_path), stat_result.st_mtime_ns, stat_result.st_size
        )
        response.headers["Cache-Control"] = FOREVER if current else CHECK_BACK
        return response
