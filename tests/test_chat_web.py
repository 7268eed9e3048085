"""The chat pages through HTTP: plain form posts, htmx fragments, replies and the badge."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from assistant.audit import events_for
from assistant.knowledge import get_knowledge_base
from assistant.notify.models import QueuedEmail
from assistant.people.models import Practice, Role, User
from assistant.support import chat, tickets
from assistant.support.models import ChatConversation, ChatMessage, Ticket
from tests import factories
from tests.chat_data import EMERGENCY, KNOWN, UNKNOWN, offer_choice
from tests.conftest import Client
from tests.html import parse

HX = {"HX-Request": "true"}


@pytest.fixture
def practice(session: Session) -> Practice:
    return factories.practice(session, name="Riccarton Family Health")


@pytest.fixture
def liaison(session: Session, practice: Practice) -> User:
    user = factories.user(session, Role.liaison, name="Mere Liaison")
    factories.portfolio(session, practice, user)
    return user


@pytest.fixture
def asker(session: Session, practice: Practice, liaison: User) -> User:
    return factories.user(session, practice_id=practice.id, name="Rita Reception")


def send_unknown(client: Client) -> int:
    fragment = parse(client.post("/chat/ask", data={"q": UNKNOWN}, headers=HX).text)
    message_id = fragment.find('input[name="message_id"]').attrs["value"]
    response = client.post(
        "/chat/handoff",
        data={"question": UNKNOWN, "detail": "Our garden", "message_id": message_id},
    )
    assert response.status_code == 303
    return int(message_id)


def test_ask_without_javascript_shows_the_answer_card(
    client: Client, login: Any, asker: User
) -> None:
    login(asker)
    response = client.post("/chat/ask", data={"q": KNOWN})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/chat#m-")
    page = parse(client.get("/chat").text)
    card = page.find("article.answer")
    assert "claim" in card.find("h3").text().lower()
    assert card.find("div.answer-body").text()
    assert "Last reviewed" in card.text() and "Source:" in card.text()
    buttons = [b.text() for b in card.find_all("button")]
    assert buttons == ["Helpful", "Not helpful"]
    # The question stays in the user's history.
    assert KNOWN in page.find("ol#conversation").text()


def test_htmx_ask_returns_only_the_new_turn(client: Client, login: Any, asker: User) -> None:
    login(asker)
    response = client.post("/chat/ask", data={"q": KNOWN}, headers=HX)
    assert response.status_code == 200
    assert "<html" not in response.text
    fragment = parse(response.text)
    items = fragment.find_all("li.msg")
    assert [i.attrs["class"] for i in items] == ["msg msg-user", "msg msg-bot"]
    assert items[1].attrs["data-status"] == "answer"


def _parts(statement: str) -> list[str]:
    """A statement's verb and table; a WITH's own statements first ("INSERT a + INSERT b")."""
    parts = []
    while (
        found := re.match(r"\s*WITH \w+ AS\s*\((.*?)\)\s*(INSERT .*)", statement, re.S)
    ) is not None:
        parts += _parts(found.group(1))
        statement = found.group(2)
    found = re.match(r"\s*(\w+)\s+(?:INTO\s+|.*?\bFROM\s+)?\"?(\w+)", statement, re.S)
    return [*parts, " ".join(found.groups()) if found else statement]


@contextmanager
def statements_on(engine: Engine) -> Iterator[list[str]]:
    """Lists each statement run meanwhile as its verb and table ("INSERT support_message")."""
    seen: list[str] = []

    def log(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" + ".join(_parts(statement)))

    event.listen(engine, "before_cursor_execute", log)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", log)


def _touched_and_used(engine: Engine) -> list[str]:
    """The conversation started or its time updated (one statement), and the answer's use:
    on PostgreSQL both in one statement."""
    if engine.dialect.name == "postgresql":
        return ["INSERT knowledge_usage + INSERT support_conversation"]
    return ["INSERT support_conversation", "INSERT knowledge_usage"]


def test_a_question_is_written_after_the_matcher_and_not_read_back(
    client: Client, login: Any, asker: User, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One writer at a time (SQLite): a question's transaction starts once the matcher is done,
    writes in three statements (two on PostgreSQL), and the fragment is drawn from the rows as
    written."""
    login(asker)
    client.post("/chat/ask", data={"q": UNKNOWN}, headers=HX)  # the conversation is started
    real_match = chat.match

    with statements_on(engine) as seen:

        def match(*args: Any, **kwargs: Any) -> Any:
            seen.append("match")
            return real_match(*args, **kwargs)

        monkeypatch.setattr(chat, "match", match)
        response = client.post("/chat/ask", data={"q": KNOWN}, headers=HX)
    assert parse(response.text).find_all("li.msg")[1].attrs["data-status"] == "answer"
    assert seen[seen.index("match") :] == [
        "match",
        *_touched_and_used(engine),
        "INSERT support_message",  # the question and its reply, together
    ]
    assert not [s for s in seen[: seen.index("match")] if not s.startswith("SELECT")]


