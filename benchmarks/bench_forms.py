"""Barrier form: fill-page weight (HTML + CSS + JS, gzip) and submissions/s through the API.

Both figures are printed against a baseline measured in the same run: the page weight against
its 60 KB budget, and the API's submissions/s against a bare FastAPI JSON endpoint served by
the same test client.
"""

from __future__ import annotations

import gzip
import re
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

BUDGET_BYTES = 60 * 1024
FORM_ID = "barrier_assessment"
SUBMISSIONS = 200

ANSWERS: dict[str, Any] = {
    "consent": "yes",
    "person_name": "Mele Taufa",
    "date_of_birth": "1984-03-09",
    "phone": "+64 21 555 0101",
    "main_language": "tongan",
    "interpreter_needed": "yes",
    "enrolment_status": "not_enrolled",
    "eligibility": "citizen_resident",
    "cost_difficulty": "very_hard",
    "cost_stopped_visit": "yes",
    "has_csc": "no",
    "transport_barrier": "yes",
    "lonely": "sometimes",
    "housing": ["cold_damp"],
    "food_worry": "sometimes",
    "feels_safe": "yes",
    "knows_how_to_enrol": "no",
    "knows_after_hours": "no",
    "visit_worry": "sometimes",
    "phone_access": "own_phone",
    "internet_access": "yes",
    "household_members": [
        {
            "member_name": "Sione",
            "member_relationship": "child",
            "member_age": 9,
            "member_enrolled": "no",
        }
    ],
    "barriers": ["cost", "transport"],
    "actions": ["transport_referral", "find_practice"],
    "follow_up_date": "2099-01-01",
    "notes": "Prefers a call after 3pm",
}


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


def _rate(post: Any, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        post()
    return n / (time.perf_counter() - start)


def submission_rates(client: TestClient) -> tuple[float, float]:
    def submit() -> None:
        body = {
            "instance_id": str(uuid.uuid4()),
            "form_version": "1",
            "lang": "to",
            "answers": ANSWERS,
        }
        response = client.post(f"/api/forms/{FORM_ID}/submissions", json=body)
        if response.status_code != 201:
            raise SystemExit(f"submission answered {response.status_code}: {response.text[:500]}")

    submit()  # warm up (imports, caches)
    api = _rate(submit, SUBMISSIONS)

    bare = FastAPI()

    @bare.post("/echo")
    def echo(payload: dict[str, Any]) -> dict[str, Any]:
        return {"instance_id": payload.get("instance_id"), "status": "stored"}

    with TestClient(bare) as plain:

        def baseline() -> None:
            body = {"instance_id": str(uuid.uuid4()), "form_version": "1", "answers": ANSWERS}
            plain.post("/echo", json=body)

        baseline()
        base = _rate(baseline, SUBMISSIONS)
    return api, base


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app, (email, password) = _app(Path(tmp))
        with TestClient(app, follow_redirects=False) as client:
            _login(client, email, password)
            sizes = page_weight(client)
            api, base = submission_rates(client)
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
    print(f"bench_forms: submissions through the API, {SUBMISSIONS} stored, SQLite")
    print(
        f"  {api:.0f} submissions/s vs {base:.0f} requests/s for a bare FastAPI JSON endpoint "
        f"= {api / base:.2f} x baseline"
    )


if __name__ == "__main__":
    main()
