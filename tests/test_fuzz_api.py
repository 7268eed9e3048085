"""A bounded property-based fuzzer over the whole HTTP API: no request gets a server error.

For each persona (anonymous, and each role signed in with a session cookie and the CSRF token),
every operation in the app's OpenAPI description (served at /openapi.json outside production) is
called with requests schemathesis makes from it. Any 4xx is a fine answer to nonsense; a 5xx, or
an exception escaping the app, fails the test, which lists the exact requests.

The database holds the demo data. First the persona walks the pages it may see, as a person
would, noting the ids in their links and the fields of their forms. Then, for each operation the
persona may use:
- explicit requests with what the databases cannot store (a NUL character; numbers beyond
  PostgreSQL's integer and beyond 64 bits) in every field and parameter, on real records;
- schemathesis' coverage phase: boundary and invalid values, one part of the request at a time;
- valid requests generated at random: anything the description allows, the same on records met,
  and forms filled in with the values the pages offer.
An operation the persona's role may not use gets one request: its guard must answer calmly.
Routes that read their form by hand get the fields of their forms; JSON bodies are described
by the routes themselves.

Bounded and repeatable: a fixed number of requests per operation, no shrinking, a fixed seed per
persona and operation, no example database.
"""

from __future__ import annotations

import copy
import re
import traceback
import zlib
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
import requests
import schemathesis
from fastapi import FastAPI, Response
from fastapi.routing import iter_route_contexts
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode
from schemathesis.python import asgi
from schemathesis.python.asgi import ASGIClient
from sqlmodel import Session, col, select

from assistant.demo import load_demo
from assistant.deps import require_user
from assistant.people.models import Role, User
from assistant.security.csrf import CSRF_COOKIE, CSRF_FIELD, CSRF_HEADER
from assistant.security.sessions import SESSION_COOKIE, start_session
from tests.html import Element, parse

ANON = "anonymous"
PERSONAS = (ANON, *(role.value for role in Role))

BASE = "http://testserver"
CSRF = "fuzz-csrf-token"
NUL = "fuzz\x00text"
HUGE = "99999999999999999999"  # beyond 64 bits
BIG = "3000000000"  # beyond PostgreSQL's integer

# Per operation a persona may use, on top of the explicit requests: at most so many from
# schemathesis' coverage phase, and so many valid ones generated at random.
COVERAGE_CASES = 8
EXAMPLES = 3
# The walk before fuzzing: pages in all, addresses kept per route, known values kept per name.
MAX_PAGES = 50
URLS_PER_ROUTE = 3
VALUES_PER_NAME = 8
FIELD_TAGS = ("input", "select", "textarea", "button")
# Inputs a form does not always send as text (ticked, pressed, or a file).
NOT_ALWAYS_SENT = frozenset({"checkbox", "radio", "submit", "button", "reset", "image", "file"})

# Bodies the routes read by hand (request.body()): their shape, from the API's contract.
FUZZ_SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    report_multiple_bugs=False,
)


# --- who may reach which route ------------------------------------------------------------------


def _guards(app: FastAPI) -> dict[tuple[str, str], tuple[bool, frozenset[str] | None]]:
    """(method, path) -> (signing in needed, roles allowed or None for any), read from the
    routes' dependencies (``require_user`` and ``require_roles``)."""
    found: dict[tuple[str, str], tuple[bool, frozenset[str] | None]] = {}
    for route in iter_route_contexts(app.routes):
        dependant = getattr(route, "dependant", None)
        if dependant is None or not route.methods or not route.path_format:
            continue
        needs_user, roles = False, None
        stack = [dependant]
        while stack:
            dependant = stack.pop()
            allowed = getattr(dependant.call, "allowed_roles", None)
            if dependant.call is require_user or allowed is not None:
                needs_user = True
            if allowed is not None:
                names = frozenset(str(r) for r in allowed)
                roles = names if roles is None else roles & names
            stack.extend(dependant.dependencies)
        for method in route.methods:
            found[(method, route.path_format)] = (needs_user, roles)
    return found


def _may_use(
    guards: dict[tuple[str, str], tuple[bool, frozenset[str] | None]],
    persona: str,
    method: str,
    path: str,
) -> bool:
    needs_user, roles = guards.get((method, path), (False, None))
    if persona == ANON:
        return not needs_user
    return roles is None or persona in roles


