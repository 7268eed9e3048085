"""Requests a community worker makes on a person's behalf, from a referral or an assessment.

The worker chooses the practice with the person, who agrees (the consent box) that their name,
phone, language and barriers go to that practice. What the form starts with comes from the
referral or the assessment; what is sent is what the worker posts. Every function flushes at
most: the route commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from assistant import audit
from assistant.contacts.phone import InvalidPhone, takes_texts, to_e164
from assistant.enrolment.models import OPEN_STATUSES, EnrolmentRequest, RequestSource
from assistant.enrolment.requests import NoConsent, clean_name, create_request
from assistant.errors import Forbidden, Invalid, NotFound
from assistant.forms.capture.actions import PERSON_FIELD, person_of
from assistant.forms.capture.submissions import answers_of, can_view
from assistant.forms.engine.definition import FormDefinition, FormNotFound, load_form
from assistant.forms.models import FormSubmission
from assistant.i18n import LANGUAGES, _
from assistant.pcw.models import Referral
from assistant.people.listing import days_since_confirmed, is_current
from assistant.people.models import Practice, Role, User

NOTE_MAX = 1000
CHECKED = frozenset({"on", "1", "true", "yes"})
MAKERS = frozenset({Role.pcw, Role.coordinator, Role.admin})
FIELDS = ("practice_id", "name", "phone", "language", "interpreter", "note", "consent")

# The assessment's answers: its "main language" choices, and its barrier codes as the
# referrals spell them.
ASSESSMENT_LANGUAGES = {
    "english": "en",
    "maori": "mi",
    "samoan": "sm",
    "tongan": "to",
    "mandarin": "zh_Hans",
    "hindi": "hi",
    "arabic": "ar",
}
SIGN_LANGUAGE = "nzsl"


class Problem(Invalid):
    """What is wrong with the posted form, and in which field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class MissingConsent(Problem, NoConsent):
    pass


@dataclass(frozen=True)
class PracticeChoice:
    practice: Practice
    current: bool  # "taking new patients" confirmed in the last 30 days
    days: int | None  # since it was last confirmed


@dataclass(frozen=True)
class Made:
    request: EnrolmentRequest
    created: bool  # False: the same request was open already (a second press)


def posted_values(fields: Mapping[str, str]) -> dict[str, str]:
    """The form's fields as posted, to show them again with what needs changing."""
    return {name: str(fields.get(name, "")) for name in FIELDS}


def practice_choices(session: Session, *, now: datetime) -> list[PracticeChoice]:
    """Active practices taking new patients: those confirmed in the last 30 days first, each
    group by name."""
    practices = session.exec(
        select(Practice)
        .where(
            Practice.active == True,  # noqa: E712
            Practice.accepting_new_patients == True,  # noqa: E712
        )
        .order_by(col(Practice.name), col(Practice.id))
    )
    choices = [
        PracticeChoice(p, is_current(p, now), days_since_confirmed(p, now)) for p in practices
    ]
    return sorted(choices, key=lambda c: not c.current)


def can_ask_from(form: FormDefinition, user: User) -> bool:
    """Whether ``user`` may ask a practice to enrol the person an assessment of ``form`` is
    about (when they may open the assessment at all)."""
    return user.role in MAKERS and PERSON_FIELD in form.fields


def _language(code: str | None) -> str:
    return code if code in LANGUAGES else "en"


def values_from_referral(referral: Referral) -> dict[str, str]:
    """The form, filled in from the referral."""
    language = _language(referral.language)
    return {
        "practice_id": "",
        "name": referral.contact_name or "",
        "phone": referral.phone or "",
        "language": language,
        "interpreter": "on" if language != "en" else "",
        "note": "",
        "consent": "",
    }


def values_from_submission(submission: FormSubmission) -> dict[str, str]:
    """The form, filled in from the assessment's answers (empty where nothing personal was
    kept)."""
    answers = answers_of(submission)
    spoken = str(answers.get("main_language") or "")
    language = ASSESSMENT_LANGUAGES.get(spoken, "en")
    needs = answers.get("interpreter_needed")
    interpreter = needs == "yes" or (
        needs is None and (language != "en" or spoken == SIGN_LANGUAGE)
    )
    return {
        "practice_id": "",
        "name": person_of(submission),
        "phone": str(answers.get("phone") or ""),
        "language": language,
        "interpreter": "on" if interpreter else "",
        "note": "",
        "consent": "",
    }


def barriers_of_submission(submission: FormSubmission) -> list[str]:
    """The barriers the assessment found, as the referrals name them."""
    found = answers_of(submission).get("barriers")
    if not isinstance(found, list):
        return []
    return sorted({str(b).replace("_", "-") for b in found if b and b != "other"})


