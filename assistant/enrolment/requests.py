"""Making enrolment requests and the practice's answers to them.

Every function here flushes and leaves the commit to its caller (the request, the SMS turn,
the worker step), so a status change, its journey event, the text to the person (queued in
the outbox) and the audit record are stored together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import func, or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from assistant import audit
from assistant.clock import as_utc
from assistant.contacts.awaiting import await_answer
from assistant.contacts.segments import GSM7_PART, UCS2_PART, count, fits, is_gsm7
from assistant.enrolment import emails, notices
from assistant.enrolment.funnel import first_mark, mark, person_of
from assistant.enrolment.models import (
    OPEN_STATUSES,
    DeclineReason,
    EnrolmentEvent,
    EnrolmentRequest,
    EventKind,
    RequestSource,
    RequestStatus,
    Stage,
)
from assistant.errors import Conflict, Forbidden, Invalid, NotFound
from assistant.i18n import _
from assistant.outbox.models import OutboxMessage
from assistant.outbox.queue import enqueue_sms
from assistant.paging import Page, fetch
from assistant.people.models import Practice, Role, User
from assistant.people.places import practices_near_practice

ENTITY = "enrolment_request"
NAME_MAX = 120
MESSAGE_MAX = 480

Show = Literal["waiting", "open", "closed", "all"]
SHOW_CHOICES: tuple[Show, ...] = ("waiting", "open", "closed", "all")


class NoConsent(Invalid):
    """Nothing is shared without the person's consent."""


def clean_name(raw: str) -> str:
    return " ".join(raw.split())[:NAME_MAX]


def create_request(
    session: Session,
    *,
    practice_id: int,
    name: str,
    phone: str | None,
    language: str,
    consent: bool,
    now: datetime,
    barriers: list[str] | None = None,
    interpreter: bool | None = None,
    source: RequestSource = RequestSource.sms,
    contact_id: int | None = None,
    created_by: User | None = None,
    referral_id: int | None = None,
    submission_id: int | None = None,
    note: str = "",
) -> EnrolmentRequest:
    """A request to ``practice_id`` to take the person on, made with their consent.

    Without consent nothing is stored (``NoConsent``). An open request by the same phone to
    the same practice is returned as it is (a second "yes", a double press): one request.
    """
    if not consent:
        raise NoConsent(_("Nothing is shared without the person's consent."))
    practice = session.get(Practice, practice_id)
    if practice is None or not practice.active:
        raise Invalid(_("Choose a practice from the list."))
    name = clean_name(name)
    if not name:
        raise Invalid(_("Give the person's name."))
    if phone:
        same = session.exec(
            select(EnrolmentRequest).where(
                EnrolmentRequest.phone == phone,
                EnrolmentRequest.practice_id == practice_id,
                col(EnrolmentRequest.status).in_([s.value for s in OPEN_STATUSES]),
            )
        ).first()
        if same is not None:
            return same
    person = person_of(phone=phone)
    texted = first_mark(session, person=person, stage=Stage.texted) if phone else None
    request = EnrolmentRequest(
        practice_id=practice_id,
        source=source.value,
        contact_id=contact_id,
        phone=phone or None,
        name=name,
        language=language,
        interpreter=(language != "en") if interpreter is None else interpreter,
        barriers=sorted(set(barriers or [])),
        note=note.strip()[:1000],
        status=RequestStatus.sent.value,
        consent_at=now,
        first_contact_at=texted.at if texted else None,
        referral_id=referral_id,
        submission_id=submission_id,
        created_by_id=created_by.id if created_by else None,
        created_at=now,
        updated_at=now,
    )
    session.add(request)
    session.flush()
    add_event(session, request, EventKind.sent, now, actor=created_by, message=note.strip())
    _reached(session, request, Stage.practice_chosen, Stage.request_sent, now=now)
    audit.record(
        session,
        actor_id=created_by.id if created_by else None,
        action="created",
        entity=ENTITY,
        entity_id=request.id,
        practice_id=practice_id,
        source=source.value,
    )
    emails.new_request(session, request=request)
    return request


def _reached(session: Session, request: EnrolmentRequest, *stages: Stage, now: datetime) -> None:
    """The funnel: the request's person reached these stages (once each)."""
    for stage in stages:
        mark(
            session,
            person=person_key(request),
            stage=stage,
            at=now,
            language=request.language,
            practice_id=request.practice_id,
        )


def person_key(request: EnrolmentRequest) -> str:
    return person_of(phone=request.phone, request_id=request.id)


def add_event(
    session: Session,
    request: EnrolmentRequest,
    kind: EventKind,
    now: datetime,
    *,
    actor: User | None = None,
    message: str = "",
    outbox_id: int | None = None,
) -> EnrolmentEvent:
    assert request.id is not None
    event = EnrolmentEvent(
        request_id=request.id,
        kind=kind.value,
        at=now,
        actor_id=actor.id if actor else None,
        message=message,
        outbox_id=outbox_id,
    )
    session.add(event)
    session.flush()
    return event


