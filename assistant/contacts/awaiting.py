"""What a person's next text answers, when someone other than the guide asked them something.

A practice that cannot take someone on offers a call back ("1 Yes 2 No"); a community worker
texts them. Either way the person's next text answers that, not the guide's last question:
the contact's step says so, with what the guide needs to know kept in its answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlmodel import Session

from assistant.contacts.models import SmsContact
from assistant.contacts.optout import find_contact, normalise

# The step of a person answering a community worker's text (the guide's ``Step.worker``).
WORKER_STEP = "worker"


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