# --- the persona's requests ---------------------------------------------------------------------


@dataclass
class Persona:
    name: str
    client: ASGIClient
    session: Session
    user_id: int | None

    def cookies(self) -> dict[str, str]:
        """The CSRF cookie, and a new sign-in for a role (one per operation: the fuzzer signs
        out, changes passwords and so on)."""
        jar = {CSRF_COOKIE: CSRF}
        if self.user_id is not None:
            jar[SESSION_COOKIE] = start_session(
                self.session, user_id=self.user_id, max_age_seconds=3600
            )
            self.session.commit()
        return jar

    def get(self, url: str, cookies: dict[str, str]) -> Any:
        try:
            return self.client.get(BASE + url, cookies=cookies, allow_redirects=False)
        finally:
            self.client.cookies.clear()


# --- the walk: ids and form fields as a person meets them ---------------------------------------


@dataclass
class _Form:
    """A form met on a page: where it goes, its fields (name -> always sent by a browser, as
    text is; a checkbox or a button only when ticked or pressed) and the values it offers."""

    method: str
    action: str
    fields: dict[str, bool] = field(default_factory=dict)
    values: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def read(cls, form: Element) -> _Form:
        found = cls((form.get("method") or "get").upper(), form.get("action") or "")
        for control in form.find_all(", ".join(f"{t}[name]" for t in FIELD_TAGS)):
            name, kind = control.attr("name"), control.get("type", "text")
            if control.tag == "select":
                offered = [option.option_value() for option in control.find_all("option")]
            else:
                offered = [control.value()]
            always = control.tag in ("select", "textarea") or (
                control.tag == "input" and kind not in NOT_ALWAYS_SENT
            )
            found.fields[name] = found.fields.get(name, False) or always
            found.values.setdefault(name, []).extend(offered)
        return found