def events_of(session: Session, request_id: int) -> list[EnrolmentEvent]:
    return list(
        session.exec(
            select(EnrolmentEvent)
            .where(EnrolmentEvent.request_id == request_id)
            .order_by(col(EnrolmentEvent.at), col(EnrolmentEvent.id))
        )
    )


def text_person(
    session: Session, request: EnrolmentRequest, body: str, *, purpose: str, actor: User | None
) -> int | None:
    """Queue ``body`` for the person (nothing without a phone; an opted-out number gets the
    message kept as cancelled). The outbox message's id."""
    if not request.phone:
        return None
    message = enqueue_sms(
        session,
        to=request.phone,
        body=body,
        purpose=purpose,
        referral_id=request.referral_id,
        created_by_id=actor.id if actor else None,
    )
    return message.id


# -- the practice's queue ---------------------------------------------------------------------


def _practice_of(user: User) -> int:
    if user.role != Role.practice_staff or user.practice_id is None:
        raise Forbidden()
    return user.practice_id


def page_for_practice(
    session: Session, *, user: User, show: Show = "open", page: int = 1
) -> Page[EnrolmentRequest]:
    """The user's own practice's requests: unanswered first, oldest first among them."""
    practice_id = _practice_of(user)
    stmt = select(EnrolmentRequest).where(EnrolmentRequest.practice_id == practice_id)
    if show == "waiting":
        stmt = stmt.where(EnrolmentRequest.status == RequestStatus.sent.value)
    elif show == "open":
        stmt = stmt.where(col(EnrolmentRequest.status).in_([s.value for s in OPEN_STATUSES]))
    elif show == "closed":
        stmt = stmt.where(col(EnrolmentRequest.status).not_in([s.value for s in OPEN_STATUSES]))
    if show in ("waiting", "open"):
        stmt = stmt.order_by(col(EnrolmentRequest.created_at), col(EnrolmentRequest.id))
    else:
        stmt = stmt.order_by(col(EnrolmentRequest.updated_at).desc(), col(EnrolmentRequest.id))
    return _viewed_page(session, stmt, user=user, page=page, practice_id=practice_id, show=show)


def _viewed_page(
    session: Session,
    stmt: SelectOfScalar[EnrolmentRequest],
    *,
    user: User,
    page: int,
    **detail: object,
) -> Page[EnrolmentRequest]:
    """One page of requests, its viewing audited (who looked at which list)."""
    audit.record(
        session,
        actor_id=user.id,
        action="viewed",
        entity=ENTITY,
        entity_id="list",
        page=page,
        **detail,
    )
    return fetch(session, stmt, number=page)


def waiting_count(session: Session, user: User) -> int:
    """Requests the user's practice has not answered yet (the navigation badge)."""
    if user.role != Role.practice_staff or user.practice_id is None:
        return 0
    stmt = select(func.count()).where(
        EnrolmentRequest.practice_id == user.practice_id,
        EnrolmentRequest.status == RequestStatus.sent.value,
    )
    return int(session.exec(stmt).one())


def get_for_practice(session: Session, *, user: User, request_id: int) -> EnrolmentRequest:
    """One request of the user's own practice (403 for another practice's). Audited."""
    practice_id = _practice_of(user)
    request = session.get(EnrolmentRequest, request_id)
    if request is None:
        raise NotFound()
    if request.practice_id != practice_id:
        raise Forbidden()
    audit.record(
        session,
        actor_id=user.id,
        action="viewed",
        entity=ENTITY,
        entity_id=request.id,
    )
    return request


# -- the community workers' view: every request (the person agreed to "a community worker") ---

CommunityShow = Literal["open", "escalated", "closed", "all"]
COMMUNITY_SHOW_CHOICES: tuple[CommunityShow, ...] = ("open", "escalated", "closed", "all")
COMMUNITY_ROLES = frozenset({Role.pcw, Role.coordinator, Role.admin})


def _community(user: User) -> None:
    if user.role not in COMMUNITY_ROLES:
        raise Forbidden()