def test_feedback_buttons_record_and_thank(client: Client, login: Any, asker: User) -> None:
    login(asker)
    fragment = parse(client.post("/chat/ask", data={"q": KNOWN}, headers=HX).text)
    form = fragment.find("div.feedback").find("form")
    response = client.post(form.attrs["action"], data={"helpful": "no"}, headers=HX)
    after = parse(response.text)
    assert "Thank you for telling us" in after.text()
    # Not helpful: the hand-off is offered with the question filled in.
    assert after.find('textarea[name="question"]').text() == KNOWN


def test_an_answer_found_not_helpful_then_sent_says_where_it_went_after_a_reload(
    client: Client, login: Any, asker: User, session: Session, liaison: User
) -> None:
    login(asker)
    client.post("/chat/ask", data={"q": KNOWN})
    page = parse(client.get("/chat").text)
    form = page.find("div.feedback").find("form")
    assert client.post(form.attrs["action"], data={"helpful": "no"}).status_code == 303
    handoff = parse(client.get("/chat").text).find("div.feedback").find("form.handoff")
    data = dict(handoff.form_data()) | {"question": KNOWN}
    assert client.post(handoff.attrs["action"], data=data).status_code == 303
    [ticket] = session.exec(select(Ticket)).all()
    reply = parse(client.get("/chat").text).find("div.feedback")
    assert reply.find_all("form.handoff") == []
    assert f"#{ticket.id}" in reply.find("p.sent").text()


def test_unknown_question_offers_a_prefilled_hand_off_then_sends_it(
    client: Client, login: Any, asker: User, session: Session, liaison: User
) -> None:
    login(asker)
    fragment = parse(client.post("/chat/ask", data={"q": UNKNOWN}, headers=HX).text)
    form = fragment.find("form.handoff")
    assert form.find('textarea[name="question"]').text() == UNKNOWN
    assert "Send to the liaison team" in form.find("button").text()
    message_id = form.find('input[name="message_id"]').attrs["value"]
    response = client.post(
        "/chat/handoff",
        data={"question": UNKNOWN, "detail": "For the garden", "message_id": message_id},
        headers=HX,
    )
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "tickets-changed"
    ticket = session.exec(select(Ticket)).one()
    assert (ticket.assignee_id, ticket.detail) == (liaison.id, "For the garden")
    assert f"#{ticket.id}" in parse(response.text).text()
    questions = parse(client.get("/chat").text).find("section#questions")
    assert UNKNOWN in questions.text() and "With the PHO" in questions.text()


def test_safety_question_shows_the_emergency_card(client: Client, login: Any, asker: User) -> None:
    login(asker)
    fragment = parse(client.post("/chat/ask", data={"q": EMERGENCY}, headers=HX).text)
    card = fragment.find("article.safety")
    assert card.attrs["role"] == "alert"
    assert "111" in card.text()


def test_reply_appears_in_the_polled_fragment_with_a_badge(
    client: Client, login: Any, asker: User, session: Session, liaison: User
) -> None:
    login(asker)
    send_unknown(client)
    ticket = session.exec(select(Ticket)).one()
    poll = parse(client.get("/chat/updates", headers=HX).text)
    section = poll.find("section#questions")
    assert section.attrs["hx-trigger"].startswith("every 10s")
    assert not section.find_all("span#unread-badge")

    tickets.reply(session, ticket=ticket, author=liaison, body="Sunny, then cold.")
    tickets.add_note(session, ticket=ticket, author=liaison, body="Odd one; keep an eye out")
    session.commit()

    poll = parse(client.get("/chat/updates", headers=HX).text)
    assert poll.find("span#unread-badge").text() == "1 new reply"
    assert "Sunny, then cold." in poll.text()
    assert "Odd one" not in poll.text()
    # Without JavaScript the whole page shows the same.
    page = client.get("/chat").text
    assert "Sunny, then cold." in page and "1 new reply" in page and "Odd one" not in page

    detail = client.get(f"/chat/questions/{ticket.id}")
    assert detail.status_code == 200
    assert "Sunny, then cold." in detail.text and "Odd one" not in detail.text
    assert "Mere Liaison" in detail.text
    # The question says "Replied" as the list does.
    assert parse(detail.text).find("div.card span.tag").text() == "Replied"
    assert not parse(client.get("/chat/updates", headers=HX).text).find_all("span#unread-badge")
    assert "viewed" in [e.action for e in events_for(session, "ticket", ticket.id)]


