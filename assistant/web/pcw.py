"""The PCW inbox (referrals), enrolment requests, the follow-up task list and the outgoing SMS
monitor."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import col, select

from assistant import audit
from assistant.clock import to_local, utcnow
from assistant.contacts.optout import is_opted_out
from assistant.contacts.phone import mask_phone
from assistant.deps import FormFields, SessionDep, SettingsDep, require_roles
from assistant.enrolment import on_behalf
from assistant.enrolment import requests as enrolment
from assistant.enrolment.models import EnrolmentRequest
from assistant.errors import AppError, NotFound
from assistant.forms.capture.actions import person_of, subjects_of
from assistant.forms.capture.submissions import can_view
from assistant.forms.models import FormSubmission
from assistant.htmx import is_htmx
from assistant.i18n import LANGUAGE_NAMES, _, html_lang, lazy_gettext, text_direction
from assistant.outbox import review
from assistant.outbox.models import OutboxMessage
from assistant.paging import page_number
from assistant.pcw import inbox, labels
from assistant.pcw.models import FollowUpTask, Referral, ReferralStatus
from assistant.pcw.tasks import page_of_tasks, set_task_done
from assistant.people.models import Practice, Role, User
from assistant.sms.conversation import conversation_for
from assistant.templating import render

router = APIRouter(prefix="/pcw")

PCWWork = Annotated[User, Depends(require_roles(Role.pcw, Role.coordinator, Role.admin))]
Oversight = Annotated[User, Depends(require_roles(Role.coordinator, Role.admin))]


SHOW_LABELS = {
    "open": lazy_gettext("Open"),
    "mine": lazy_gettext("Claimed by me"),
    "closed": lazy_gettext("Closed"),
    "all": lazy_gettext("All"),
}
ENROLMENT_SHOW_LABELS = {
    "open": lazy_gettext("Open"),
    "escalated": lazy_gettext("Handed to community workers"),
    "closed": lazy_gettext("Closed"),
    "all": lazy_gettext("All"),
}
OUTCOMES = (ReferralStatus.contacted, ReferralStatus.enrolled, ReferralStatus.unreachable)


def _common() -> dict[str, Any]:
    return {
        "labels": labels,
        "language_names": LANGUAGE_NAMES,
        "mask_phone": mask_phone,
        "lang_tag": html_lang,
        "lang_dir": text_direction,
    }


@router.get("/referrals")
def referral_list(
    request: Request, user: PCWWork, session: SessionDep, show: str = "open", page: str = "1"
) -> Response:
    choice: inbox.Show = show if show in inbox.SHOW_CHOICES else "open"
    referrals = inbox.page_of_referrals(session, user=user, show=choice, page=page_number(page))
    session.commit()  # the view's audit record
    holders = _names(session, {r.claimed_by_id for r in referrals})
    ctx = _common() | {
        "referrals": referrals,
        "holders": holders,
        "show": choice,
        "show_labels": SHOW_LABELS,
    }
    return render(request, "pcw/referrals.html", ctx, block="list")


@router.get("/referrals/{referral_id}")
def referral_detail(
    request: Request, referral_id: int, user: PCWWork, session: SessionDep
) -> Response:
    referral = inbox.get_referral(session, user=user, referral_id=referral_id)
    session.commit()  # the view's audit record
    return _detail(request, session, user, referral)


def _detail(
    request: Request,
    session: SessionDep,
    user: User,
    referral: Referral,
    *,
    error: str = "",
    notice: str = "",
    status_code: int = 200,
    enrol_values: dict[str, str] | None = None,
    enrol_errors: dict[str, str] | None = None,
) -> Response:
    assert referral.id is not None
    made = enrolment.requests_about(session, referral_id=referral.id, phone=referral.phone)
    notes = inbox.notes_for(session, referral_id=referral.id)
    messages = inbox.messages_for(session, referral_id=referral.id)
    # What the person texted after the referral was made (an answer to a worker's text, say).
    texts_in = (
        conversation_for(session, phone=referral.phone, since=referral.created_at)
        if referral.phone
        else []
    )
    names = _names(session, {n.author_id for n in notes} | {referral.claimed_by_id})
    ctx = (
        _common()
        | {
            "referral": referral,
            "notes": notes,
            "messages": messages,
            "texts_in": texts_in,
            "tasks": inbox.tasks_for(session, referral_id=referral.id),
            "today": to_local(utcnow()).date(),
            "names": names,
            "can_act": referral.claimed_by_id == user.id or inbox.sees_everything(user),
            "opted_out": bool(referral.phone and is_opted_out(session, phone=referral.phone)),
            "outcomes": OUTCOMES,
            "sms_max": inbox.SMS_MAX,
            "error": error,
            "notice": notice,
            "enrolment_requests": made,
            "practice_names": _practice_names(session, {r.practice_id for r in made}),
        }
        | _enrolment_form(
            session,
            action=f"/pcw/referrals/{referral.id}/enrolment#enrolment",
            values=enrol_values or on_behalf.values_from_referral(referral),
            errors=enrol_errors or {},
            barriers=list(referral.barriers),
        )
    )
    # htmx only swaps successful answers: show the error in place instead.
    code = 200 if is_htmx(request) else status_code
    return render(request, "pcw/referral.html", ctx, block="referral", status_code=code)


def _act(request: Request, session: SessionDep, user: User, referral_id: int, fn: Any) -> Response:
    """Run one action; on success back to the referral (303), on a domain error show it."""
    try:
        notice = fn()
    except AppError as exc:
        if exc.status_code == 404:
            raise
        session.rollback()
        referral = inbox.get_referral(session, user=user, referral_id=referral_id, audit_view=False)
        return _detail(
            request, session, user, referral, error=exc.message, status_code=exc.status_code
        )
    session.commit()
    if is_htmx(request):
        referral = inbox.get_referral(session, user=user, referral_id=referral_id, audit_view=False)
        return _detail(request, session, user, referral, notice=notice)
    return RedirectResponse(f"/pcw/referrals/{referral_id}", status_code=303)


@router.post("/referrals/{referral_id}/claim")
def claim(request: Request, referral_id: int, user: PCWWork, session: SessionDep) -> Response:
    def run() -> str:
        inbox.claim_referral(session, user=user, referral_id=referral_id)
        return _("You have claimed this referral.")

    return _act(request, session, user, referral_id, run)


@router.post("/referrals/{referral_id}/release")
def release(request: Request, referral_id: int, user: PCWWork, session: SessionDep) -> Response:
    def run() -> str:
        inbox.release_referral(session, user=user, referral_id=referral_id)
        return _("The referral is back in the queue.")

    return _act(request, session, user, referral_id, run)


@router.post("/referrals/{referral_id}/notes")
def add_note(
    request: Request,
    referral_id: int,
    user: PCWWork,
    session: SessionDep,
    body: Annotated[str, Form()] = "",
) -> Response:
    def run() -> str:
        inbox.add_note(session, user=user, referral_id=referral_id, body=body)
        return _("Note saved.")

    return _act(request, session, user, referral_id, run)


@router.post("/referrals/{referral_id}/sms")
def send_sms(
    request: Request,
    referral_id: int,
    user: PCWWork,
    session: SessionDep,
    body: Annotated[str, Form()] = "",
) -> Response:
    def run() -> str:
        inbox.send_sms(session, user=user, referral_id=referral_id, body=body)
        return _("Your message is queued and will be sent shortly.")

    return _act(request, session, user, referral_id, run)


@router.post("/referrals/{referral_id}/status")
def change_status(
    request: Request,
    referral_id: int,
    user: PCWWork,
    session: SessionDep,
    status: Annotated[str, Form()] = "",
) -> Response:
    def run() -> str:
        referral = inbox.set_status(session, user=user, referral_id=referral_id, status=status)
        return _(
            "Marked as: %(status)s", status=labels.label(labels.STATUS_LABELS, referral.status)
        )

    return _act(request, session, user, referral_id, run)


@router.post("/referrals/{referral_id}/tasks")
def add_follow_up(
    request: Request,
    referral_id: int,
    user: PCWWork,
    session: SessionDep,
    title: Annotated[str, Form()] = "",
    due: Annotated[str, Form()] = "",
) -> Response:
    def run() -> str:
        inbox.add_follow_up(session, user=user, referral_id=referral_id, title=title, due=due)
        return _("Follow-up added to the task list.")

    return _act(request, session, user, referral_id, run)


# -- enrolment requests: every request's journey, and asking a practice for a person -----------


@router.get("/enrolments")
def enrolment_list(
    request: Request, user: PCWWork, session: SessionDep, show: str = "open", page: str = "1"
) -> Response:
    choice: enrolment.CommunityShow = show if show in enrolment.COMMUNITY_SHOW_CHOICES else "open"
    items = enrolment.page_for_community(session, user=user, show=choice, page=page_number(page))
    now = utcnow()
    ctx = _common() | {
        "requests": items,
        "show": choice,
        "show_labels": ENROLMENT_SHOW_LABELS,
        "practice_names": _practice_names(session, {r.practice_id for r in items}),
        "waited": {r.id: _waited(r, now) for r in items},
    }
    response = render(request, "pcw/enrolments.html", ctx, block="list")
    session.commit()  # the audit record of the view
    return response


@router.get("/enrolments/{request_id}")
def enrolment_detail(
    request: Request,
    request_id: int,
    user: PCWWork,
    session: SessionDep,
    made: int = 0,
    already: int = 0,
) -> Response:
    item = enrolment.get_for_community(session, user=user, request_id=request_id)
    assert item.id is not None
    events = enrolment.events_of(session, item.id)
    practice = session.get(Practice, item.practice_id)
    task = session.get(FollowUpTask, item.escalation_task_id) if item.escalation_task_id else None
    submission = session.get(FormSubmission, item.submission_id) if item.submission_id else None
    ctx = _common() | {
        "item": item,
        "practice": practice,
        "events": events,
        "texts": enrolment.texts_of(session, events),
        "names": _names(session, {e.actor_id for e in events} | {item.created_by_id}),
        "waited": _waited(item, utcnow()),
        "referral_visible": _may_see_referral(session, user, item.referral_id),
        "task": task,
        "submission_visible": submission is not None and can_view(submission, user),
        "made": bool(made),
        "already": bool(already),
    }
    response = render(request, "pcw/enrolment.html", ctx)
    session.commit()  # the audit record of the view
    return response


@router.post("/referrals/{referral_id}/enrolment")
def referral_enrolment(
    request: Request, referral_id: int, user: PCWWork, session: SessionDep, fields: FormFields
) -> Response:
    referral = inbox.get_referral(session, user=user, referral_id=referral_id, audit_view=False)
    try:
        made = on_behalf.make_for_referral(
            session, user=user, referral=referral, fields=fields, now=utcnow()
        )
    except on_behalf.Problem as problem:
        session.rollback()
        referral = inbox.get_referral(session, user=user, referral_id=referral_id, audit_view=False)
        return _detail(
            request,
            session,
            user,
            referral,
            status_code=problem.status_code,
            enrol_values=on_behalf.posted_values(fields),
            enrol_errors={problem.field: problem.message},
        )
    session.commit()
    return _to_journey(made)


@router.get("/assessments/{submission_id}/enrolment")
def assessment_enrolment_form(
    request: Request, submission_id: int, user: PCWWork, session: SessionDep
) -> Response:
    submission, _form = on_behalf.submission_for(session, user=user, submission_id=submission_id)
    response = _assessment_page(
        request, session, submission, values=on_behalf.values_from_submission(submission)
    )
    session.commit()  # the audit record of the view
    return response


@router.post("/assessments/{submission_id}/enrolment")
def assessment_enrolment(
    request: Request, submission_id: int, user: PCWWork, session: SessionDep, fields: FormFields
) -> Response:
    submission, _form = on_behalf.submission_for(
        session, user=user, submission_id=submission_id, audit_view=False
    )
    try:
        made = on_behalf.make_for_submission(
            session, user=user, submission=submission, fields=fields, now=utcnow()
        )
    except on_behalf.Problem as problem:
        session.rollback()
        return _assessment_page(
            request,
            session,
            submission,
            values=on_behalf.posted_values(fields),
            errors={problem.field: problem.message},
            status_code=problem.status_code,
        )
    session.commit()
    return _to_journey(made)


def _assessment_page(
    request: Request,
    session: SessionDep,
    submission: FormSubmission,
    *,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    assert submission.id is not None
    made = enrolment.requests_about(session, submission_id=submission.id)
    ctx = (
        _common()
        | {
            "submission": submission,
            "person": person_of(submission),
            "enrolment_requests": made,
            "practice_names": _practice_names(session, {r.practice_id for r in made}),
        }
        | _enrolment_form(
            session,
            action=f"/pcw/assessments/{submission.id}/enrolment#enrolment",
            values=values,
            errors=errors or {},
            barriers=on_behalf.barriers_of_submission(submission),
        )
    )
    return render(request, "pcw/enrolment_new.html", ctx, status_code=status_code)


def _enrolment_form(
    session: SessionDep,
    *,
    action: str,
    values: dict[str, str],
    errors: dict[str, str],
    barriers: list[str],
) -> dict[str, Any]:
    return {
        "enrol_action": action,
        "enrol_values": values,
        "enrol_errors": errors,
        "enrol_barriers": barriers,
        "practice_choices": on_behalf.practice_choices(session, now=utcnow()),
    }


def _to_journey(made: on_behalf.Made) -> Response:
    flag = "made" if made.created else "already"
    return RedirectResponse(f"/pcw/enrolments/{made.request.id}?{flag}=1", status_code=303)


def _waited(item: EnrolmentRequest, now: datetime) -> str:
    return labels.waited_text(enrolment.waited(item, now), answered=item.answered_at is not None)


def _may_see_referral(session: SessionDep, user: User, referral_id: int | None) -> bool:
    if referral_id is None:
        return False
    try:
        inbox.get_referral(session, user=user, referral_id=referral_id, audit_view=False)
    except NotFound:
        return False
    return True


def _practice_names(session: SessionDep, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    found = session.exec(select(Practice).where(col(Practice.id).in_(ids)))
    return {p.id: p.name for p in found if p.id is not None}


@router.get("/tasks")
def tasks(
    request: Request, user: PCWWork, session: SessionDep, show: str = "open", page: str = "1"
) -> Response:
    done = show == "done"
    items = page_of_tasks(session, user=user, done=done, page=page_number(page))
    session.commit()  # the view's audit record
    ctx = _common() | {
        "tasks": items,
        "done": done,
        "today": to_local(utcnow()).date(),
        "assignees": _names(session, {t.assignee_id for t in items}),
        "subjects": subjects_of(session, items, user=user),
        "list_url": "/pcw/tasks?show=done" if done else "/pcw/tasks",
    }
    return render(request, "pcw/tasks.html", ctx, block="tasks")


@router.post("/tasks/{task_id}/done")
def task_done(
    request: Request,
    task_id: int,
    user: PCWWork,
    session: SessionDep,
    done: Annotated[str, Form()] = "1",
) -> Response:
    task = set_task_done(session, user=user, task_id=task_id, done=done == "1")
    session.commit()
    if is_htmx(request):
        ctx = _common() | {
            "task": task,
            "today": to_local(utcnow()).date(),
            "assignees": {},
            "subjects": subjects_of(session, [task], user=user),
        }
        return render(request, "pcw/tasks.html", ctx, block="task_row")
    return RedirectResponse("/pcw/tasks", status_code=303)


@router.get("/outbox")
def outbox(
    request: Request, user: Oversight, session: SessionDep, settings: SettingsDep
) -> Response:
    audit.record(session, actor_id=user.id, action="viewed", entity="outbox", entity_id="list")
    session.commit()
    messages = list(
        session.exec(
            select(OutboxMessage)
            .order_by(col(OutboxMessage.needs_review).desc(), col(OutboxMessage.id).desc())
            .limit(200)
        )
    )
    ctx = _common() | {
        "messages": messages,
        "development": not settings.twilio_account_sid,
    }
    return render(request, "pcw/outbox.html", ctx)


@router.post("/outbox/{message_id}/cancel")
def outbox_cancel(
    request: Request, message_id: int, user: Oversight, session: SessionDep
) -> Response:
    review.cancel_message(session, user=user, message_id=message_id)
    session.commit()
    return RedirectResponse("/pcw/outbox", status_code=303)


@router.post("/outbox/{message_id}/resend")
def outbox_resend(
    request: Request, message_id: int, user: Oversight, session: SessionDep
) -> Response:
    review.resend_message(session, user=user, message_id=message_id)
    session.commit()
    return RedirectResponse("/pcw/outbox", status_code=303)


def _names(session: SessionDep, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    users = session.exec(select(User).where(col(User.id).in_(wanted)))
    return {u.id: u.name for u in users if u.id is not None}
