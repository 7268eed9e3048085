"""Translatable names for referral sources, statuses, barriers and task kinds."""

from __future__ import annotations

from typing import Any

from assistant.i18n import lazy_gettext

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
}

TASK_KIND_LABELS: dict[str, Any] = {
    "call-back": lazy_gettext("Call back"),
    "referral": lazy_gettext("Referral"),
    "transport": lazy_gettext("Transport"),
    "follow-up": lazy_gettext("Follow-up"),
    "urgent": lazy_gettext("Urgent"),
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
