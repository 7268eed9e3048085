"""Demo barrier assessments, so the coordinators' dashboard has something to show.

Idempotent: each demo assessment has a fixed instance id and is stored once. People in them
are made up ("Demo person 7"); the agreed actions of the last fortnight's assessments become
follow-up tasks, as a real submission's would.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import timedelta

from sqlmodel import Session, col, select

from assistant.clock import utcnow
from assistant.forms.capture.actions import create_actions
from assistant.forms.engine.definition import FormNotFound, load_form
from assistant.forms.models import FormSubmission
from assistant.people.models import Role, User

FORM_ID = "barrier_assessment"
COUNT = 36
WEEKS = 12
LANGS = ("en", "en", "sm", "sm", "to", "ar", "zh_Hans", "hi", "mi")
BARRIER_ACTIONS = {
    "cost": "csc",
    "transport": "transport_referral",
    "language": "interpreter",
    "food": "food_support",
    "housing": "housing_referral",
    "system_knowledge": "explain_system",
    "enrolment": "enrol",
}


def demo_instance_id(n: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://demo.invalid/assessments/{n}"))


def load_demo_assessments(session: Session) -> None:
    try:
        form = load_form(FORM_ID)
    except FormNotFound:
        return
    pcws = list(session.exec(select(User).where(User.role == Role.pcw).order_by(col(User.id))))
    if not pcws:
        return
    wanted = {demo_instance_id(n): n for n in range(COUNT)}
    present = set(
        session.exec(
            select(FormSubmission.instance_id).where(
                col(FormSubmission.instance_id).in_(wanted.keys())
            )
        )
    )
    barriers = form.fields["barriers"].choice_values() if "barriers" in form.fields else []
    barriers = [b for b in barriers if b != "other"] or list(BARRIER_ACTIONS)
    rng = random.Random(2026)
    now = utcnow()
    for instance_id, n in wanted.items():
        # draw every time so the set is the same whichever rows already exist
        pcw = pcws[n % len(pcws)]
        consent = rng.random() > 0.1
        found = rng.sample(barriers, rng.randint(1, 3))
        age_days = rng.randint(0, WEEKS * 7 - 1)
        lang = rng.choice(LANGS)
        if instance_id in present:
            continue
        answers: dict[str, object] = {"consent": "yes" if consent else "no"}
        if consent:
            actions = [BARRIER_ACTIONS[b] for b in found if b in BARRIER_ACTIONS]
            answers |= {
                "person_name": f"Demo person {n + 1}",
                "enrolment_status": "not_enrolled" if n % 3 else "enrolled_not_seen",
                "transport_barrier": "yes" if "transport" in found else "no",
                "barriers": found,
                "actions": actions or ["explain_system"],
                "follow_up_date": (now + timedelta(days=14 - age_days % 21)).date().isoformat(),
            }
        body = json.dumps(answers, sort_keys=True)
        assert pcw.id is not None
        submission = FormSubmission(
            instance_id=instance_id,
            form_id=FORM_ID,
            form_version=form.version,
            lang=lang,
            answers=body,
            content_hash=uuid.uuid5(uuid.NAMESPACE_URL, body).hex,
            submitted_by_id=pcw.id,
            agency_id=pcw.agency_id,
            consent=consent,
            created_at=now - timedelta(days=age_days, hours=rng.randint(0, 8)),
        )
        session.add(submission)
        session.flush()
        if age_days < 14:
            create_actions(session, submission=submission, definition=form, actor=pcw)
    session.commit()