class Routes:
    """The described operations, to match a URL met on a page with its route."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.patterns: list[tuple[str, str, re.Pattern[str]]] = []
        for path, item in spec["paths"].items():
            parts = re.split(r"\{(\w+)\}", path)
            regex = "".join(
                re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/]+)"
                for i, part in enumerate(parts)
            )
            for method in item:
                self.patterns.append((method.upper(), path, re.compile(regex)))

    def match(self, method: str, path: str) -> tuple[str, dict[str, str]] | None:
        """The route a URL names (the one with fewest parameters, as /new before /{id})."""
        best: tuple[str, dict[str, str]] | None = None
        for m, template, regex in self.patterns:
            found = regex.fullmatch(path) if m == method else None
            if found and (best is None or len(found.groupdict()) < len(best[1])):
                best = (template, found.groupdict())
        return best


@dataclass
class Known:
    """Values met on the pages: path and query parameters by name, form fields by route."""

    path: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    query: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    forms: dict[tuple[str, str], dict[str, bool]] = field(default_factory=dict)
    values: dict[tuple[str, str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    by_name: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def note_url(self, params: dict[str, str], query: str) -> None:
        for name, value in params.items():
            self.path[name].add(value)
        for name, value in parse_qsl(query, keep_blank_values=True):
            self.query[name].add(value)

    def note_form(self, method: str, template: str, form: _Form) -> None:
        fields = self.forms.setdefault((method, template), {})
        for name, always in form.fields.items():
            if name != CSRF_FIELD:  # sent in the header
                fields[name] = fields.get(name, True) and always
        for name, values in form.values.items():
            self.values[(method, template, name)].update(values)
            self.by_name[name].update(values)

    def field_values(self, key: tuple[str, str], name: str) -> list[str]:
        """Values met in this route's forms first, then in other forms' fields of that name."""
        own = _some(self.values.get((*key, name), set()))
        return own + [v for v in _some(self.by_name.get(name, set())) if v not in own]


def walk(persona: Persona, routes: Routes, may_use: Callable[[str, str], bool]) -> Known:
    """Visit the pages the persona may see, from every page without parameters, following
    links breadth first: a bounded number of pages and of addresses per route."""
    known = Known()
    cookies = persona.cookies()
    starts = sorted({t for m, t, _ in routes.patterns if m == "GET" and "{" not in t})
    queue = deque(t for t in starts if may_use("GET", t))
    queued = set(queue)
    per_route: Counter[str] = Counter()
    pages = 0
    while queue and pages < MAX_PAGES:
        url = queue.popleft()
        response = persona.get(url, cookies)
        pages += 1
        if response.status_code != 200 or "html" not in response.headers.get("content-type", ""):
            continue
        page = parse(response.text)
        for href in page.links():
            target = urlsplit(urljoin(BASE + url, href))
            if f"{target.scheme}://{target.netloc}" != BASE:
                continue
            hit = routes.match("GET", target.path)
            if hit is None:
                continue
            template, params = hit
            known.note_url(params, target.query)
            address = target.path + (f"?{target.query}" if target.query else "")
            fresh = address not in queued and per_route[template] < URLS_PER_ROUTE
            if fresh and may_use("GET", template):
                queued.add(address)
                per_route[template] += 1
                queue.append(address)
        for form in map(_Form.read, page.find_all("form")):
            target = urlsplit(urljoin(BASE + url, form.action or url))
            hit = routes.match(form.method, target.path)
            if hit is None:
                continue
            template, params = hit
            known.note_url(params, target.query)
            if form.method == "GET":
                for name, values in form.values.items():
                    known.query[name].update(values)
            else:
                known.note_form(form.method, template, form)
    return known


# --- the description, with what was met ---------------------------------------------------------


def _some(values: set[str]) -> list[str]:
    return sorted(values, key=lambda v: (len(v), v))[:VALUES_PER_NAME]


def _one_of(schema: dict[str, Any], values: list[str]) -> dict[str, Any]:
    """One of the values met (those the schema allows), or the schema when none was."""
    if not any(values):
        return schema
    if schema.get("type") == "integer":
        numbers = [int(v) for v in values if v.isdigit()]
        return {"enum": numbers} if numbers else schema
    return {"enum": values}


def _resolved(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    return components.get(schema.get("$ref", "").rsplit("/", 1)[-1], schema)


def described(
    raw: dict[str, Any], known: Known, *, real_ids: bool = False, real_fields: bool = False
) -> dict[str, Any]:
    """The app's description, with bodies for the routes that read theirs by hand (the fields
    of their forms, or the JSON of the API's contract); with ``real_ids`` the path parameters,
    and with ``real_fields`` the query parameters and fields, take only values met."""
    spec = copy.deepcopy(raw)
    components = spec.get("components", {}).get("schemas", {})
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            key = (method.upper(), path)
            for parameter in operation.get("parameters", []):
                in_path = parameter["in"] == "path"
                if real_ids if in_path else real_fields:
                    pool = known.path if in_path else known.query
                    found = _some(pool.get(parameter["name"], set()))
                    parameter["schema"] = _one_of(parameter["schema"], found)
            content = operation.get("requestBody", {}).get("content", {})
            if method != "get" and not content and known.forms.get(key):
                fields = known.forms[key]
                body = {
                    "type": "object",
                    "properties": {name: {"type": "string"} for name in sorted(fields)},
                    "required": sorted(name for name, always in fields.items() if always),
                }
                content = {"application/x-www-form-urlencoded": {"schema": body}}
                operation["requestBody"] = {"required": True, "content": content}
            for media in content.values() if real_fields else ():
                properties = _resolved(media["schema"], components).get("properties", {})
                for name, schema in properties.items():
                    found = known.field_values(key, name)[:VALUES_PER_NAME]
                    properties[name] = _one_of(schema, found)
    return spec


# --- explicit requests: what the databases cannot store, on real records ------------------------


def _bad(schema: dict[str, Any], number: str, text: str) -> Any:
    kinds = {option.get("type") for option in schema.get("anyOf", [schema])}
    if "integer" in kinds:
        return int(number)
    return {"q": text} if "object" in kinds else text


def explicit_cases(
    operation: Any, spec_operation: dict[str, Any], components: dict[str, Any], known: Known
) -> Iterator[Any]:
    """What the databases cannot store: a NUL character, then a number beyond 64 bits, in every
    field and query parameter of a request on a real record; then in the path, numbers beyond
    64 bits and beyond PostgreSQL's integer (and a NUL in text)."""
    parameters = spec_operation.get("parameters", [])
    path = [p for p in parameters if p["in"] == "path"]
    query = [p for p in parameters if p["in"] == "query"]
    content = spec_operation.get("requestBody", {}).get("content", {})
    media_type = next(iter(content), None)
    if query or media_type is not None:
        real = {p["name"]: (_some(known.path.get(p["name"], set())) or ["1"])[0] for p in path}
        properties = {}
        if media_type is not None:
            properties = _resolved(content[media_type]["schema"], components).get("properties", {})
        for text in (NUL, HUGE):
            kwargs: dict[str, Any] = {
                "path_parameters": real,
                "query": {p["name"]: _bad(p["schema"], HUGE, text) for p in query},
            }
            if media_type is not None:
                kwargs["media_type"] = media_type
                kwargs["body"] = {n: _bad(s, HUGE, text) for n, s in properties.items()}
            yield operation.Case(**kwargs)
    integers = any(_bad(p["schema"], "0", "") == 0 for p in path)
    for number, text in ((HUGE, NUL), (BIG, HUGE)):
        if path and (text == NUL or integers):
            yield operation.Case(
                path_parameters={p["name"]: _bad(p["schema"], number, text) for p in path}
            )