def test_unread_replies_show_in_the_main_nav_on_every_page(
    client: Client, login: Any, asker: User, session: Session, liaison: User
) -> None:
    login(asker)
    send_unknown(client)
    ticket = session.exec(select(Ticket)).one()

    def nav_badge(path: str) -> str | None:
        nav = parse(client.get(path).text).find("nav")
        badges = nav.find('a[href="/chat"]').find_all("span.nav-badge")
        return badges[0].text() if badges else None

    assert nav_badge("/") is None
    tickets.reply(session, ticket=ticket, author=liaison, body="One")
    tickets.reply(session, ticket=ticket, author=liaison, body="Two")
    session.commit()
    assert nav_badge("/") == "2 new replies"
    assert nav_badge("/forms") == "2 new replies"
    # On the chat page the poll refreshes the nav's badge too, without a reload.
    poll = parse(client.get("/chat/updates", headers=HX).text)
    slot = poll.find("span#nav-badge-chat")
    assert slot.attrs["hx-swap-oob"] == "true"
    assert slot.find("span.nav-badge").text() == "2 new replies"
    client.get(f"/chat/questions/{ticket.id}")
    assert nav_badge("/") is None
    poll = parse(client.get("/chat/updates", headers=HX).text)
    assert not poll.find("span#nav-badge-chat").find_all("span.nav-badge")
    # The liaison's nav has no such badge.
    login(liaison)
    assert not parse(client.get("/").text).find("nav").find_all("span.nav-badge")


def test_updates_without_htmx_go_to_the_chat_page(client: Client, login: Any, asker: User) -> None:
    login(asker)
    response = client.get("/chat/updates")
    assert (response.status_code, response.headers["location"]) == (303, "/chat#questions")


def test_practice_staff_cannot_open_another_practices_question(
    client: Client, login: Any, asker: User, session: Session
) -> None:
    login(asker)
    send_unknown(client)
    ticket = session.exec(select(Ticket)).one()
    client.post("/logout")
    outsider = factories.user(session, Role.practice_staff)
    login(outsider)
    assert client.get(f"/chat/questions/{ticket.id}").status_code == 403
    assert UNKNOWN not in client.get("/chat").text
    colleague = factories.user(session, practice_id=asker.practice_id)
    client.post("/logout")
    login(colleague)
    assert client.get(f"/chat/questions/{ticket.id}").status_code == 200
    assert UNKNOWN in client.get("/chat").text


def test_empty_question_shows_an_error_without_javascript(
    client: Client, login: Any, asker: User
) -> None:
    login(asker)
    response = client.post("/chat/ask", data={"q": "  "})
    assert response.status_code == 422
    assert parse(response.text).find("p.error").text() == "Please type a question."


def test_chat_page_in_arabic_is_right_to_left(
    client: Client, login: Any, session: Session, asker: User
) -> None:
    asker.locale = "ar"
    session.add(asker)
    session.commit()
    login(asker)
    page = parse(client.get("/chat").text)
    assert page.dir == "rtl"
    assert page.find("h1").text() == "اطرح سؤالًا"  # "Ask a question"


def test_an_english_answer_on_an_arabic_page_reads_left_to_right(
    client: Client, login: Any, session: Session, asker: User
) -> None:
    asker.locale = "ar"
    session.add(asker)
    session.commit()
    login(asker)
    client.post("/chat/ask", data={"q": KNOWN})
    page = parse(client.get("/chat").text)
    card = page.find("article.answer")
    body = card.find("div.answer-body")
    assert (body.attrs["lang"], body.attrs["dir"]) == ("en", "ltr")
    # What the user typed takes its direction from its own text.
    assert page.find("li.msg-user").find("p").attrs["dir"] == "auto"