def submission_for(
    session: Session, *, user: User, submission_id: int, audit_view: bool = True
) -> tuple[FormSubmission, FormDefinition]:
    """An assessment ``user`` may open and ask a practice from (NotFound, Forbidden)."""
    submission = session.get(FormSubmission, submission_id)
    if submission is None:
        raise NotFound(_("We could not find that assessment."))
    if not can_view(submission, user):
        raise Forbidden()
    try:
        form = load_form(submission.form_id)
    except FormNotFound:
        raise NotFound(_("We could not find that assessment.")) from None
    if not can_ask_from(form, user):
        raise NotFound(_("We could not find that assessment."))
    if audit_view:
        audit.record(
            session,
            actor_id=user.id,
            action="viewed",
            entity="form_submission",
            entity_id=submission_id,
        )
    return submission, form


def make_for_referral(
    session: Session, *, user: User, referral: Referral, fields: Mapping[str, str], now: datetime
) -> Made:
    """A request for the person a referral is about (the referral's barriers go with it)."""
    return _make(
        session,
        user=user,
        fields=fields,
        now=now,
        barriers=list(referral.barriers),
        referral_id=referral.id,
        submission_id=None,
    )


def make_for_submission(
    session: Session,
    *,
    user: User,
    submission: FormSubmission,
    fields: Mapping[str, str],
    now: datetime,
) -> Made:
    """A request for the person an assessment is about (the barriers it found go with it)."""
    return _make(
        session,
        user=user,
        fields=fields,
        now=now,
        barriers=barriers_of_submission(submission),
        referral_id=None,
        submission_id=submission.id,
    )


def _make(
    session: Session,
    *,
    user: User,
    fields: Mapping[str, str],
    now: datetime,
    barriers: list[str],
    referral_id: int | None,
    submission_id: int | None,
) -> Made:
    if user.role not in MAKERS:
        raise Forbidden()
    if str(fields.get("consent", "")).strip().lower() not in CHECKED:
        raise MissingConsent(
            "consent",
            _(
                "Nothing was sent: tick the box to confirm the person agreed to share their "
                "details with the practice."
            ),
        )
    practice = _practice(session, fields.get("practice_id", ""))
    name = clean_name(str(fields.get("name", "")))
    if not name:
        raise Problem("name", _("Give the person's name."))
    phone = _phone(str(fields.get("phone", "")))
    language = str(fields.get("language", ""))
    if language not in LANGUAGES:
        raise Problem("language", _("Choose a language from the list."))
    note = str(fields.get("note", "")).strip()
    if len(note) > NOTE_MAX:
        raise Problem("note", _("Keep the note under %(n)s characters.", n=NOTE_MAX))
    assert practice.id is not None
    same = _open_request(
        session,
        practice_id=practice.id,
        phone=phone,
        referral_id=referral_id,
        submission_id=submission_id,
    )
    if same is not None:
        return Made(same, created=False)
    request = create_request(
        session,
        practice_id=practice.id,
        name=name,
        phone=phone,
        language=language,
        consent=True,
        now=now,
        barriers=barriers,
        interpreter=str(fields.get("interpreter", "")).strip().lower() in CHECKED,
        source=RequestSource.pcw,
        created_by=user,
        referral_id=referral_id,
        submission_id=submission_id,
        note=note,
    )
    return Made(request, created=True)


def _practice(session: Session, raw: object) -> Practice:
    try:
        practice_id = int(str(raw))
    except ValueError:
        practice_id = 0
    practice = session.get(Practice, practice_id) if practice_id > 0 else None
    if practice is None or not practice.active or not practice.accepting_new_patients:
        raise Problem("practice_id", _("Choose a practice from the list."))
    return practice


def _phone(raw: str) -> str | None:
    if not raw.strip():
        return None
    try:
        phone = to_e164(raw)
    except InvalidPhone:
        raise Problem("phone", _("Enter a phone number, like 021 123 4567.")) from None
    if not takes_texts(phone):  # the practice's answers are texted to it
        raise Problem(
            "phone",
            _(
                "Enter a mobile number, like 021 123 4567: the practice's answers are texted "
                "to it. Leave it empty if the person has none."
            ),
        )
    return phone


def _open_request(
    session: Session,
    *,
    practice_id: int,
    phone: str | None,
    referral_id: int | None,
    submission_id: int | None,
) -> EnrolmentRequest | None:
    """The open request to this practice for the same person: the same phone, or made from
    the same referral or assessment (a phone corrected between two presses is the same
    person)."""
    same = [
        condition
        for value, condition in (
            (phone, col(EnrolmentRequest.phone) == phone),
            (referral_id, col(EnrolmentRequest.referral_id) == referral_id),
            (submission_id, col(EnrolmentRequest.submission_id) == submission_id),
        )
        if value
    ]
    if not same:
        return None
    return session.exec(
        select(EnrolmentRequest).where(
            sa.or_(*same),
            EnrolmentRequest.practice_id == practice_id,
            col(EnrolmentRequest.status).in_([s.value for s in OPEN_STATUSES]),
        )
    ).first()
