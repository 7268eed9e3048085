"""Barrier form: fill-page weight (HTML + CSS + JS, gzip) against its 60 KB budget.

Submissions through the API, served for real under concurrent load, are in ``bench_http``.
"""

from __future__ import annotations

import gzip
import re
import tempfile
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

BUDGET_BYTES = 60 * 1024
FORM_ID = "barrier_assessment"


def _gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def _app(tmp: Path) -> tuple[Any, Any]:
    from sqlmodel import Session

    from assistant import db
    from assistant.app import create_app
    from assistant.models_registry import import_all
    from assistant.people.models import Agency, Role, User
    from assistant.security.passwords import hash_password
    from assistant.settings import Settings

    import_all()
    url = f"sqlite:///{tmp / 'bench.db'}"
    db.migrate(url)
    settings = Settings(
        environment="test",
        database_url=url,
        secret_key="bench-secret",
        public_base_url="http://testserver",
        login_slow_delay_seconds=0.0,
        run_worker_in_app=False,
    )
    with Session(db.get_engine(url)) as session:
        agency = Agency(name="Bench Agency")
        session.add(agency)
        session.commit()
        user = User(
            name="Bench PCW",
            email="pcw@bench.example",
            role=Role.pcw,
            agency_id=agency.id,
            password_hash=hash_password("bench password"),
        )
        session.add(user)
        session.commit()
    return create_app(settings), ("pcw@bench.example", "bench password")


def _login(client: TestClient, email: str, password: str) -> None:
    from assistant.security.csrf import CSRF_COOKIE

    client.get("/login")
    client.headers["X-CSRF-Token"] = client.cookies.get(CSRF_COOKIE) or ""
    response = client.post("/login", data={"email": email, "password": password})
    if response.status_code != 303:
        raise SystemExit(f"login failed: {response.status_code}")


def page_weight(client: TestClient) -> dict[str, int]:
    page = client.get(f"/forms/{FORM_ID}/fill")
    if page.status_code != 200:
        raise SystemExit(f"fill page answered {page.status_code}")
    html = page.content
    sizes = {"html": len(html), "html_gz": _gz(html), "css_gz": 0, "js_gz": 0}
    text = page.text
    css = re.findall(r'<link[^>]+rel="stylesheet"[^>]*href="([^"]+)"', text)
    css += re.findall(r'<link[^>]+href="([^"]+)"[^>]*rel="stylesheet"', text)
    js = re.findall(r'<script[^>]+src="([^"]+)"', text)
    for kind, urls in (("css_gz", css), ("js_gz", js)):
        for href in dict.fromkeys(urls):
            body = client.get(href).content
            sizes[kind] += _gz(body)
    sizes["total_gz"] = sizes["html_gz"] + sizes["css_gz"] + sizes["js_gz"]
    return sizes


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app, (email, password) = _app(Path(tmp))
        with TestClient(app, follow_redirects=False) as client:
            _login(client, email, password)
            sizes = page_weight(client)
    total = sizes["total_gz"]
    print("bench_forms: barrier assessment fill page (gzip)")
    print(
        f"  html {sizes['html_gz'] / 1024:.1f} KB (raw {sizes['html'] / 1024:.1f} KB), "
        f"css {sizes['css_gz'] / 1024:.1f} KB, js {sizes['js_gz'] / 1024:.1f} KB"
    )
    print(
        f"  total {total / 1024:.1f} KB = {total / BUDGET_BYTES:.2f} x the 60 KB budget "
        f"({'within' if total <= BUDGET_BYTES else 'OVER'} budget)"
    )


if __name__ == "__main__":
    main()
