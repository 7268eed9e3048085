"""What a person's next text answers, when someone other than the guide asked them something.

A practice that cannot take someone on offers a call back ("1 Yes 2 No"); a community worker
texts them. Either way the person's next text answers that, not the guide's last question:
the contact's step says so, with what the guide needs to know kept in its answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlmodel import Session

from assistant.contacts.models import SmsContact
from assistant.contacts.optout import find_contact, normalise

# The step of a person answering a community worker's text (the guide's ``Step.worker``), and
# what it keeps in the contact's answers: when the worker texted, about which referral, who,
# and whether the person was told their text reached the worker.
WORKER_STEP = "worker"
WORKER_AT, WORKER_REFERRAL, WORKER_ID, WORKER_TOLD = (
    "worker_at",
    "worker_referral",
    "worker_id",
    "worker_told",
)
WORKER_KEYS = (WORKER_AT, WORKER_REFERRAL, WORKER_ID, WORKER_TOLD)


def await_answer(
    session: Session,
    *,
    phone: str,
    step: str,
    answers: dict[str, Any],
    drop: Iterable[str] = (),
    language: str | None = None,
) -> bool:
    """The next text from ``phone`` answers ``step``, with ``answers`` set and ``drop`` removed
    from the contact's answers. A number that never texted becomes a contact in ``language``
    (with none given, nothing is recorded for it). An opted-out number is left alone. True when
    recorded."""
    contact = find_contact(session, phone=phone)
    if contact is None:
        if language is None:
            return False
        contact = SmsContact(phone=normalise(phone), language=language)
    if contact.opted_out:
        return False
    try:
        kept = json.loads(contact.answers or "{}")
    except ValueError:
        kept = {}
    if not isinstance(kept, dict):
        kept = {}
    for key in drop:
        kept.pop(key, None)
    kept.update(answers)
    contact.answers = json.dumps(kept, ensure_ascii=False, sort_keys=True)
    contact.step = step
    session.add(contact)
    session.flush()
    return True


def await_worker_reply(
    session: Session,
    *,
    phone: str,
    referral_id: int,
    worker_id: int | None,
    at: datetime,
    language: str,
) -> bool:
    """A community worker texted ``phone`` about ``referral_id``: the person's next texts go to
    that worker (the guide's question, if any, is dropped)."""
    return await_answer(
        session,
        phone=phone,
        step=WORKER_STEP,
        answers={WORKER_AT: at.isoformat(), WORKER_REFERRAL: referral_id, WORKER_ID: worker_id},
        drop=("asking", "callback_reason", WORKER_TOLD),
        language=language,
    )
