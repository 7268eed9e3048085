"""A request the practice leaves unanswered for two business days goes to the community
workers: a referral and a task for the team, and a text telling the person someone will call."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from assistant import audit
from assistant.clock import as_utc, to_local
from assistant.enrolment import notices
from assistant.enrolment.models import EnrolmentRequest, EventKind, RequestStatus
from assistant.enrolment.requests import ENTITY, add_event, text_person
from assistant.pcw.models import NoteKind, Referral, ReferralNote
from assistant.pcw.referrals import create_referral
from assistant.pcw.tasks import create_task
from assistant.people.models import Practice, User
from assistant.support.business_hours import due_at

BUSINESS_DAYS = 2
TASK_KIND = "enrolment"
REASON = "enrolment-unanswered"


def answer_due(request: EnrolmentRequest) -> datetime:
    """Close of business on the second business day after the request (NZ, holidays kept)."""
    return due_at(as_utc(request.created_at), business_days=BUSINESS_DAYS)


def escalate_unanswered(session: Session, *, now: datetime) -> list[EnrolmentRequest]:
    """Hand every overdue unanswered request to the PCW team, once. Flushes; the caller
    (the worker's schedule, or the CLI) commits."""
    waiting = session.exec(
        select(EnrolmentRequest)
        .where(
            EnrolmentRequest.status == RequestStatus.sent.value,
            col(EnrolmentRequest.escalated_at).is_(None),
        )
        .order_by(col(EnrolmentRequest.created_at))
    )
    moved = []
    for request in waiting:
        if now <= answer_due(request):
            continue
        _escalate(session, request, now)
        moved.append(request)
    return moved


def _escalate(session: Session, request: EnrolmentRequest, now: datetime) -> None:
    practice = session.get(Practice, request.practice_id)
    assert practice is not None and request.id is not None
    creator = session.get(User, request.created_by_id) if request.created_by_id else None
    agency_id = creator.agency_id if creator else None
    referral = session.get(Referral, request.referral_id) if request.referral_id else None
    if referral is None:
        referral = create_referral(
            session,
            source="sms",
            phone=request.phone,
            language=request.language,
            transcript="",
            barriers=list(request.barriers),
            reason=REASON,
            contact_name=request.name,
            agency_id=agency_id,
        )
        request.referral_id = referral.id
    else:
        session.add(
            ReferralNote(
                referral_id=referral.id,  # type: ignore[arg-type]
                kind=NoteKind.unanswered,
                body=practice.name,
                created_at=now,
            )
        )
    task = create_task(
        session,
        assignee_id=creator.id if creator else None,
        agency_id=agency_id,
        title=f"{request.name}: {practice.name}",  # shown translated, by its kind
        kind=TASK_KIND,
        due=to_local(now).date(),
        source_ref=f"enrolment:{request.id}",
        referral_id=referral.id,
    )
    request.escalated_at = now
    request.escalation_task_id = task.id
    request.updated_at = now
    session.add(request)
    outbox_id = text_person(
        session,
        request,
        notices.escalated(request.language, practice),
        purpose="enrolment-escalated",
        actor=None,
    )
    add_event(session, request, EventKind.escalated, now, outbox_id=outbox_id)
    audit.record(
        session,
        actor_id=None,
        action="escalated",
        entity=ENTITY,
        entity_id=request.id,
        task_id=task.id,
    )
