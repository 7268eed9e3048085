"""The practice chat page: ask, answer cards, choosing, feedback, hand-off and replies."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from assistant import i18n
from assistant.deps import SessionDep, SignIn, in_request_thread, require_roles, sign_in_later
from assistant.errors import Invalid
from assistant.htmx import is_htmx, trigger
from assistant.people.models import Role, User
from assistant.support import chat, inbox, tickets
from assistant.support.models import Ticket
from assistant.templating import render

router = APIRouter(prefix="/chat")

PracticeUser = Annotated[User, Depends(require_roles(Role.practice_staff))]
# For the busiest route, asking: the sign-in is read in the route's own thread.
PracticeSignIn = Annotated[SignIn, Depends(sign_in_later(Role.practice_staff))]
POLL_TRIGGER = "every 10s, tickets-changed from:body"
TICKETS_CHANGED = "tickets-changed"


def _questions_context(session: SessionDep, user: User) -> dict[str, Any]:
    rows = inbox.practice_tickets(session, user=user)
    replies = inbox.latest_replies(
        session, ticket_ids=[r.ticket.id for r in rows if r.ticket.id is not None]
    )
    return {
        "questions": rows,
        "latest_replies": replies,
        "unread": sum(r.unread for r in rows),
        "poll_trigger": POLL_TRIGGER,
    }


def _message_context() -> dict[str, Any]:
    return {
        "entry_for": chat.entry_for,
        "candidates_of": chat.candidates_of,
        "lang": i18n.current_locale(),
    }


def _page(
    request: Request, session: SessionDep, user: User, *, error: str = "", status: int = 200
) -> Response:
    context = (
        {"messages": chat.history(session, user=user), "error": error}
        | _questions_context(session, user)
        | _message_context()
    )
    return render(request, "chat/page.html", context, status_code=status)


def _back_to(message_id: int | None) -> RedirectResponse:
    return RedirectResponse(f"/chat#m-{message_id}" if message_id else "/chat", status_code=303)


@router.get("")
def chat_page(request: Request, session: SessionDep, user: PracticeUser) -> Response:
    return _page(request, session, user)


@router.post("/ask")
async def ask(
    request: Request,
    sign_in: PracticeSignIn,
    q: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    # The busiest route: its work and its session in one thread (in_request_thread).
    return await in_request_thread(request, lambda session: _ask(request, session, sign_in, q))


def _ask(request: Request, session: Session, sign_in: SignIn, q: str) -> Response:
    user = sign_in.user(session)
    try:
        turn = chat.ask(session, user=user, text=q, lang=i18n.current_locale())
    except Invalid as exc:
        session.rollback()
        if is_htmx(request):
            return render(request, "chat/_error.html", {"error": exc.message}, status_code=200)
        return _page(request, session, user, error=exc.message, status=422)
    session.commit()  # the question, its reply, the conversation's touch and the answer's use
    if not is_htmx(request):
        return _back_to(turn.reply.id)
    # Drawn after the commit (the write lock is held no longer than the writes), from the
    # messages as written: they are not in the session, so nothing is read back.
    return render(
        request,
        "chat/_turn.html",
        {"turn": [turn.question, turn.reply], "clear_input": True} | _message_context(),
    )


@router.post("/messages/{message_id}/choose")
def choose(
    request: Request,
    session: SessionDep,
    user: PracticeUser,
    message_id: int,
    entry_id: Annotated[str, Form(max_length=120)] = "",
) -> Response:
    reply = chat.choose(session, user=user, message_id=message_id, entry_id=entry_id)
    session.commit()  # the answer chosen, the conversation's touch and the answer's use
    if not is_htmx(request):
        return _back_to(reply.id)
    # As in ``ask``: drawn after the commit from the reply as written (nothing is read back).
    return render(request, "chat/_turn.html", {"turn": [reply]} | _message_context())


@router.post("/messages/{message_id}/feedback")
def feedback(
    request: Request,
    session: SessionDep,
    user: PracticeUser,
    message_id: int,
    helpful: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    message = chat.give_feedback(
        session, user=user, message_id=message_id, helpful=helpful == "yes"
    )
    session.commit()
    if not is_htmx(request):
        return _back_to(message.id)
    return render(request, "chat/_feedback.html", {"m": message} | _message_context())


@router.post("/handoff")
def handoff(
    request: Request,
    session: SessionDep,
    user: PracticeUser,
    question: Annotated[str, Form(max_length=2000)] = "",
    detail: Annotated[str, Form(max_length=4000)] = "",
    message_id: Annotated[int | None, Form()] = None,
) -> Response:
    try:
        _ticket, sent = chat.hand_off(
            session, user=user, question=question, detail=detail, message_id=message_id
        )
    except Invalid as exc:
        session.rollback()
        if is_htmx(request):
            return render(request, "chat/_error.html", {"error": exc.message})
        return _page(request, session, user, error=exc.message, status=422)
    session.commit()  # the ticket and its note in the chat: together, or neither
    if not is_htmx(request):
        return _back_to(sent.id)
    response = render(request, "chat/_sent.html", {"m": sent} | _message_context())
    return trigger(response, TICKETS_CHANGED)


@router.get("/updates")
def updates(request: Request, session: SessionDep, user: PracticeUser) -> Response:
    """The practice's questions and the unread-replies badge (polled by the chat page)."""
    if not is_htmx(request):
        return RedirectResponse("/chat#questions", status_code=303)
    # The nav's unread badge is refreshed along with the list (an out-of-band swap).
    nav = {"refresh_nav": True, "nav_unread": inbox.unread_reply_count(session, user)}
    context = _questions_context(session, user) | nav
    return render(request, "chat/page.html", context, block="questions")


def _question_page(
    request: Request, session: SessionDep, user: User, ticket: Ticket, *, error: str = ""
) -> Response:
    history = inbox.events(session, ticket=ticket, for_practice=True)
    people = inbox.names(
        session, user_ids={ticket.asker_id} | {e.author_id for e in history if e.author_id}
    )
    return render(
        request,
        "chat/question.html",
        {"ticket": ticket, "history": history, "people": people, "error": error},
        status_code=422 if error else 200,
    )


@router.get("/questions/{ticket_id}")
def question(request: Request, session: SessionDep, user: PracticeUser, ticket_id: int) -> Response:
    ticket = inbox.get_ticket(session, user=user, ticket_id=ticket_id)
    tickets.mark_replies_read(session, ticket=ticket, reader=user)
    session.commit()  # the view's audit record and the replies read
    return _question_page(request, session, user, ticket)


@router.post("/questions/{ticket_id}/followup")
def follow_up(
    request: Request,
    session: SessionDep,
    user: PracticeUser,
    ticket_id: int,
    body: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    ticket = inbox.get_ticket(session, user=user, ticket_id=ticket_id, audit_view=False)
    try:
        tickets.follow_up(session, ticket=ticket, author=user, body=body)
    except Invalid as exc:
        session.rollback()
        return _question_page(request, session, user, ticket, error=exc.message)
    session.commit()
    return RedirectResponse(f"/chat/questions/{ticket_id}", status_code=303)