# --- the run ------------------------------------------------------------------------------------


@dataclass
class Failure:
    request: str
    outcome: str


def _request_text(case: Any) -> str:
    """The request as sent: method, URL with its query, and the body."""
    sent = case.as_transport_kwargs(base_url=BASE)
    keys = ("method", "url", "params", "headers", "data", "json", "files")
    prepared = requests.Request(**{k: sent[k] for k in keys if k in sent}).prepare()
    body = (
        prepared.body.decode(errors="replace")
        if isinstance(prepared.body, bytes)
        else prepared.body
    )
    url = str(prepared.url).removeprefix(BASE)
    return f"{prepared.method} {url}" + ("" if body is None else f" body={body!r}")


def _in_the_app(exc: BaseException) -> str | None:
    """Where an exception left the app's own code (None: it was raised on the client's side)."""
    frames = traceback.extract_tb(exc.__traceback__)
    app = [f for f in frames if "/assistant/" in f.filename]
    served = app or [f for f in frames if "/starlette/" in f.filename or "/fastapi/" in f.filename]
    if not served:
        return None
    where = served[-1]
    return f"{type(exc).__name__}: {str(exc)[:300]} ({Path(where.filename).name}:{where.lineno})"


@dataclass
class Run:
    persona: Persona
    failures: list[Failure] = field(default_factory=list)
    sent: int = 0

    def sender(self, cookies: dict[str, str]) -> Callable[[Any], None]:
        def send(case: Any) -> None:
            self.send(case, cookies)

        return send

    def send(self, case: Any, cookies: dict[str, str]) -> None:
        """Send one request; a 5xx or an exception out of the app is a failure."""
        self.sent += 1
        client = self.persona.client
        try:
            response = case.call(
                session=client,
                base_url=BASE,
                headers={CSRF_HEADER: CSRF},
                cookies=cookies,
                allow_redirects=False,
            )
        except Exception as exc:
            where = _in_the_app(exc)
            if where is None:
                raise
            # What a real client gets is a 500.
            self.failures.append(Failure(_request_text(case), where))
            return
        finally:
            client.cookies.clear()
        if response.status_code >= 500:
            self.failures.append(Failure(_request_text(case), f"status {response.status_code}"))


