"""The texts a person gets when a practice answers their request, in their language.

Each is one whole SMS of at most two segments, except an answer with the practice's own words
(in the language the practice wrote them): those are never cut, so such a text may take up to
``ANSWER_SEGMENTS`` (phones show the parts as one message); a longer one is refused before
anything is queued (``requests``).
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.contacts.segments import fits, shorten
from assistant.i18n import _, lazy_gettext, use_locale
from assistant.people.models import Practice

# Twilio joins up to 10 segments; five hold a practice's 200-character message with macrons
# (UCS-2) in every language's frame, within Twilio's advice to stay under about 320 characters.
ANSWER_SEGMENTS = 5

DECLINE_REASONS = {
    # Translators: why a practice cannot take a new patient (shown to the patient by SMS and
    # to staff).
    "full": lazy_gettext("its list is full"),
    # Translators: why a practice cannot take a new patient.
    "area": lazy_gettext("you live outside its area"),
    # Translators: why a practice cannot take a new patient.
    "not_eligible": lazy_gettext("it cannot enrol you for funded care"),
    # Translators: why a practice cannot take a new patient.
    "other": lazy_gettext("it cannot take new patients now"),
}


def _with_words(frame: str, words: str) -> str:
    """``frame`` with the practice's ``words``, whole, in place of {words}."""
    before, _sep, after = frame.partition("{words}")
    return f"{before}{words}{after}"


def booked(language: str, practice: Practice, message: str) -> str:
    with use_locale(language):
        # Translators: SMS to a patient; %(practice)s is a practice's name; keep {words} as
        # it is (the practice's own message goes there, in quotes).
        frame = _(
            '%(practice)s can take you on: "{words}" Questions? Call %(phone)s.',
            practice=practice.name,
            phone=practice.phone,
        )
        return _with_words(frame, message)


def info_needed(language: str, practice: Practice, message: str) -> str:
    with use_locale(language):
        # Translators: SMS to a patient; keep {words} as it is (the practice's own message).
        frame = _(
            '%(practice)s needs more from you: "{words}" Please call them on %(phone)s.',
            practice=practice.name,
            phone=practice.phone,
        )
        return _with_words(frame, message)


def declined(language: str, practice: Practice, reason: str, others: Sequence[Practice]) -> str:
    with use_locale(language):
        why = str(DECLINE_REASONS.get(reason, DECLINE_REASONS["other"]))
        # Translators: SMS to a patient; %(reason)s is one of the reasons above.
        head = _(
            "Sorry, %(practice)s cannot take you on: %(reason)s.",
            practice=practice.name,
            reason=why,
        )
        # Translators: SMS to a patient, last line: a community worker can call them.
        offer = _("Want a call back? 1 Yes 2 No")
        for count in range(len(others), -1, -1):
            lines = [f"{p.name} {p.phone}".strip() for p in others[:count]]
            # Translators: SMS to a patient, before other practices' names and phones.
            middle = (_("Also near you:") + " " + "; ".join(lines) + ".") if lines else ""
            text = " ".join(filter(None, (head, middle, offer)))
            if fits(text):
                return text
        return shorten(head, suffix=offer)


def enrolled(language: str, practice: Practice) -> str:
    with use_locale(language):
        # Translators: SMS to a patient once the practice has enrolled them.
        return shorten(
            _(
                "You are now enrolled at %(practice)s. Welcome! Call %(phone)s to see a doctor "
                "or nurse. Text 0 for the menu.",
                practice=practice.name,
                phone=practice.phone,
            )
        )


def escalated(language: str, practice: Practice) -> str:
    with use_locale(language):
        # Translators: SMS to a patient when a practice has not answered for two working days.
        return shorten(
            _(
                "%(practice)s has not answered yet. A community worker will call you soon to "
                "help. Text 0 for the menu.",
                practice=practice.name,
            )
        )


def request_sent(language: str, practice: Practice) -> str:
    with use_locale(language):
        # Translators: SMS after the person agreed to share their details with a practice.
        return shorten(
            _(
                "Sent. %(practice)s will text you back here, usually within 2 working days. "
                "Bring photo ID when you go. Text 0 for the menu.",
                practice=practice.name,
            )
        )
