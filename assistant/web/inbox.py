"""The team inbox: mine / my team / overdue views, and working a ticket."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from assistant.clock import utcnow
from assistant.deps import SessionDep, require_roles
from assistant.errors import Forbidden, Invalid, NotFound
from assistant.htmx import is_htmx, redirect
from assistant.i18n import _, current_locale
from assistant.knowledge import get_knowledge_base
from assistant.paging import page_number
from assistant.people.models import Practice, Role, TeamKind, User
from assistant.support import chat, drafts, inbox, tickets
from assistant.support.models import Ticket, TicketEvent
from assistant.support.routing import TEAM_QUEUES
from assistant.templating import render

router = APIRouter(prefix="/inbox")

InboxUser = Annotated[User, Depends(require_roles(*inbox.INBOX_ROLES))]


def team_label(team: str | None) -> str:
    labels = {
        TeamKind.liaison.value: _("Liaison team"),
        TeamKind.coordination.value: _("Coordination team"),
        TeamKind.mso.value: _("MSO team"),
    }
    return labels.get(team or "", team or "")


def view_label(view: str) -> str:
    return {
        "mine": _("Mine"),
        "team": _("My team"),
        "overdue": _("Overdue"),
        "resolved": _("Resolved"),
    }[view]


@router.get("")
def inbox_page(
    request: Request,
    session: SessionDep,
    user: InboxUser,
    view: str = "mine",
    q: str = "",
    team: str = "",
    topic: str = "",
    status: str = "",
    page: str = "1",
) -> Response:
    chosen: inbox.View = next((v for v in inbox.VIEWS if v == view), "mine")
    topics = _topics()
    filters = inbox.Filters(
        words=q[:200],
        team=team if team in TEAM_VALUES else "",
        topic=topic if topic in topics else "",
        status=status if status in ("open", "resolved") else "",
    )
    rows = inbox.inbox(session, user=user, view=chosen, filters=filters, page=page_number(page))
    query = urlencode(
        {"q": filters.words, "team": filters.team, "topic": filters.topic, "status": filters.status}
        if filters.active
        else {"view": chosen}
    )
    return render(
        request,
        "inbox/list.html",
        {
            "rows": rows,
            "view": chosen,
            "views": inbox.VIEWS,
            "counts": inbox.view_counts(session, user=user),
            "view_label": view_label,
            "team_label": team_label,
            "is_admin": user.role == Role.admin,
            "filters": filters,
            "topics": topics,
            "teams": TEAM_VALUES,
            "list_url": f"/inbox?{query}",
            "topic_title": lambda topic_id: topics.get(topic_id or "", ""),
        },
        block="results" if request.query_params.get("part") == "results" else "tickets",
    )


TEAM_VALUES = tuple(t.value for t in TEAM_QUEUES)


def _topics() -> dict[str, str]:
    """The topics a ticket can have: the practice-facing entries, by title."""
    kb = get_knowledge_base()
    return {
        e.id: e.variant(current_locale()).title
        for e in kb.entries
        if e.for_audience("practice") and e.id not in ("emergency", "crisis-support")
    }


def _ticket_context(session: Session, user: User, ticket: Ticket) -> dict[str, Any]:
    history = inbox.events(session, ticket=ticket, for_practice=False)
    people_ids = {ticket.asker_id} | {e.author_id for e in history if e.author_id}
    people_ids |= {e.to_user_id for e in history if e.to_user_id}
    if ticket.assignee_id:
        people_ids.add(ticket.assignee_id)
    practice = session.get(Practice, ticket.practice_id)
    return {
        "ticket": ticket,
        "history": history,
        "people": inbox.names(session, user_ids=people_ids),
        "practice": practice,
        "overdue": inbox.is_overdue(ticket, utcnow()),
        "topic": chat.entry_for(ticket.topic_id),
        "drafted": inbox.drafted_events(session, ticket=ticket),
        "assignable": inbox.assignable_people(session),
        "teams": [t.value for t in TEAM_QUEUES],
        "team_label": team_label,
        "error": "",
    }


@router.get("/tickets/{ticket_id}")
def ticket_page(request: Request, session: SessionDep, user: InboxUser, ticket_id: int) -> Response:
    ticket = inbox.get_ticket(session, user=user, ticket_id=ticket_id)
    session.commit()  # the view's audit record
    return render(
        request, "inbox/ticket.html", _ticket_context(session, user, ticket), block="ticket"
    )


def _change(
    request: Request,
    session: Session,
    user: User,
    ticket_id: int,
    action: Callable[[Ticket], object],
) -> Response:
    """Apply one change, then show the ticket again (or the inbox, if it left the user's view)."""
    ticket = inbox.get_ticket(session, user=user, ticket_id=ticket_id, audit_view=False)
    if not inbox.can_change(user, ticket):
        raise Forbidden()
    error = ""
    try:
        action(ticket)
    except Invalid as exc:
        session.rollback()
        error = exc.message
    else:
        session.commit()  # everything the action did, together
    session.refresh(ticket)
    if not inbox.can_view(user, ticket):
        if is_htmx(request):
            return redirect(Response(status_code=204), "/inbox")
        return RedirectResponse("/inbox", status_code=303)
    if not error and not is_htmx(request):
        return RedirectResponse(f"/inbox/tickets/{ticket_id}", status_code=303)
    context = _ticket_context(session, user, ticket) | {"error": error}
    return render(
        request,
        "inbox/ticket.html",
        context,
        block="ticket",
        status_code=422 if error and not is_htmx(request) else 200,
    )


@router.post("/tickets/{ticket_id}/reply")
def reply(
    request: Request,
    session: SessionDep,
    user: InboxUser,
    ticket_id: int,
    body: Annotated[str, Form(max_length=8000)] = "",
    save_draft: Annotated[str, Form(max_length=5)] = "",
    and_resolve: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    def act(ticket: Ticket) -> None:
        event = tickets.reply(
            session, ticket=ticket, author=user, body=body, and_resolve=bool(and_resolve)
        )
        if save_draft:
            tickets.save_draft(session, ticket=ticket, event=event, author=user)

    return _change(request, session, user, ticket_id, act)


@router.post("/tickets/{ticket_id}/note")
def note(
    request: Request,
    session: SessionDep,
    user: InboxUser,
    ticket_id: int,
    body: Annotated[str, Form(max_length=8000)] = "",
) -> Response:
    return _change(
        request,
        session,
        user,
        ticket_id,
        lambda ticket: tickets.add_note(session, ticket=ticket, author=user, body=body),
    )


@router.post("/tickets/{ticket_id}/assign")
def assign(
    request: Request,
    session: SessionDep,
    user: InboxUser,
    ticket_id: int,
    to: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    kind, _sep, value = to.partition(":")

    def act(ticket: Ticket) -> None:
        if kind == "user" and value.isascii() and value.isdigit():  # not "¹": int() refuses it
            tickets.reassign(session, ticket=ticket, actor=user, to_user_id=int(value))
        else:
            tickets.reassign(
                session, ticket=ticket, actor=user, to_team=value if kind == "team" else None
            )

    return _change(request, session, user, ticket_id, act)


@router.post("/tickets/{ticket_id}/resolve")
def resolve(request: Request, session: SessionDep, user: InboxUser, ticket_id: int) -> Response:
    return _change(
        request,
        session,
        user,
        ticket_id,
        lambda ticket: tickets.resolve(session, ticket=ticket, actor=user),
    )


@router.post("/tickets/{ticket_id}/reopen")
def reopen(request: Request, session: SessionDep, user: InboxUser, ticket_id: int) -> Response:
    return _change(
        request,
        session,
        user,
        ticket_id,
        lambda ticket: tickets.reopen(session, ticket=ticket, actor=user),
    )


@router.post("/tickets/{ticket_id}/events/{event_id}/draft")
def draft(
    request: Request,
    session: SessionDep,
    user: InboxUser,
    ticket_id: int,
    event_id: int,
    title: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    def act(ticket: Ticket) -> None:
        event = session.get(TicketEvent, event_id)
        if event is None:
            raise NotFound()
        tickets.save_draft(session, ticket=ticket, event=event, author=user, title=title)

    return _change(request, session, user, ticket_id, act)


ReviewerUser = Annotated[User, Depends(require_roles(Role.coordinator, Role.admin))]


@router.get("/drafts")
def drafts_page(request: Request, session: SessionDep, user: InboxUser) -> Response:
    items = drafts.list_drafts(session, user=user)
    ticket_ids = {d.ticket_id for d in items if d.ticket_id}
    tickets_by_id = {t.id: t for t in (session.get(Ticket, i) for i in ticket_ids) if t}
    return render(
        request,
        "inbox/drafts.html",
        {
            "drafts": [
                (d, drafts.draft_markdown(d, ticket=tickets_by_id.get(d.ticket_id))) for d in items
            ],
            "people": inbox.names(session, user_ids={d.author_id for d in items if d.author_id}),
            "can_review": user.role in (Role.coordinator, Role.admin),
        },
    )


@router.post("/drafts/{draft_id}/status")
def draft_status(
    session: SessionDep,
    user: ReviewerUser,
    draft_id: int,
    status: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    drafts.set_status(session, draft_id=draft_id, actor=user, status=status)
    session.commit()
    return RedirectResponse("/inbox/drafts", status_code=303)