def page_for_community(
    session: Session, *, user: User, show: CommunityShow = "open", page: int = 1
) -> Page[EnrolmentRequest]:
    """Every practice's requests: open ones longest waiting first; those handed to the
    community workers most recently handed first; closed ones most recently changed first."""
    _community(user)
    open_values = [s.value for s in OPEN_STATUSES]
    stmt = select(EnrolmentRequest)
    if show == "open":
        stmt = stmt.where(col(EnrolmentRequest.status).in_(open_values)).order_by(
            col(EnrolmentRequest.created_at), col(EnrolmentRequest.id)
        )
    elif show == "escalated":
        stmt = stmt.where(col(EnrolmentRequest.escalated_at).is_not(None)).order_by(
            col(EnrolmentRequest.escalated_at).desc(), col(EnrolmentRequest.id).desc()
        )
    elif show == "closed":
        stmt = stmt.where(col(EnrolmentRequest.status).not_in(open_values)).order_by(
            col(EnrolmentRequest.updated_at).desc(), col(EnrolmentRequest.id).desc()
        )
    else:
        stmt = stmt.order_by(
            col(EnrolmentRequest.created_at).desc(), col(EnrolmentRequest.id).desc()
        )
    return _viewed_page(session, stmt, user=user, page=page, show=show)


def get_for_community(session: Session, *, user: User, request_id: int) -> EnrolmentRequest:
    """One request, for a community worker, coordinator or admin. Audited."""
    _community(user)
    request = session.get(EnrolmentRequest, request_id)
    if request is None:
        raise NotFound(_("We could not find that enrolment request."))
    audit.record(
        session,
        actor_id=user.id,
        action="viewed",
        entity=ENTITY,
        entity_id=request.id,
    )
    return request


def requests_about(
    session: Session,
    *,
    referral_id: int | None = None,
    phone: str | None = None,
    submission_id: int | None = None,
) -> list[EnrolmentRequest]:
    """The requests made from a referral or an assessment, or for a phone number; newest
    first."""
    matches = []
    if referral_id is not None:
        matches.append(col(EnrolmentRequest.referral_id) == referral_id)
    if phone:
        matches.append(col(EnrolmentRequest.phone) == phone)
    if submission_id is not None:
        matches.append(col(EnrolmentRequest.submission_id) == submission_id)
    if not matches:
        return []
    stmt = (
        select(EnrolmentRequest)
        .where(or_(*matches))
        .order_by(col(EnrolmentRequest.created_at).desc(), col(EnrolmentRequest.id).desc())
    )
    return list(session.exec(stmt))


def texts_of(session: Session, events: list[EnrolmentEvent]) -> dict[int, OutboxMessage]:
    """The texts queued for the person at each step: outbox message by its id."""
    ids = {e.outbox_id for e in events if e.outbox_id is not None}
    if not ids:
        return {}
    found = session.exec(select(OutboxMessage).where(col(OutboxMessage.id).in_(ids)))
    return {m.id: m for m in found if m.id is not None}


def waited(request: EnrolmentRequest, now: datetime) -> timedelta:
    """How long the person waited for the practice's first answer (so far, when there is
    none yet)."""
    end = request.answered_at or now
    return max(as_utc(end) - as_utc(request.created_at), timedelta(0))


def _changed(
    session: Session,
    request: EnrolmentRequest,
    *,
    user: User,
    status: RequestStatus,
    kind: EventKind,
    now: datetime,
    message: str = "",
    text: str | None = None,
    **detail: object,
) -> EnrolmentRequest:
    if request.answered_at is None:
        request.answered_at = now
    request.status = status.value
    request.updated_at = now
    outbox_id = (
        text_person(session, request, text, purpose=f"enrolment-{kind.value}", actor=user)
        if text
        else None
    )
    session.add(request)
    add_event(session, request, kind, now, actor=user, message=message, outbox_id=outbox_id)
    audit.record(
        session,
        actor_id=user.id,
        action="changed",
        entity=ENTITY,
        entity_id=request.id,
        status=status.value,
        **detail,
    )
    return request


def _open_or_conflict(request: EnrolmentRequest) -> None:
    if not request.is_open:
        raise Conflict(_("This request is closed already."))


def _message(raw: str) -> str:
    message = " ".join(raw.split())
    if not message:
        raise Invalid(_("Write the message for the person."))
    if len(message) > MESSAGE_MAX:
        raise _too_long(MESSAGE_MAX, len(message))
    return message


def _too_long(room: int, typed: int) -> Invalid:
    return Invalid(
        _("Use at most %(max)d characters (you typed %(count)d).", max=room, count=typed)
    )


_Notice = Callable[[str, Practice, str], str]


def _answer_text(make: _Notice, request: EnrolmentRequest, practice: Practice, message: str) -> str:
    """The text to the person with the practice's ``message`` whole; refused (with how many
    characters fit) when it would take more than ``notices.ANSWER_SEGMENTS``, never cut."""
    text = make(request.language, practice, message)
    if fits(text, notices.ANSWER_SEGMENTS):
        return text
    plain, other = _room(make(request.language, practice, ""))
    if is_gsm7(text):
        raise _too_long(plain, count(message).units)
    raise _too_long(other, _ucs2_units(message))