def coverage_cases(schema: Any, operation: Any) -> list[Any]:
    """Schemathesis' coverage phase: boundary and invalid values for each part of the request
    in turn (empty, too long, wrong type, missing, unknown fields), each distinct request once,
    at most ``COVERAGE_CASES`` of them spread over the whole phase."""
    config = schema.config.generation_for(operation=operation, phase="coverage")
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    distinct: dict[str, Any] = {}
    for case in schema.iter_coverage_cases(
        operation, generation_modes=modes, generation_config=config
    ):
        distinct.setdefault(_request_text(case), case)
    cases = list(distinct.values())
    step = max(1, -(-len(cases) // COVERAGE_CASES))
    return cases[::step]


def fuzz(persona: Persona, app: FastAPI, raw: dict[str, Any]) -> Run:
    """Every operation: what the guard refuses, once; what the persona may use, with the explicit
    requests, the coverage phase's, and random valid ones."""
    guards = _guards(app)

    def may_use(method: str, path: str) -> bool:
        return _may_use(guards, persona.name, method, path)

    known = walk(persona, Routes(raw), may_use)
    spec = described(raw, known)
    components = spec.get("components", {}).get("schemas", {})
    # Anything the description allows; the same on records met; and on records met with values
    # met (a form sent as shown).
    anything = schemathesis.openapi.from_dict(spec)
    on_records = schemathesis.openapi.from_dict(described(raw, known, real_ids=True))
    as_shown = schemathesis.openapi.from_dict(
        described(raw, known, real_ids=True, real_fields=True)
    )
    run = Run(persona)
    for result in anything.get_all_operations():
        operation = result.ok()
        method, path = operation.method.upper(), operation.path
        cookies = persona.cookies()
        spec_operation = spec["paths"][path][method.lower()]
        explicit = explicit_cases(operation, spec_operation, components, known)
        if not may_use(method, path):
            # The guard answers before the handler runs: one request shows it does so calmly.
            run.send(next(explicit, operation.Case()), cookies)
            continue
        for case in explicit:
            run.send(case, cookies)
        for case in coverage_cases(on_records, on_records[path][method]):
            run.send(case, cookies)
        valid = st.one_of(
            [
                schema[path][method].as_strategy(generation_mode=GenerationMode.POSITIVE)
                for schema in (anything, on_records, as_shown)
            ]
        )
        test = settings(FUZZ_SETTINGS, max_examples=EXAMPLES)(given(valid)(run.sender(cookies)))
        # Its own seed for each persona and operation: varied, and the same every run.
        seed(zlib.crc32(f"{persona.name} {operation.label}".encode()))(test)()
    return run


def client_for(app: FastAPI) -> ASGIClient:
    """Schemathesis' in-process client (no lifespan: the app is called directly)."""
    client = asgi.get_client(app)
    client.trust_env = False  # no proxies or .netrc from the environment
    return client


@pytest.fixture
def demo(session: Session) -> dict[str, int]:
    """The demo data; a demo user of each role (practice managers first: they may do more)."""
    load_demo(session, password="fuzz-demo-password")
    ids: dict[str, int] = {}
    users = select(User).order_by(col(User.practice_manager).desc(), col(User.id))
    for user in session.exec(users):
        assert user.id is not None
        ids.setdefault(str(user.role), user.id)
    assert set(ids) == {r.value for r in Role}
    return ids


@pytest.mark.parametrize("persona_name", PERSONAS)
def test_no_request_gets_a_server_error(
    persona_name: str, app: FastAPI, session: Session, demo: dict[str, int]
) -> None:
    client = client_for(app)
    served = client.get(BASE + "/openapi.json")
    assert served.status_code == 200
    persona = Persona(persona_name, client, session, demo.get(persona_name))
    run = fuzz(persona, app, served.json())
    assert run.sent > len(served.json()["paths"])
    report = "\n".join(f"  {f.request}\n    -> {f.outcome}" for f in run.failures[:40])
    assert not run.failures, (
        f"{len(run.failures)} of {run.sent} requests as {persona_name} failed:\n{report}"
    )


def test_the_fuzzer_reports_a_server_error_with_its_request(session: Session) -> None:
    """The fuzzer itself: an app that fails on some input is caught, with the request."""
    broken = FastAPI()

    @broken.get("/shares/{people}")
    def share(people: int) -> dict[str, int]:
        return {"each": 100 // people}  # ZeroDivisionError for 0

    @broken.get("/echo")
    def echo(text: str = "") -> Response:
        return Response(text, status_code=503 if "\x00" in text else 200)

    persona = Persona(ANON, client_for(broken), session, None)
    run = fuzz(persona, broken, broken.openapi())
    outcomes = {f.request.split("?")[0]: f.outcome for f in run.failures}
    assert "ZeroDivisionError" in outcomes.get("GET /shares/0", ""), run.failures
    assert any(f.request.startswith("GET /echo?text=fuzz%00text") for f in run.failures)
    assert all(f.outcome == "status 503" for f in run.failures if "/echo" in f.request)
