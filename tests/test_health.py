"""GET /healthz, and settings that are refused in production."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant import db as dbmod
from assistant.app import create_app
from assistant.settings import DEFAULT_SECRET, Settings
from assistant.web import static
from tests.html import parse


def test_healthy_with_the_database_up(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///{tmp}/no-such-directory/app.db",
        "postgresql+psycopg://postgres@127.0.0.1:{port}/nothing?connect_timeout=2",
    ],
    ids=["sqlite-missing-directory", "postgresql-nothing-listening"],
)
def test_unavailable_when_the_database_is_unreachable(
    settings: Settings, tmp_path: Path, url: str
) -> None:
    broken = url.format(tmp=tmp_path, port=_unused_port())
    app = create_app(settings.model_copy(update={"database_url": broken}))
    try:
        with TestClient(app) as client:
            response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json()["database"] == "unreachable"
    finally:
        engine = dbmod._engines.pop(broken, None)
        if engine is not None:
            engine.dispose()


def test_production_refuses_the_default_secret() -> None:
    settings = Settings(environment="production", secret_key=DEFAULT_SECRET)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(settings)


def test_production_starts_with_a_real_secret_and_hides_the_api_docs(tmp_path: Path) -> None:
    settings = Settings(
        environment="production",
        secret_key="a-long-random-production-secret",
        database_url=f"sqlite:///{tmp_path}/prod.db",
        run_worker_in_app=False,
    )
    with TestClient(create_app(settings)) as client:
        assert client.get("/docs").status_code == 404
        assert client.get("/openapi.json").status_code == 404  # no API map for strangers
    engine = dbmod._engines.pop(settings.database_url, None)
    if engine is not None:
        engine.dispose()


def test_security_headers_and_cookie_flags(client: TestClient) -> None:
    response = client.get("/login")
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_the_csrf_cookie_comes_with_the_first_page_that_needs_it(client: TestClient) -> None:
    health = client.get("/healthz")
    assert health.headers["x-content-type-options"] == "nosniff"
    assert "set-cookie" not in health.headers  # nothing to post: no token handed out
    page = client.get("/login")
    assert page.headers["set-cookie"].startswith("csrftoken=")
    token = page.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    assert f'value="{token}"' in page.text  # the form carries the token the cookie holds
    again = client.get("/login")
    assert "set-cookie" not in again.headers and f'value="{token}"' in again.text


def test_pages_are_compressed_and_there_is_a_favicon(client: TestClient) -> None:
    page = client.get("/login", headers={"Accept-Encoding": "gzip"})
    assert page.status_code == 200 and page.headers["content-encoding"] == "gzip"
    css = client.get("/static/app.css", headers={"Accept-Encoding": "gzip"})
    assert css.headers["content-encoding"] == "gzip"
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")


def test_static_files_are_linked_by_version_and_kept_for_a_year(client: TestClient) -> None:
    page = parse(client.get("/login").text)
    href = page.find('link[rel="stylesheet"]').attrs["href"]
    assert href.startswith("/static/app.css?v=")
    versioned = client.get(href)
    assert versioned.status_code == 200
    assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
    # Without the version (or with an old one) the browser must check back; unchanged: 304.
    plain = client.get("/static/app.css")
    assert plain.headers["cache-control"] == "no-cache"
    stale = client.get("/static/app.css?v=000000000000")
    assert stale.headers["cache-control"] == "no-cache"
    again = client.get("/static/app.css", headers={"If-None-Match": plain.headers["etag"]})
    assert again.status_code == 304


def test_a_changed_file_gets_a_new_address(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(static, "STATIC_DIR", tmp_path)
    (tmp_path / "site.css").write_text("body { color: black; }")
    first = static.static_url("site.css")
    (tmp_path / "site.css").write_text("body { color: navy; }")
    second = static.static_url("site.css")
    assert first != second and second.startswith("/static/site.css?v=")