def book(
    session: Session, *, user: User, request: EnrolmentRequest, message: str, now: datetime
) -> EnrolmentRequest:
    """The practice will take the person on: ``message`` (a time to come in, what to bring) is
    texted to them. The same message twice (a second press) sends nothing more."""
    _practice_of(user)
    message = _message(message)
    if request.status == RequestStatus.booked and request.practice_message == message:
        return request
    _open_or_conflict(request)
    practice = _practice(session, request)
    text = _answer_text(notices.booked, request, practice, message)
    request.booked_at = request.booked_at or now
    request.practice_message = message
    _changed(
        session,
        request,
        user=user,
        status=RequestStatus.booked,
        kind=EventKind.booked,
        now=now,
        message=message,
        text=text,
    )
    _reached(session, request, Stage.accepted, now=now)
    return request


def ask_for_information(
    session: Session, *, user: User, request: EnrolmentRequest, message: str, now: datetime
) -> EnrolmentRequest:
    _practice_of(user)
    message = _message(message)
    if request.status == RequestStatus.info_needed and request.practice_message == message:
        return request
    _open_or_conflict(request)
    practice = _practice(session, request)
    text = _answer_text(notices.info_needed, request, practice, message)
    request.practice_message = message
    return _changed(
        session,
        request,
        user=user,
        status=RequestStatus.info_needed,
        kind=EventKind.info_needed,
        now=now,
        message=message,
        text=text,
    )


def decline(
    session: Session,
    *,
    user: User,
    request: EnrolmentRequest,
    reason: str,
    note: str,
    now: datetime,
) -> EnrolmentRequest:
    """The practice cannot take the person on: they are told why (one of the set reasons, in
    their language), given the next nearest practices and offered a call back. The same reason
    twice (a second press) sends nothing more."""
    _practice_of(user)
    try:
        why = DeclineReason(reason)
    except ValueError:
        raise Invalid(_("Choose a reason.")) from None
    if request.status == RequestStatus.declined and request.decline_reason == why.value:
        return request  # a second press: the person was told once
    _open_or_conflict(request)
    practice = _practice(session, request)
    others = [n.practice for n in practices_near_practice(session, practice, now=now, limit=2)]
    request.decline_reason = why.value
    request.decline_note = note.strip()[:500]
    request.closed_at = now
    _changed(
        session,
        request,
        user=user,
        status=RequestStatus.declined,
        kind=EventKind.declined,
        now=now,
        message=request.decline_note,
        text=notices.declined(request.language, practice, why.value, others),
        reason=why.value,
    )
    _await_callback_answer(session, request)
    return request


def _await_callback_answer(session: Session, request: EnrolmentRequest) -> None:
    """The person's next text answers the call-back offer in the decline message."""
    if request.phone:
        await_answer(
            session,
            phone=request.phone,
            step="offer_callback",
            answers={"callback_reason": "practice-declined"},
        )


def mark_enrolled(
    session: Session, *, user: User, request: EnrolmentRequest, now: datetime
) -> EnrolmentRequest:
    """The person has signed the enrolment form. A second press changes nothing."""
    _practice_of(user)
    if request.status == RequestStatus.enrolled:
        return request
    _open_or_conflict(request)
    practice = _practice(session, request)
    request.enrolled_at = now
    request.booked_at = request.booked_at or now
    request.closed_at = now
    _changed(
        session,
        request,
        user=user,
        status=RequestStatus.enrolled,
        kind=EventKind.enrolled,
        now=now,
        text=notices.enrolled(request.language, practice),
    )
    _reached(session, request, Stage.accepted, Stage.enrolled, now=now)
    return request


def _practice(session: Session, request: EnrolmentRequest) -> Practice:
    practice = session.get(Practice, request.practice_id)
    assert practice is not None
    return practice


# -- for the practice's pages -----------------------------------------------------------------


def message_room(
    session: Session, request: EnrolmentRequest, kind: Literal["booked", "info_needed"]
) -> tuple[int, int]:
    """How many characters of the practice's own words fit the text to the person (a longer
    message is refused, never cut): written in plain letters (GSM-7), and written with other
    letters (macrons, other scripts: the whole text then counts as UCS-2)."""
    practice = _practice(session, request)
    make = notices.booked if kind == "booked" else notices.info_needed
    return _room(make(request.language, practice, ""))


def _room(frame: str) -> tuple[int, int]:
    """Units left beside ``frame`` within ``notices.ANSWER_SEGMENTS``: (GSM-7, UCS-2)."""
    budget = notices.ANSWER_SEGMENTS
    other = min(max(budget * UCS2_PART - _ucs2_units(frame), 0), MESSAGE_MAX)
    if not is_gsm7(frame):
        return other, other
    plain = min(max(budget * GSM7_PART - count(frame).units, 0), MESSAGE_MAX)
    return plain, other


def _ucs2_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
