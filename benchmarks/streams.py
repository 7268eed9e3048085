"""The requests of each scenario, one stream per keep-alive connection, built before a run.

- ``sms``: each connection carries three people's conversations through the SMS guide (the
  script below, round and round), Twilio-signed; every 10th message is delivered again, as a
  Twilio retry with the same MessageSid.
- ``chat``: each connection is one signed-in member of practice staff asking the dev set's
  practice questions (htmx's POST, answered with a fragment).
- ``forms``: each connection is one signed-in member of practice staff sending "flag a
  problem" forms, each with a new ``instance_id``; every 10th is sent again (200, not 201).
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode

import yaml
from twilio.request_validator import RequestValidator

from benchmarks.loadgen import Req
from benchmarks.served import PUBLIC, TWILIO_TOKEN, Staff

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ("sms", "chat", "forms")
TITLES = {"sms": "SMS webhook", "chat": "chat ask", "forms": "form submission"}
RETRY_EVERY = 10
PEOPLE_PER_CONNECTION = 3
# One person's conversation: the enrolment guide, a question, a menu.
SCRIPT = [
    "Kia ora",
    "1",
    "kāo",
    "kāo",
    "āe",
    "Riccarton",
    "1",
    "1",
    "kāo",
    "What do I need to bring to enrol?",
    "0",
    "4",
]
FLAG_ANSWERS = {
    "provider": "hospital_ed",
    "work_type": ["tests", "results"],
    "event_date": "2026-11-02",
    "description": "Discharge letter asked us to arrange bloods and chase the results.",
    "staff_minutes": "30",
    "funding_offered": "no",
    "contact_ok": "yes",
}

_batches = itertools.count(1)


def _practice_questions() -> list[str]:
    from assistant.matcher.evaluate import read_queries

    rows = read_queries(ROOT / "tests" / "data" / "dev-queries.tsv")
    return [q.query for q in rows if q.audience == "practice"]


def sms(connection: int, batch: int) -> Iterator[Req]:
    validator = RequestValidator(TWILIO_TOKEN)
    url = PUBLIC + "/sms/twilio"
    first = 5550000 + connection * PEOPLE_PER_CONNECTION
    previous: Req | None = None
    for n in itertools.count():
        if previous is not None and n % RETRY_EVERY == 0:
            yield previous
            continue
        person, step = n % PEOPLE_PER_CONNECTION, n // PEOPLE_PER_CONNECTION
        params = {
            "MessageSid": f"SM{batch:06d}{connection:04d}{n:022d}",
            "AccountSid": "AC" + "0" * 32,
            "From": f"+6421{first + person}",
            "To": "+6435550100",
            "Body": SCRIPT[step % len(SCRIPT)],
            "NumMedia": "0",
        }
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": validator.compute_signature(url, params),
        }
        previous = Req.build("POST", "/sms/twilio", headers, urlencode(params).encode())
        yield previous


def chat(staff: Staff, connection: int, questions: list[str]) -> Iterator[Req]:
    headers = staff.headers() | {
        "Content-Type": "application/x-www-form-urlencoded",
        "HX-Request": "true",
    }
    for n in itertools.count(connection * 7):
        body = urlencode({"q": questions[n % len(questions)]}).encode()
        yield Req.build("POST", "/chat/ask", headers, body)


def forms(staff: Staff, form_version: str) -> Iterator[Req]:
    headers = staff.headers() | {"Content-Type": "application/json"}
    path = "/api/forms/flag_problem/submissions"
    previous: Req | None = None
    for n in itertools.count():
        if previous is not None and n % RETRY_EVERY == 0:
            yield Req.build("POST", path, headers, previous.body, ok=(200,))
            continue
        body = {
            "instance_id": str(uuid.uuid4()),
            "form_version": form_version,
            "lang": "en",
            "answers": FLAG_ANSWERS,
        }
        previous = Req.build("POST", path, headers, json.dumps(body).encode(), ok=(201,))
        yield previous


def builder(scenario: str) -> Callable[[list[Staff], int], list[Iterator[Req]]]:
    """``build(staff, concurrency)``: one stream per connection, the first requests built
    already (signed, encoded) so the client spends the run sending them."""
    questions = _practice_questions() if scenario == "chat" else []
    version = ""
    if scenario == "forms":  # the form's current version, as the offline client sends it
        definition = yaml.safe_load((ROOT / "forms" / "flag_problem.yaml").read_text("utf-8"))
        version = str(definition["version"])

    def build(staff: list[Staff], concurrency: int) -> list[Iterator[Req]]:
        batch = next(_batches)
        streams: list[Iterator[Req]] = []
        for c in range(concurrency):
            if scenario == "sms":
                stream = sms(c, batch)
            elif scenario == "chat":
                stream = chat(staff[c], c, questions)
            else:
                stream = forms(staff[c], version)
            ready = list(itertools.islice(stream, 12_000 // concurrency + 50))
            streams.append(itertools.chain(ready, stream))
        return streams

    return build
