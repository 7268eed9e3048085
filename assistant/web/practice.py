"""The practice's side of enrolment: the new-patients queue, one request with its journey and
the practice's answers, and the practice's "taking new patients" listing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from assistant.clock import as_utc, utcnow
from assistant.contacts.optout import is_opted_out
from assistant.deps import FormFields, SessionDep, require_roles
from assistant.enrolment import requests
from assistant.enrolment.escalation import answer_due
from assistant.enrolment.models import DeclineReason, EnrolmentRequest, RequestStatus
from assistant.enrolment.notices import DECLINE_REASONS
from assistant.errors import AppError, Forbidden, Invalid
from assistant.htmx import is_htmx
from assistant.i18n import LANGUAGE_NAMES, _, html_lang, lazy_gettext, ngettext, text_direction
from assistant.paging import page_number
from assistant.pcw import labels
from assistant.people import listing
from assistant.people.models import Practice, Role, User
from assistant.templating import render
from assistant.web.nav import waiting_words

router = APIRouter(prefix="/practice")

# The practice's own staff only: admins look after practices through the admin pages.
PracticeStaff = Annotated[User, Depends(require_roles(Role.practice_staff))]

QUEUE = "/practice/new-patients"
LISTING = "/practice/listing"
FEE_NOTES_MAX = 500


SHOW_LABELS: dict[str, Any] = {
    "waiting": lazy_gettext("Waiting for your answer"),
    "open": lazy_gettext("Open"),
    "closed": lazy_gettext("Closed"),
    "all": lazy_gettext("All"),
}

STATUS_LABELS: dict[str, Any] = {
    RequestStatus.sent: lazy_gettext("Waiting for your answer"),
    RequestStatus.info_needed: lazy_gettext("Asked for information"),
    RequestStatus.booked: lazy_gettext("Booked"),
    RequestStatus.enrolled: lazy_gettext("Enrolled"),
    RequestStatus.declined: lazy_gettext("Declined"),
}

SOURCE_LABELS: dict[str, Any] = {
    "sms": lazy_gettext("The person asked by SMS"),
    "pcw": lazy_gettext("A community worker asked for them"),
}

EVENT_LABELS: dict[str, Any] = {
    "sent": lazy_gettext("Request received"),
    "booked": lazy_gettext("Booked"),
    "info_needed": lazy_gettext("Asked for information"),
    "declined": lazy_gettext("Declined"),
    "enrolled": lazy_gettext("Marked as enrolled"),
    "escalated": lazy_gettext(
        "Not answered in 2 working days: passed to the community workers, who will call the person"
    ),
    "note": lazy_gettext("Note"),
}

# Shown after an answer is saved (``?done=`` on the page it goes back to).
DONE_NOTICES: dict[str, Any] = {
    "book": lazy_gettext("Booked. Your message is on its way to the person by text."),
    "info": lazy_gettext("Sent. Your question is on its way to the person by text."),
    "decline": lazy_gettext(
        "Declined. The person is told by text, with other practices near them, and offered a "
        "call back from a community worker."
    ),
    "enrolled": lazy_gettext("Marked as enrolled. The person gets a welcome text."),
}


def ago(ts: datetime, now: datetime) -> str:
    """How long ago ``ts`` was, in words."""
    minutes = int((as_utc(now) - as_utc(ts)).total_seconds() // 60)
    if minutes < 1:
        return _("just now")
    if minutes < 60:
        return ngettext("%(num)d minute ago", "%(num)d minutes ago", minutes)
    hours = minutes // 60
    if hours < 24:
        return ngettext("%(num)d hour ago", "%(num)d hours ago", hours)
    return ngettext("%(num)d day ago", "%(num)d days ago", hours // 24)


def _common(now: datetime) -> dict[str, Any]:
    return {
        "now": now,
        "ago": ago,
        "labels": labels,
        "status_labels": STATUS_LABELS,
        "source_labels": SOURCE_LABELS,
        "language_names": LANGUAGE_NAMES,
        "lang_tag": html_lang,
        "lang_dir": text_direction,
        "answer_due": answer_due,
        "aware": as_utc,
    }


def _names(session: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    users = session.exec(select(User).where(col(User.id).in_(wanted)))
    return {u.id: u.name for u in users if u.id is not None}


def _own_practice(session: Session, user: User) -> Practice:
    practice = session.get(Practice, user.practice_id) if user.practice_id else None
    if practice is None:
        raise Forbidden()
    return practice


def _listing_state(practice: Practice, now: datetime) -> dict[str, Any]:
    return {
        "listing_current": listing.is_current(practice, now),
        "listing_days": listing.days_since_confirmed(practice, now),
        "fresh_days": listing.FRESH_DAYS,
    }


# -- the queue ---------------------------------------------------------------------------------


@router.get("/new-patients")
def queue(
    request: Request, user: PracticeStaff, session: SessionDep, show: str = "open", page: str = "1"
) -> Response:
    choice: requests.Show = show if show in requests.SHOW_CHOICES else "open"
    items = requests.page_for_practice(session, user=user, show=choice, page=page_number(page))
    session.commit()  # the audit record of the view
    now = utcnow()
    practice = _own_practice(session, user)
    ctx = _common(now) | _listing_state(practice, now)
    ctx |= {
        "items": items,
        "show": choice,
        "show_labels": SHOW_LABELS,
        "practice": practice,
        "manager": listing.can_update(user, practice),
    }
    return render(request, "practice/new_patients.html", ctx, block="list")


# -- one request -------------------------------------------------------------------------------


@router.get("/new-patients/{request_id}")
def detail(
    request: Request, request_id: int, user: PracticeStaff, session: SessionDep, done: str = ""
) -> Response:
    enrolment = requests.get_for_practice(session, user=user, request_id=request_id)
    session.commit()  # the audit record of the view
    notice = DONE_NOTICES.get(done)
    return _detail(request, session, user, enrolment, notice=str(notice) if notice else "")


def _detail(
    request: Request,
    session: Session,
    user: User,
    enrolment: EnrolmentRequest,
    *,
    notice: str = "",
    error: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    assert enrolment.id is not None
    now = utcnow()
    events = requests.events_of(session, enrolment.id)
    practice = session.get(Practice, enrolment.practice_id)
    ctx = _common(now) | {
        "enrolment": enrolment,
        "practice": practice,
        "events": events,
        "texts": requests.texts_of(session, events),
        "names": _names(session, {e.actor_id for e in events} | {enrolment.created_by_id}),
        "opted_out": bool(enrolment.phone and is_opted_out(session, phone=enrolment.phone)),
        "room_book": requests.message_room(session, enrolment, "booked"),
        "room_info": requests.message_room(session, enrolment, "info_needed"),
        "message_max": requests.MESSAGE_MAX,
        "decline_reasons": [(r.value, DECLINE_REASONS[r.value]) for r in DeclineReason],
        "decline_labels": DECLINE_REASONS,
        "event_labels": EVENT_LABELS,
        "notice": notice,
        "error": error,
        "errors": errors or {},
        "values": values or {},
    }
    if is_htmx(request):
        # The nav's "waiting" badge changes with the answer: refreshed out of band.
        ctx |= {
            "refresh_nav": True,
            "nav_waiting": requests.waiting_count(session, user),
            "waiting_words": waiting_words,
        }
    # htmx swaps only successful answers: it gets the error in place instead.
    code = 200 if is_htmx(request) else status_code
    return render(request, "practice/request.html", ctx, block="request", status_code=code)


def _act(
    request: Request,
    session: Session,
    user: User,
    request_id: int,
    *,
    done: str,
    field: str,
    values: dict[str, str],
    run: Callable[[EnrolmentRequest], object],
) -> Response:
    """Run one answer on the user's own request: 303 back to it (htmx: the updated request);
    a refused answer shows the request again with what was typed and why."""
    enrolment = requests.get_for_practice(session, user=user, request_id=request_id)
    try:
        run(enrolment)
    except AppError as exc:
        if isinstance(exc, Forbidden) or exc.status_code == 404:
            raise
        session.rollback()
        enrolment = requests.get_for_practice(session, user=user, request_id=request_id)
        session.commit()  # the audit record of the view
        return _detail(
            request,
            session,
            user,
            enrolment,
            error=exc.message,
            errors={field: exc.message} if isinstance(exc, Invalid) else {},
            values=values,
            status_code=exc.status_code,
        )
    session.commit()
    if is_htmx(request):
        return _detail(request, session, user, enrolment, notice=str(DONE_NOTICES[done]))
    return RedirectResponse(f"{QUEUE}/{request_id}?done={done}", status_code=303)


@router.post("/new-patients/{request_id}/book")
def book(
    request: Request, request_id: int, user: PracticeStaff, session: SessionDep, form: FormFields
) -> Response:
    message = form.get("message", "")

    def run(enrolment: EnrolmentRequest) -> object:
        return requests.book(session, user=user, request=enrolment, message=message, now=utcnow())

    values = {"book_message": message}
    return _act(
        request,
        session,
        user,
        request_id,
        done="book",
        field="book_message",
        values=values,
        run=run,
    )


@router.post("/new-patients/{request_id}/info")
def ask_for_information(
    request: Request, request_id: int, user: PracticeStaff, session: SessionDep, form: FormFields
) -> Response:
    message = form.get("message", "")

    def run(enrolment: EnrolmentRequest) -> object:
        return requests.ask_for_information(
            session, user=user, request=enrolment, message=message, now=utcnow()
        )

    values = {"info_message": message}
    return _act(
        request,
        session,
        user,
        request_id,
        done="info",
        field="info_message",
        values=values,
        run=run,
    )


@router.post("/new-patients/{request_id}/decline")
def decline(
    request: Request, request_id: int, user: PracticeStaff, session: SessionDep, form: FormFields
) -> Response:
    reason, note = form.get("reason", ""), form.get("note", "")

    def run(enrolment: EnrolmentRequest) -> object:
        return requests.decline(
            session, user=user, request=enrolment, reason=reason, note=note, now=utcnow()
        )

    values = {"decline_reason": reason, "decline_note": note}
    return _act(
        request,
        session,
        user,
        request_id,
        done="decline",
        field="decline_reason",
        values=values,
        run=run,
    )


@router.post("/new-patients/{request_id}/enrolled")
def enrolled(
    request: Request, request_id: int, user: PracticeStaff, session: SessionDep
) -> Response:
    def run(enrolment: EnrolmentRequest) -> object:
        return requests.mark_enrolled(session, user=user, request=enrolment, now=utcnow())

    return _act(
        request, session, user, request_id, done="enrolled", field="enrolled", values={}, run=run
    )


# -- the listing -------------------------------------------------------------------------------


@router.get("/listing")
def listing_page(
    request: Request, user: PracticeStaff, session: SessionDep, saved: str = ""
) -> Response:
    practice = _own_practice(session, user)
    notice = _("Saved. Your listing is confirmed as current today.") if saved else ""
    return _listing(request, session, user, practice, notice=notice)


def _listing(
    request: Request,
    session: Session,
    user: User,
    practice: Practice,
    *,
    notice: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    now = utcnow()
    current = {
        "accepting": "yes" if practice.accepting_new_patients else "no",
        "fee_notes": practice.fee_notes or "",
    }
    confirmed_by = (
        session.get(User, practice.accepting_confirmed_by_id)
        if practice.accepting_confirmed_by_id
        else None
    )
    ctx = _listing_state(practice, now) | {
        "practice": practice,
        "manager": listing.can_update(user, practice),
        "confirmed_by": confirmed_by.name if confirmed_by else "",
        "current": current,
        "values": values if values is not None else current,
        "errors": errors or {},
        "notice": notice,
        "fee_notes_max": FEE_NOTES_MAX,
    }
    code = 200 if is_htmx(request) else status_code
    return render(request, "practice/listing.html", ctx, block="listing", status_code=code)


@router.post("/listing")
def listing_save(
    request: Request, user: PracticeStaff, session: SessionDep, form: FormFields
) -> Response:
    practice = _own_practice(session, user)
    if not listing.can_update(user, practice):
        raise Forbidden(_("Only your practice's managers can change the listing."))
    accepting = form.get("accepting", "")
    fee_notes = form.get("fee_notes", "").strip()
    errors: dict[str, str] = {}
    if accepting not in ("yes", "no"):
        errors["accepting"] = _("Say whether the practice is taking new patients.")
    if len(fee_notes) > FEE_NOTES_MAX:
        errors["fee_notes"] = _(
            "Use at most %(max)d characters (you typed %(count)d).",
            max=FEE_NOTES_MAX,
            count=len(fee_notes),
        )
    if errors:
        values = {"accepting": accepting, "fee_notes": fee_notes}
        return _listing(
            request, session, user, practice, errors=errors, values=values, status_code=422
        )
    listing.confirm_listing(
        session,
        user=user,
        practice=practice,
        accepting=accepting == "yes",
        fee_notes=fee_notes,
        now=utcnow(),
    )
    session.commit()
    if is_htmx(request):
        notice = _("Saved. Your listing is confirmed as current today.")
        return _listing(request, session, user, practice, notice=notice)
    return RedirectResponse(f"{LISTING}?saved=1", status_code=303)
