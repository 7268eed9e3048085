"""Who may use which route: every route x (anonymous + each role).

EXPECTED lists every route of the app, one line each: ``(method, path template): access``.
``access`` is either the set of personas allowed (``"anonymous"`` and the role names), or an
int: the status EVERY persona gets (routes guarded by something other than the sign-in
session, such as Twilio's signature).

For a persona that is not allowed: anonymous gets 302 to /login, a signed-in role gets 403.
For an allowed persona the guard must let the request through: no 403, no redirect to
/login, no server error. GET routes without path parameters must answer 200 (or redirect
somewhere other than /login). Path parameters are filled with a dummy value (SAMPLE_PARAMS)
so the guard is checked before any 404; give a whole URL in SAMPLE_URLS when a route needs
a particular one (a query string, say).

Adding a route? Add its line to EXPECTED below, in your area's block.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from sqlmodel import Session
from starlette.routing import compile_path

from assistant import db as dbmod
from assistant.app import create_app
from assistant.people.models import Role
from assistant.security.csrf import CSRF_COOKIE
from assistant.security.sessions import SESSION_COOKIE, start_session
from assistant.settings import Settings
from tests import factories
from tests.conftest import USE_POSTGRES, Client, reset_postgres

ANON = "anonymous"
ROLES = tuple(role.value for role in Role)
PERSONAS = (ANON, *ROLES)

Access = frozenset[str] | int


def allow(*who: str | Role) -> frozenset[str]:
    return frozenset(str(w.value if isinstance(w, Role) else w) for w in who)


ANYONE = allow(ANON, *ROLES)
SIGNED_IN = allow(*ROLES)
ADMIN = allow(Role.admin)
PHO_STAFF = allow(Role.liaison, Role.coordinator, Role.mso, Role.admin)

# (method, path template) -> access. One line per route; keep each area's lines together.
EXPECTED: dict[tuple[str, str], Access] = {
    # foundation
    ("GET", "/healthz"): ANYONE,
    ("GET", "/favicon.ico"): ANYONE,
    ("GET", "/login"): ANYONE,
    ("POST", "/login"): ANYONE,
    ("POST", "/logout"): ANYONE,
    ("POST", "/lang"): ANYONE,
    ("GET", "/"): SIGNED_IN,
    # passwords and the person's own account (notifications)
    ("GET", "/password/forgot"): ANYONE,
    ("POST", "/password/forgot"): ANYONE,
    ("GET", "/password/reset/{token}"): ANYONE,
    ("POST", "/password/reset"): ANYONE,
    ("GET", "/account"): SIGNED_IN,
    ("GET", "/account/password"): SIGNED_IN,
    ("POST", "/account/password"): SIGNED_IN,
    ("GET", "/account/notifications"): SIGNED_IN,
    ("POST", "/account/notifications"): SIGNED_IN,
    # admin
    ("GET", "/admin"): ADMIN,
    ("GET", "/admin/practices"): ADMIN,
    ("GET", "/admin/practices/new"): ADMIN,
    ("POST", "/admin/practices"): ADMIN,
    ("GET", "/admin/practices/{practice_id}"): ADMIN,
    ("POST", "/admin/practices/{practice_id}"): ADMIN,
    ("POST", "/admin/practices/{practice_id}/active"): ADMIN,
    ("GET", "/admin/teams"): ADMIN,
    ("GET", "/admin/teams/new"): ADMIN,
    ("POST", "/admin/teams"): ADMIN,
    ("GET", "/admin/teams/{team_id}"): ADMIN,
    ("POST", "/admin/teams/{team_id}"): ADMIN,
    ("POST", "/admin/teams/{team_id}/active"): ADMIN,
    ("GET", "/admin/agencies"): ADMIN,
    ("GET", "/admin/agencies/new"): ADMIN,
    ("POST", "/admin/agencies"): ADMIN,
    ("GET", "/admin/agencies/{agency_id}"): ADMIN,
    ("POST", "/admin/agencies/{agency_id}"): ADMIN,
    ("POST", "/admin/agencies/{agency_id}/active"): ADMIN,
    ("GET", "/admin/users"): ADMIN,
    ("GET", "/admin/users/new"): ADMIN,
    ("POST", "/admin/users"): ADMIN,
    ("GET", "/admin/users/{user_id}"): ADMIN,
    ("POST", "/admin/users/{user_id}"): ADMIN,
    ("POST", "/admin/users/{user_id}/active"): ADMIN,
    ("POST", "/admin/users/{user_id}/password"): ADMIN,
    ("POST", "/admin/users/{user_id}/password-change"): ADMIN,
    ("GET", "/admin/portfolios"): ADMIN,
    ("POST", "/admin/portfolios"): ADMIN,
    ("POST", "/admin/liaisons/{user_id}/away"): ADMIN,
    # support: practice chat and the team inbox
    ("GET", "/chat"): allow(Role.practice_staff),
    ("POST", "/chat/ask"): allow(Role.practice_staff),
    ("POST", "/chat/messages/{message_id}/choose"): allow(Role.practice_staff),
    ("POST", "/chat/messages/{message_id}/feedback"): allow(Role.practice_staff),
    ("POST", "/chat/handoff"): allow(Role.practice_staff),
    ("GET", "/chat/updates"): allow(Role.practice_staff),
    ("GET", "/chat/questions/{ticket_id}"): allow(Role.practice_staff),
    # enrolment: the practice's new-patient queue and its listing (managers change it)
    ("GET", "/practice/new-patients"): allow(Role.practice_staff),
    ("GET", "/practice/new-patients/{request_id}"): allow(Role.practice_staff),
    ("POST", "/practice/new-patients/{request_id}/book"): allow(Role.practice_staff),
    ("POST", "/practice/new-patients/{request_id}/info"): allow(Role.practice_staff),
    ("POST", "/practice/new-patients/{request_id}/decline"): allow(Role.practice_staff),
    ("POST", "/practice/new-patients/{request_id}/enrolled"): allow(Role.practice_staff),
    ("GET", "/practice/listing"): allow(Role.practice_staff),
    ("POST", "/practice/listing"): allow(Role.practice_staff),
    ("POST", "/chat/questions/{ticket_id}/followup"): allow(Role.practice_staff),
    ("GET", "/inbox"): PHO_STAFF,
    ("GET", "/inbox/tickets/{ticket_id}"): PHO_STAFF,
    ("POST", "/inbox/tickets/{ticket_id}/reply"): PHO_STAFF,
    ("POST", "/inbox/tickets/{ticket_id}/note"): PHO_STAFF,
    ("POST", "/inbox/tickets/{ticket_id}/assign"): PHO_STAFF,
    ("POST", "/inbox/tickets/{ticket_id}/resolve"): PHO_STAFF,
    ("POST", "/inbox/tickets/{ticket_id}/reopen"): PHO_STAFF,
    ("POST", "/inbox/tickets/{ticket_id}/events/{event_id}/draft"): PHO_STAFF,
    ("GET", "/inbox/drafts"): PHO_STAFF,
    ("POST", "/inbox/drafts/{draft_id}/status"): allow(Role.coordinator, Role.admin),
    # sms: the Twilio webhook (signature-guarded: 403 without one) and the staff simulator
    ("POST", "/sms/twilio"): 403,
    ("GET", "/sms/simulator"): allow(*PHO_STAFF, Role.pcw),
    ("POST", "/sms/simulator"): allow(*PHO_STAFF, Role.pcw),
    # outbox and PCW work: delivery callbacks (signature-guarded), referrals, tasks
    ("POST", "/sms/twilio/status"): 403,
    ("GET", "/pcw/referrals"): allow(Role.pcw, Role.coordinator, Role.admin),
    ("GET", "/pcw/referrals/{referral_id}"): allow(Role.pcw, Role.coordinator, Role.admin),
    ("POST", "/pcw/referrals/{referral_id}/claim"): allow(Role.pcw, Role.coordinator, Role.admin),
    ("POST", "/pcw/referrals/{referral_id}/release"): allow(Role.pcw, Role.coordinator, Role.admin),
    ("POST", "/pcw/referrals/{referral_id}/notes"): allow(Role.pcw, Role.coordinator, Role.admin),
    ("POST", "/pcw/referrals/{referral_id}/sms"): allow(Role.pcw, Role.coordinator, Role.admin),
    ("POST", "/pcw/referrals/{referral_id}/status"): allow(Role.pcw, Role.coordinator, Role.admin),
    ("GET", "/pcw/tasks"): allow(Role.pcw, Role.coordinator, Role.admin),
    ("POST", "/pcw/tasks/{task_id}/done"): allow(Role.pcw, Role.coordinator, Role.admin),
    ("GET", "/pcw/outbox"): allow(Role.coordinator, Role.admin),
    ("POST", "/pcw/referrals/{referral_id}/tasks"): allow(Role.pcw, Role.coordinator, Role.admin),
    ("POST", "/pcw/outbox/{message_id}/cancel"): allow(Role.coordinator, Role.admin),
    ("POST", "/pcw/outbox/{message_id}/resend"): allow(Role.coordinator, Role.admin),
    # enrolment requests: the community workers' view, and requests made on a person's behalf
    ("GET", "/pcw/enrolments"): allow(Role.pcw, Role.coordinator, Role.admin),
    ("GET", "/pcw/enrolments/{request_id}"): allow(Role.pcw, Role.coordinator, Role.admin),
    ("POST", "/pcw/referrals/{referral_id}/enrolment"): allow(
        Role.pcw, Role.coordinator, Role.admin
    ),
    ("GET", "/pcw/assessments/{submission_id}/enrolment"): allow(
        Role.pcw, Role.coordinator, Role.admin
    ),
    ("POST", "/pcw/assessments/{submission_id}/enrolment"): allow(
        Role.pcw, Role.coordinator, Role.admin
    ),
    # forms data: coordinators' dashboard and exports (CSV, XLSX, FHIR)
    ("GET", "/dashboard"): allow(Role.coordinator, Role.admin),
    ("GET", "/dashboard/exports"): allow(Role.coordinator, Role.admin),
    ("GET", "/dashboard/exports/{form_id}/csv.zip"): allow(Role.coordinator, Role.admin),
    ("GET", "/dashboard/exports/{form_id}/fhir.ndjson"): allow(Role.coordinator, Role.admin),
    ("GET", "/dashboard/exports/{form_id}/tables/{table}.csv"): allow(Role.coordinator, Role.admin),
    ("GET", "/dashboard/exports/{form_id}/xlsx"): allow(Role.coordinator, Role.admin),
    # enrolment: the funnel and its exports (counts only)
    ("GET", "/dashboard/enrolment"): allow(Role.coordinator, Role.admin),
    ("GET", "/dashboard/exports/enrolment/funnel.csv"): allow(Role.coordinator, Role.admin),
    ("GET", "/dashboard/exports/enrolment/funnel.xlsx"): allow(Role.coordinator, Role.admin),
    ("GET", "/dashboard/exports/{form_id}/questionnaire.json"): allow(Role.coordinator, Role.admin),
    ("GET", "/dashboard/submissions/{instance_id}/fhir.json"): allow(Role.coordinator, Role.admin),
    # forms: filling page by page, drafts, submissions, the API and the service worker
    ("GET", "/sw.js"): ANYONE,
    ("GET", "/forms"): allow(Role.pcw, Role.practice_staff, Role.coordinator, Role.admin),
    # (open to every form user, so an unknown form is 404; the form's roles say who fills it)
    ("GET", "/forms/{form_id}/fill"): allow(
        Role.pcw, Role.practice_staff, Role.coordinator, Role.admin
    ),
    ("POST", "/forms/{form_id}/fill"): allow(
        Role.pcw, Role.practice_staff, Role.coordinator, Role.admin
    ),
    ("GET", "/forms/drafts/{instance_id}"): allow(Role.pcw, Role.practice_staff),
    ("POST", "/forms/drafts/{instance_id}/discard"): allow(Role.pcw, Role.practice_staff),
    ("GET", "/forms/submissions/{submission_id}"): allow(
        Role.pcw, Role.practice_staff, Role.coordinator, Role.admin
    ),
    ("GET", "/api/forms/{form_id}"): SIGNED_IN,
    ("POST", "/api/forms/{form_id}/submissions"): allow(Role.pcw, Role.practice_staff),
    # knowledge base: every entry with its review date and usage
    ("GET", "/knowledge"): allow(Role.coordinator, Role.admin),
    ("GET", "/knowledge/{entry_id}"): allow(Role.coordinator, Role.admin),
    ("GET", "/knowledge/try"): allow(Role.coordinator, Role.admin),
}

# Dummy values for path parameters, by name (default "999999").
SAMPLE_PARAMS: dict[str, str] = {}
# A whole URL for a route that needs one, e.g. ("GET", "/search"): "/search?q=x".
SAMPLE_URLS: dict[tuple[str, str], str] = {}

IGNORED_PREFIXES = ("/static", "/docs", "/openapi.json")
_PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")


def _matrix_app() -> FastAPI:
    return create_app(Settings(environment="test", database_url="sqlite://", secret_key="x"))


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.routes):
        path = route.path
        if not path or path.startswith(IGNORED_PREFIXES) or not route.methods:
            continue
        for method in route.methods:
            if method != "HEAD":
                found.add((method, path))
    return found


ROUTES = sorted(app_routes(_matrix_app()))


def test_every_route_is_in_the_table() -> None:
    missing = sorted(set(ROUTES) - set(EXPECTED))
    assert not missing, (
        "These routes have no line in EXPECTED in tests/test_role_matrix.py. Add one per route, "
        "saying who may use it, e.g. ('GET', '/admin/practices'): ADMIN:\n"
        + "\n".join(f"    ({m!r}, {p!r}): ..." for m, p in missing)
    )


def test_no_stale_lines_in_the_table() -> None:
    stale = sorted(set(EXPECTED) - set(ROUTES))
    assert not stale, "EXPECTED has lines for routes the app no longer has: remove them:\n" + (
        "\n".join(f"    {m} {p}" for m, p in stale)
    )


def test_no_route_is_hidden_behind_another() -> None:
    """Each route answers its own paths: none is matched first by an earlier route (so the
    order the routers are included in, the busiest first, changes no answer)."""
    routes = [r for r in iter_route_contexts(_matrix_app().routes) if r.path and r.methods]
    hidden = []
    for route in routes:
        for method in sorted(route.methods - {"HEAD"}):
            url = sample_url(method, route.path).split("?")[0]
            first = next(r for r in routes if method in r.methods and _regex(r.path).match(url))
            if first.path != route.path:
                hidden.append(f"{method} {route.path} (answered by {first.path})")
    assert not hidden, hidden


def _regex(path: str) -> re.Pattern[str]:
    return compile_path(path)[0]


def sample_url(method: str, path: str) -> str:
    if (method, path) in SAMPLE_URLS:
        return SAMPLE_URLS[(method, path)]
    return _PARAM.sub(lambda m: SAMPLE_PARAMS.get(m.group(1), "999999"), path)


@pytest.fixture(scope="module")
def matrix(
    _template_db: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[FastAPI, Callable[[str], str]]]:
    """One database for the whole matrix (only the guards are checked, so state may pile up):
    the app, and ``token(role)`` starting a fresh session for a user with that role."""
    if USE_POSTGRES:
        url = _template_db
    else:
        path = tmp_path_factory.mktemp("matrix") / "matrix.db"
        shutil.copyfile(_template_db, path)
        url = f"sqlite:///{path}"
    settings = Settings(
        environment="test",
        database_url=url,
        secret_key="test-secret",
        public_base_url="http://testserver",
        login_slow_delay_seconds=0.0,
        run_worker_in_app=False,
        twilio_account_sid="AC00000000000000000000000000000000",
        twilio_auth_token="test-auth-token",
        twilio_from_number="+6435550100",
    )
    engine = dbmod.get_engine(url)
    with Session(engine) as session:
        user_ids = {role.value: factories.user(session, role).id for role in Role}
        # Practice staff belong to a practice; this one manages it (the listing is theirs).
        manager = factories.user(
            session,
            Role.practice_staff,
            practice_id=factories.practice(session).id,
            practice_manager=True,
        )
        user_ids[Role.practice_staff.value] = manager.id

        def token(role: str) -> str:
            user_id = user_ids[role]
            assert user_id is not None
            signed_in = start_session(session, user_id=user_id, max_age_seconds=600)
            session.commit()
            return signed_in

        yield create_app(settings), token
    if USE_POSTGRES:
        reset_postgres(engine)
    else:
        dbmod._engines.pop(url, None)
        engine.dispose()


def _is_login_redirect(response: Any) -> bool:
    """The guard's answer to an anonymous request (302; a 303 to /login is a route's own)."""
    if response.status_code == 302:
        return str(response.headers.get("location", "")).startswith("/login")
    return response.status_code == 204 and "HX-Redirect" in response.headers


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_route_guard(method: str, path: str, matrix: tuple[FastAPI, Callable[[str], str]]) -> None:
    app, tokens = matrix
    access = EXPECTED.get((method, path))
    if access is None:
        pytest.fail(f"{method} {path} has no line in EXPECTED (tests/test_role_matrix.py)")
    url = sample_url(method, path)
    has_params = "{" in path
    for persona in PERSONAS:
        client = Client(app, follow_redirects=False)
        client.cookies.set(CSRF_COOKIE, "matrix-token")
        if persona != ANON:
            client.cookies.set(SESSION_COOKIE, tokens(persona))
        response = client.request(method, url)
        got = f"{persona} {method} {url} -> {response.status_code}"
        if isinstance(access, int):
            assert response.status_code == access, got
        elif persona not in access:
            if persona == ANON:
                assert _is_login_redirect(response), f"{got}: expected a redirect to /login"
            else:
                assert response.status_code == 403, f"{got}: expected 403"
        else:
            assert response.status_code != 403, f"{got}: this persona is allowed"
            assert not _is_login_redirect(response), f"{got}: this persona is allowed"
            assert response.status_code < 500, got
            if method == "GET" and not has_params and (method, path) not in SAMPLE_URLS:
                assert response.status_code in (200, 302, 303), f"{got}: expected 200"
