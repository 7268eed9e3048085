"""Form data the tests share: submissions stored as the forms API stores them, and answers."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from assistant.forms.engine.definition import load_form
from assistant.forms.models import FormSubmission
from assistant.people.models import User


def add_submission(
    session: Session,
    user: User,
    answers: dict[str, Any],
    *,
    form_id: str = "barrier_assessment",
    lang: str = "en",
    created_at: datetime | None = None,
) -> FormSubmission:
    """A submission of ``form_id`` by ``user``, stored and committed (2 Nov 2026 unless told)."""
    body = json.dumps(answers, sort_keys=True)
    assert user.id is not None
    sub = FormSubmission(
        instance_id=str(uuid.uuid4()),
        form_id=form_id,
        form_version="1",
        lang=lang,
        answers=body,
        content_hash=hashlib.sha256(body.encode()).hexdigest(),
        submitted_by_id=user.id,
        agency_id=user.agency_id,
        practice_id=user.practice_id,
        consent=answers.get("consent") == "yes" if form_id == "barrier_assessment" else True,
        created_at=created_at or datetime(2026, 11, 2, 23, 0, tzinfo=UTC),
    )
    session.add(sub)
    session.commit()
    session.refresh(sub)
    return sub


# A full barrier assessment, with awkward values (a spreadsheet formula, a macron, repeats).
ANA: dict[str, Any] = {
    "consent": "yes",
    "person_name": "Ana Faleolo",
    "phone": "+64 21 555 0101",
    "date_of_birth": "1984-03-09",
    "main_language": "samoan",
    "interpreter_needed": "yes",
    "enrolment_status": "not_enrolled",
    "cost_difficulty": "very_hard",
    "transport_barrier": "yes",
    "housing": ["cold_damp", "overcrowded"],
    "household_members": [
        {"member_name": "Losa", "member_age": 8, "member_relationship": "child"},
        {"member_name": "Tavita", "member_age": "15", "member_relationship": "child"},
    ],
    "barriers": ["cost", "transport", "other"],
    "barriers_other": '=HYPERLINK("http://evil.example")',
    "actions": ["transport_referral"],
    "follow_up_date": "2026-11-20",
    "notes": "Prefers a call after 3pm; whānau meeting on Sunday",
}
# An assessment the person did not consent to: nothing but the refusal is kept.
NO_CONSENT: dict[str, Any] = {"consent": "no", "person_name": "Not kept"}


def flag_payload(**answers: Any) -> dict[str, Any]:
    """The JSON body the forms API takes for a "flag a problem" submission."""
    base = {
        "provider": "hospital_ed",
        "work_type": ["tests", "results"],
        "event_date": "2026-11-02",
        "description": "Discharge letter asked us to arrange bloods and chase the results.",
        "staff_minutes": "30",
        "funding_offered": "no",
        "contact_ok": "yes",
    }
    return {
        "instance_id": str(uuid.uuid4()),
        "form_version": load_form("flag_problem").version,
        "lang": "en",
        "answers": base | answers,
    }


# A whole barrier assessment, consented, with two follow-up actions agreed (transport, find a
# practice) due on a fixed far date.
BARRIER_ANSWERS: dict[str, Any] = {
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