def test_practice_adds_to_its_question(
    client: Client, login: Any, asker: User, session: Session, liaison: User
) -> None:
    login(asker)
    send_unknown(client)
    ticket = session.exec(select(Ticket)).one()
    tickets.resolve(session, ticket=ticket, actor=liaison)
    session.commit()
    page = parse(client.get(f"/chat/questions/{ticket.id}").text)
    assert "opens the question again" in page.text()
    response = client.post(f"/chat/questions/{ticket.id}/followup", data={"body": "Also Venus?"})
    assert response.status_code == 303
    session.refresh(ticket)
    assert ticket.status == "open"
    assert "Also Venus?" in client.get(f"/chat/questions/{ticket.id}").text
    empty = client.post(f"/chat/questions/{ticket.id}/followup", data={"body": " "})
    assert empty.status_code == 422
    client.post("/logout")
    login(factories.user(session))  # another practice
    denied = client.post(f"/chat/questions/{ticket.id}/followup", data={"body": "x"})
    assert denied.status_code == 403
    client.post("/logout")
    login(liaison)
    inbox_page = client.get(f"/inbox/tickets/{ticket.id}").text
    assert "Follow-up from Rita Reception" in inbox_page and "Also Venus?" in inbox_page


def test_safety_card_in_the_users_language(
    client: Client, login: Any, asker: User, session: Session
) -> None:
    asker.locale = "sm"
    session.add(asker)
    session.commit()
    login(asker)
    fragment = parse(client.post("/chat/ask", data={"q": EMERGENCY}, headers=HX).text)
    card = fragment.find("article.safety")
    entry = get_knowledge_base().get("emergency")
    assert entry is not None and "sm" in entry.variants
    title = card.find("h3")
    assert (title.attrs["lang"], title.text()) == ("sm", entry.variant("sm").title)
    assert "111" in card.find("p.safety-call").text()


def test_choosing_between_two_close_answers(
    client: Client, login: Any, asker: User, session: Session, engine: Engine
) -> None:
    offered = offer_choice(session, asker)
    login(asker)
    page = parse(client.get("/chat").text)
    choice = page.find(f'li[id="m-{offered.id}"]')
    assert choice.attrs["data-status"] == "choose"
    forms = choice.find("ul.choices").find_all("form")
    assert len(forms) == 2
    # Each choice is marked up in the language of the title it shows.
    assert [f.find("button").attrs["lang"] for f in forms] == ["en", "en"]
    # The "neither" path offers the hand-off too.
    assert choice.find("form.handoff")
    response = client.post(
        forms[1].attrs["action"], data={"entry_id": "claims-submission"}, headers=HX
    )
    card = parse(response.text).find("li.msg-bot")
    assert card.attrs["data-status"] == "answer"
    assert card.find("article.answer")
    with statements_on(engine) as seen:
        response = client.post(
            forms[0].attrs["action"], data={"entry_id": "payment-schedule"}, headers=HX
        )
    assert parse(response.text).find("li.msg-bot").attrs["data-status"] == "answer"
    # The offer and its owner in one query; the answer is not read back to be drawn.
    assert seen[-2 - len(_touched_and_used(engine)) :] == [
        "SELECT support_message",
        *_touched_and_used(engine),
        "INSERT support_message",
    ]
    plain = client.post(forms[1].attrs["action"], data={"entry_id": "payment-schedule"})
    assert plain.status_code == 303
    assert client.post(forms[1].attrs["action"], data={"entry_id": "training"}).status_code == 422


NEAR_MISS = "newborn form signing rules"


def test_a_near_miss_offers_close_answers_and_the_hand_off(
    client: Client, login: Any, asker: User, session: Session, liaison: User
) -> None:
    login(asker)
    assert client.post("/chat/ask", data={"q": NEAR_MISS}).status_code == 303  # no JavaScript
    page = parse(client.get("/chat").text)
    reply = page.find_all("li.msg-bot")[-1]
    assert reply.attrs["data-status"] == "suggest"
    forms = reply.find("ul.choices").find_all("form")
    offered = [f.find('input[name="entry_id"]').attrs["value"] for f in forms]
    assert "enrolment-register" in offered and len(offered) <= 2
    # The hand-off is right there, open, with the question filled in.
    assert reply.find("form.handoff").find('textarea[name="question"]').text() == (NEAR_MISS)
    chosen = forms[offered.index("enrolment-register")]
    response = client.post(
        chosen.attrs["action"], data={"entry_id": "enrolment-register"}, headers=HX
    )
    card = parse(response.text).find("li.msg-bot")
    assert card.attrs["data-status"] == "answer"
    title = get_knowledge_base().get("enrolment-register")
    assert title is not None and card.find("h3").text() == title.variant("en").title
    # An entry that was not offered cannot be picked.
    assert client.post(chosen.attrs["action"], data={"entry_id": "training"}).status_code == 422


