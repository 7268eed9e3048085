"""Scoring the SMS guide end to end on a TSV of conversations (``python -m assistant eval-sms``).

Columns: ``id``, ``lang``, ``messages`` (the texts one new number sends, in order, joined by
`` || ``) and ``expect``, one of: ``emergency`` / ``crisis`` (the reply to the last text is that
safety message), ``not-emergency`` (no reply in the conversation is a safety message),
``practices:<suburb>`` (the guide found that place and listed practices near it),
``callback`` (a call-back referral was made), ``barriers:<a,b>`` (a referral carries those
barriers), ``answer:<entry id>`` (the last reply carries that entry's answer). Each scenario
runs through ``handle_inbound`` against the session's database (the CLI gives it a scratch
database with the demo practices).
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from assistant.contacts.models import SmsContact
from assistant.contacts.segments import fits
from assistant.i18n import LANGUAGES, use_locale
from assistant.knowledge import get_knowledge_base
from assistant.pcw.models import Referral
from assistant.people.places import gazetteer
from assistant.sms import messages as msg
from assistant.sms.conversation import handle_inbound

KINDS = ("emergency", "crisis", "not-emergency", "practices", "callback", "barriers", "answer")


class ScenarioFileError(ValueError):
    pass


@dataclass(frozen=True)
class Scenario:
    id: str
    lang: str
    messages: tuple[str, ...]
    expect: str

    @property
    def kind(self) -> str:
        return self.expect.split(":", 1)[0]

    @property
    def value(self) -> str:
        return self.expect.split(":", 1)[1].strip() if ":" in self.expect else ""


@dataclass(frozen=True)
class Result:
    scenario: Scenario
    passed: bool
    replies: tuple[str, ...]
    why: str = ""


def read_scenarios(path: Path) -> list[Scenario]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        missing = {"id", "lang", "messages", "expect"} - set(reader.fieldnames or [])
        if missing:
            raise ScenarioFileError(f"{path}: missing column(s): {', '.join(sorted(missing))}")
        found = []
        for number, row in enumerate(reader, start=2):
            texts = tuple(t.strip() for t in (row.get("messages") or "").split("||"))
            expect = (row.get("expect") or "").strip()
            if not any(texts):
                continue
            if expect.split(":", 1)[0] not in KINDS:
                raise ScenarioFileError(f"{path}:{number}: unknown expect {expect!r}")
            found.append(
                Scenario(
                    id=(row.get("id") or str(number)).strip(),
                    lang=(row.get("lang") or "en").strip(),
                    messages=tuple(t for t in texts if t),
                    expect=expect,
                )
            )
    return found


def _safety_texts() -> tuple[set[str], set[str]]:
    emergency: set[str] = set()
    crisis: set[str] = set()
    for lang in LANGUAGES:
        with use_locale(lang):
            emergency.add(str(msg.emergency()))
            crisis.add(str(msg.crisis_support()))
    return emergency, crisis


def run_scenario(
    session: Session, scenario: Scenario, *, number: int, start: datetime, pho_phone: str
) -> Result:
    phone = f"+6421999{number:05d}"
    replies = []
    for step, text in enumerate(scenario.messages):
        replies.append(
            handle_inbound(
                session,
                phone=phone,
                body=text,
                message_sid=f"SMeval{number:06d}{step:03d}",
                now=start + timedelta(minutes=step),
                pho_phone=pho_phone,
            )
        )
    return _judge(session, scenario, phone=phone, replies=tuple(replies))


def _judge(session: Session, scenario: Scenario, *, phone: str, replies: tuple[str, ...]) -> Result:
    emergency, crisis = _safety_texts()
    last = replies[-1] if replies else ""
    contact = session.exec(select(SmsContact).where(SmsContact.phone == phone)).one()
    answers: dict[str, Any] = json.loads(contact.answers or "{}")
    referrals = list(
        session.exec(select(Referral).where(Referral.phone == phone).order_by(col(Referral.id)))
    )
    kind, value = scenario.kind, scenario.value
    too_long = [r for r in replies if not fits(r)]
    if too_long:
        return Result(scenario, False, replies, "a reply is longer than two segments")
    if kind == "emergency":
        return Result(scenario, last in emergency, replies, "not the emergency reply")
    if kind == "crisis":
        return Result(scenario, last in crisis, replies, "not the crisis reply")
    if kind == "not-emergency":
        alarmed = any(r in emergency or r in crisis for r in replies)
        return Result(scenario, not alarmed, replies, "a safety reply")
    if kind == "practices":
        place = str(answers.get("place", ""))
        # A postcode is as good as the suburb's name when it is that suburb's postcode.
        codes = {p.postcode for p in gazetteer() if p.name.lower() == value.lower()}
        same = place.lower() == value.lower() or place in codes
        ok = same and bool(answers.get("practices"))
        return Result(scenario, ok, replies, f"place {place!r}, not {value!r} with practices")
    if kind == "callback":
        ok = any(r.reason not in ("safety", "") for r in referrals)
        return Result(scenario, ok, replies, "no call-back referral")
    if kind == "barriers":
        wanted = {b.strip() for b in value.split(",") if b.strip()}
        got: set[str] = set()
        for referral in referrals:
            got |= set(referral.barriers)
        return Result(scenario, wanted <= got, replies, f"barriers {sorted(got)}")
    entry = get_knowledge_base().get(value)
    if entry is None:
        return Result(scenario, False, replies, f"no entry {value!r}")
    variant = entry.variant(contact.language)
    ok = variant.body_text[:40].strip() in last if variant.body_text else False
    return Result(scenario, ok, replies, f"not the answer {value!r} ({contact.language})")


def summarise(results: list[Result]) -> dict[str, Any]:
    by_kind: dict[str, list[Result]] = defaultdict(list)
    by_lang: dict[str, list[Result]] = defaultdict(list)
    for result in results:
        kind = result.scenario.kind
        by_kind["safety" if kind in ("emergency", "crisis") else kind].append(result)
        by_lang[result.scenario.lang].append(result)

    def tally(items: list[Result]) -> str:
        return f"{sum(r.passed for r in items)}/{len(items)}"

    return {
        "n": len(results),
        "passed": sum(r.passed for r in results),
        "pass_rate": round(sum(r.passed for r in results) / len(results), 4) if results else 1.0,
        "by_kind": {kind: tally(items) for kind, items in sorted(by_kind.items())},
        "by_lang": {lang: tally(items) for lang, items in sorted(by_lang.items())},
    }


def format_report(summary: dict[str, Any], results: list[Result]) -> str:
    lines = [
        f"scenarios: {summary['n']}, passed {summary['passed']} ({summary['pass_rate']:.3f})",
        "by kind: " + ", ".join(f"{k} {v}" for k, v in summary["by_kind"].items()),
        "by language: " + ", ".join(f"{k} {v}" for k, v in summary["by_lang"].items()),
    ]
    failed = [r for r in results if not r.passed]
    if failed:
        lines.append("failed:")
    for result in failed:
        s = result.scenario
        lines.append(f"  {s.id} [{s.lang}] {s.expect}: {result.why}")
        for text, reply in zip(s.messages, result.replies, strict=False):
            lines.append(f"      > {text}")
            lines.append(f"      < {reply[:160]}")
    return "\n".join(lines)


def evaluate(
    session: Session, scenarios: list[Scenario], *, pho_phone: str, start: datetime
) -> tuple[dict[str, Any], list[Result]]:
    """Run every scenario against ``session``'s database (a new number each) and summarise."""
    results = [
        run_scenario(session, s, number=n, start=start, pho_phone=pho_phone)
        for n, s in enumerate(scenarios, start=1)
    ]
    return summarise(results), results
