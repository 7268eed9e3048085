"""Translatable names for referral sources, statuses, barriers and task kinds."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from assistant.i18n import _, lazy_gettext, ngettext
from assistant.pcw.tasks import REPLY_KIND

STATUS_LABELS: dict[str, Any] = {
    "open": lazy_gettext("Open"),
    "contacted": lazy_gettext("Contacted"),
    "enrolled": lazy_gettext("Enrolled"),
    "unreachable": lazy_gettext("Could not reach"),
}

SOURCE_LABELS: dict[str, Any] = {
    "sms": lazy_gettext("SMS"),
    "practice": lazy_gettext("Practice"),
    "assessment": lazy_gettext("Barrier assessment"),
}

BARRIER_LABELS: dict[str, Any] = {
    "cost": lazy_gettext("Cost"),
    "transport": lazy_gettext("Transport"),
    "language": lazy_gettext("Language or interpreter"),
    "isolation": lazy_gettext("Social isolation"),
    "housing": lazy_gettext("Housing"),
    "food": lazy_gettext("Food"),
    "safety": lazy_gettext("Safety at home"),
    "system-knowledge": lazy_gettext("Knowing how the health system works"),
    "anxiety": lazy_gettext("Anxiety about visits"),
    "cultural": lazy_gettext("Cultural barriers"),
    "enrolment": lazy_gettext("Enrolment or eligibility"),
    "phone-internet": lazy_gettext("Phone or internet access"),
    # Recorded by a barrier assessment (and passed on with an enrolment request made from it).
    "utilities": lazy_gettext("Power, gas or water"),
    "find-practice": lazy_gettext("Finding a practice"),
}

TASK_KIND_LABELS: dict[str, Any] = {
    "call-back": lazy_gettext("Call back"),
    "referral": lazy_gettext("Referral"),
    "transport": lazy_gettext("Transport"),
    "follow-up": lazy_gettext("Follow-up"),
    "urgent": lazy_gettext("Urgent"),
    REPLY_KIND: lazy_gettext("Text reply"),
}

OUTBOX_STATUS_LABELS: dict[str, Any] = {
    "queued": lazy_gettext("Waiting to send"),
    "sending": lazy_gettext("Sending"),
    "sent": lazy_gettext("Sent"),
    "delivered": lazy_gettext("Delivered"),
    "failed": lazy_gettext("Not sent"),
    "cancelled": lazy_gettext("Cancelled"),
}


def label(table: dict[str, Any], key: str) -> str:
    """The translated name, or the key itself for values we have no name for."""
    value = table.get(key)
    return str(value) if value is not None else key


# Why a referral was made: the SMS conversation's reason codes (free text passes through).
REASON_LABELS: dict[str, Any] = {
    "safety": lazy_gettext("Sent an emergency or crisis message: check they are safe."),
    "barrier": lazy_gettext("Mentioned something that makes it hard to see a doctor."),
    "question": lazy_gettext("Asked a question the service could not answer."),
    "callback": lazy_gettext("Asked for a call back."),
    "eligibility-unsure": lazy_gettext("Not sure whether they are eligible for funded care."),
    "not-eligible": lazy_gettext("May not be eligible for funded care."),
    "no-practice": lazy_gettext("No practice near them is taking new patients."),
    "practice-declined": lazy_gettext("A practice could not take them on: asked for a call back."),
    "enrolment-unanswered": lazy_gettext(
        "Asked a practice to take them on; the practice has not answered in 2 working days."
    ),
}


def task_title(task: Any) -> str:
    """Urgent tasks made for a safety message carry no typed title: name them here."""
    if task.kind == "urgent" and task.referral_id:
        return str(lazy_gettext("Urgent referral: make sure this person is safe and supported."))
    if task.kind == "enrolment":
        # The stored title is "<person>: <practice>".
        person, _sep, practice = str(task.title).partition(": ")
        return str(
            lazy_gettext(
                "Call %(person)s: %(practice)s has not answered their enrolment request.",
                person=person,
                practice=practice,
            )
        )
    if task.kind == REPLY_KIND:
        # The stored title is the person's name, or their masked number.
        return str(
            lazy_gettext("%(person)s texted back: read and answer their text.", person=task.title)
        )
    return str(task.title)


# Why an outgoing SMS was held back or failed, for the outbox page (the code is shown beside it).
ERROR_LABELS: dict[str, Any] = {
    "opted-out": lazy_gettext("Opted out of texts"),
    "21610": lazy_gettext("Opted out of texts"),
    "21211": lazy_gettext("Not a valid mobile number"),
    "timeout": lazy_gettext("The SMS service did not answer in time"),
    "connect-timeout": lazy_gettext("The SMS service did not answer in time"),
    "network": lazy_gettext("The SMS service did not answer in time"),
    "http-429": lazy_gettext("The SMS service asked us to slow down"),
    "20429": lazy_gettext("The SMS service asked us to slow down"),
    "lease-expired": lazy_gettext("Sending was interrupted"),
    "http-5xx": lazy_gettext("The SMS service had a problem"),
}


def error_label(code: str) -> str:
    """A sentence for a send error code, or nothing when we have no name for it."""
    value = ERROR_LABELS.get(code)
    if value is None and code.startswith("http-5"):
        value = ERROR_LABELS["http-5xx"]
    return str(value) if value is not None else ""


# Enrolment requests, as the community workers follow them.
ENROLMENT_STATUS_LABELS: dict[str, Any] = {
    "sent": lazy_gettext("Waiting for the practice"),
    "info_needed": lazy_gettext("The practice needs more information"),
    "booked": lazy_gettext("Booked with the practice"),
    "enrolled": lazy_gettext("Enrolled"),
    "declined": lazy_gettext("The practice cannot take them"),
}

ENROLMENT_EVENT_LABELS: dict[str, Any] = {
    "sent": lazy_gettext("Request made"),
    "booked": lazy_gettext("The practice booked them in"),
    "info_needed": lazy_gettext("The practice asked for more information"),
    "declined": lazy_gettext("The practice cannot take them"),
    "enrolled": lazy_gettext("Enrolled with the practice"),
    "escalated": lazy_gettext(
        "No answer from the practice in 2 working days: handed to the community workers"
    ),
    "note": lazy_gettext("Note"),
}

DECLINE_REASON_LABELS: dict[str, Any] = {
    "full": lazy_gettext("The practice's list is full"),
    "area": lazy_gettext("The person lives outside the practice's area"),
    "not_eligible": lazy_gettext("The practice cannot enrol them for funded care"),
    "other": lazy_gettext("Another reason"),
}

REQUEST_SOURCE_LABELS: dict[str, Any] = {
    "sms": lazy_gettext("The person asked by text"),
    "pcw": lazy_gettext("Asked by a community worker"),
}


def waited_text(waited: timedelta, *, answered: bool) -> str:
    """How long a request waited for the practice's first answer."""
    hours = int(waited.total_seconds() // 3600)
    days = hours // 24
    if answered:
        if hours < 1:
            return _("Answered within an hour")
        if days < 1:
            return ngettext("Answered after %(num)d hour", "Answered after %(num)d hours", hours)
        return ngettext("Answered after %(num)d day", "Answered after %(num)d days", days)
    if hours < 1:
        return _("Waiting for less than an hour")
    if days < 1:
        return ngettext("Waiting for %(num)d hour", "Waiting for %(num)d hours", hours)
    return ngettext("Waiting for %(num)d day", "Waiting for %(num)d days", days)