def test_a_sent_question_shows_where_it_went_and_cannot_be_sent_twice(
    client: Client, login: Any, asker: User, session: Session, liaison: User
) -> None:
    login(asker)
    message_id = send_unknown(client)  # sent once, without JavaScript
    data = {"question": UNKNOWN, "message_id": str(message_id)}
    # After a reload, the reply says where the question went; the form is gone.
    reply = parse(client.get("/chat").text).find(f'li[id="m-{message_id}"]')
    assert reply.find_all("form.handoff") == []
    [ticket] = session.exec(select(Ticket)).all()
    assert f"#{ticket.id}" in reply.find("p.sent").text()
    # The old form posted again (another tab, the back button): still one ticket.
    assert client.post("/chat/handoff", data=data).status_code == 303
    assert client.post("/chat/handoff", data=data, headers=HX).status_code == 200
    assert len(session.exec(select(Ticket)).all()) == 1
    page = client.get("/chat").text
    assert page.count(f"question #{ticket.id}.") == 1


def test_opening_the_chat_stores_nothing_until_the_first_question(
    client: Client, login: Any, asker: User, engine: Engine
) -> None:
    login(asker)
    page = parse(client.get("/chat").text)
    assert page.find_all("li.msg") == [] and page.has("form")
    with Session(engine) as fresh:
        assert fresh.exec(select(ChatConversation)).all() == []  # reading wrote nothing
    client.post("/chat/ask", data={"q": KNOWN}, headers=HX)
    with Session(engine) as fresh:
        [conversation] = fresh.exec(select(ChatConversation)).all()
        assert conversation.user_id == asker.id
        assert len(fresh.exec(select(ChatMessage)).all()) == 2


@pytest.mark.parametrize("failure", ["the commit fails", "a step after the hand-off fails"])
def test_a_hand_off_whose_request_fails_stores_neither_the_ticket_nor_its_note(
    client: Client,
    login: Any,
    asker: User,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    failure: str,
) -> None:
    """The request owns the transaction: when it fails after the ticket is made, the PHO gets
    no question the chat does not show, and the chat shows no question the PHO never got; the
    practice can simply send it again."""
    login(asker)
    fragment = parse(client.post("/chat/ask", data={"q": UNKNOWN}, headers=HX).text)
    message_id = fragment.find('input[name="message_id"]').attrs["value"]
    data = {"question": UNKNOWN, "detail": "Our garden", "message_id": message_id}

    def lost(_self: Session) -> None:
        raise RuntimeError("the database went away")

    real_hand_off = chat.hand_off

    def hand_off_then_fail(*args: Any, **kwargs: Any) -> Any:
        real_hand_off(*args, **kwargs)  # the ticket and its note are made ...
        raise RuntimeError("the database went away")  # ... and the request goes no further

    if failure == "the commit fails":
        monkeypatch.setattr(Session, "commit", lost)
    else:
        monkeypatch.setattr(chat, "hand_off", hand_off_then_fail)
    with pytest.raises(RuntimeError, match="went away"):
        client.post("/chat/handoff", data=data)
    monkeypatch.undo()

    with Session(engine) as fresh:
        assert fresh.exec(select(Ticket)).all() == []
        offered = fresh.get(ChatMessage, int(message_id))
        assert offered is not None and offered.ticket_id is None
        assert fresh.exec(select(QueuedEmail)).all() == []  # nobody was told of it either
    reply = parse(client.get("/chat").text).find(f'li[id="m-{message_id}"]')
    assert reply.find_all("form.handoff")  # still offered
    assert client.post("/chat/handoff", data=data).status_code == 303
    with Session(engine) as fresh:
        [ticket] = fresh.exec(select(Ticket)).all()
        offered = fresh.get(ChatMessage, int(message_id))
        assert offered is not None and offered.ticket_id == ticket.id
