"""The practice chat: ask, get an answer (or a choice of two), or send the question to a person.

Plain functions over a Session; the web layer only parses and renders. Every message is stored,
so a user's conversation survives reloads and works across app processes. The functions only
write in the caller's transaction (asking and choosing as plain statements, the rest by adding
and flushing): the caller (the request) commits.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import sqlalchemy as sa
from sqlmodel import Session, col, select

from assistant.clock import to_local, utcnow
from assistant.db import build, conflict_insert
from assistant.errors import Forbidden, Invalid, NotFound
from assistant.i18n import _
from assistant.knowledge import Entry, get_knowledge_base
from assistant.knowledge.usage import USAGE_ROW, insert_usage, record_usage, usage_params
from assistant.matcher import Candidate, MatchResult, match
from assistant.people.models import User
from assistant.support.models import ChatConversation, ChatMessage, Ticket
from assistant.support.tickets import create_ticket

MAX_QUESTION = 1000
HISTORY_LIMIT = 60
TRANSCRIPT_LIMIT = 20
CLOSEST_FLOOR = 20.0  # weaker near-misses say nothing useful to the person answering

# Asking for a person rather than an answer. Lower-cased, folded text; a readable list a
# support lead can extend.
WANTS_PERSON = re.compile(
    r"\b("
    r"(talk|speak|chat)\s+(to|with)\s+(someone|somebody|a\s+person|a\s+human|a\s+real\s+person|"
    r"(my|our|the)\s+liaison|liaison|a\s+liaison|staff|the\s+team|the\s+pho)"
    r"|real\s+person|a\s+human|human\s+please|(need|want)\s+(a|to\s+talk\s+to\s+a)\s+person"
    r"|contact\s+(my|our|the)\s+liaison|(call|ring|phone)\s+me(\s+back)?"
    r"|can\s+someone\s+(call|ring|phone|contact|help)"
    r"|speak\s+to\s+a\s+person|talk\s+to\s+a\s+person|operator"
    r")\b"
)


class BotStatus:
    answer = "answer"
    choose = "choose"
    abstain = "abstain"
    suggest = "suggest"  # no confident answer: one or two close entries beside the hand-off
    safety = "safety"
    person = "person"  # asked for a person: offer the hand-off
    sent = "sent"  # the question was sent; ``ticket_id`` says where


@dataclass(frozen=True)
class Turn:
    question: ChatMessage
    reply: ChatMessage


def wants_person(text: str) -> bool:
    return WANTS_PERSON.search(" ".join(text.lower().split())) is not None


def _without_person_request(text: str) -> str:
    rest = WANTS_PERSON.sub(" ", " ".join(text.lower().split()))
    return " ".join(rest.split())


def find_conversation(session: Session, *, user: User) -> ChatConversation | None:
    """The user's conversation, if they have asked anything yet (reading never creates one)."""
    return session.exec(select(ChatConversation).where(ChatConversation.user_id == user.id)).first()


def conversation_for(session: Session, *, user: User) -> ChatConversation:
    """The user's conversation, started (flushed, for the caller to commit) on first use."""
    assert user.id is not None
    conversation = find_conversation(session, user=user)
    if conversation is None:
        conversation = ChatConversation(user_id=user.id, practice_id=user.practice_id)
        session.add(conversation)
        session.flush()
    return conversation


def history(session: Session, *, user: User, limit: int = HISTORY_LIMIT) -> list[ChatMessage]:
    """The user's own conversation, oldest first (the last ``limit`` messages); nothing is
    written, so a user who has never asked has an empty history."""
    conversation = find_conversation(session, user=user)
    if conversation is None:
        return []
    stmt = (
        select(ChatMessage)
        .where(ChatMessage.conversation_id == conversation.id)
        .order_by(col(ChatMessage.id).desc())
        .limit(limit)
    )
    return list(reversed(session.exec(stmt).all()))


def candidates_of(message: ChatMessage) -> list[Candidate]:
    if not message.candidates:
        return []
    return [Candidate(**c) for c in json.loads(message.candidates)]


def entry_for(entry_id: str | None) -> Entry | None:
    return get_knowledge_base().get(entry_id) if entry_id else None


def _add(session: Session, conversation: ChatConversation, message: ChatMessage) -> ChatMessage:
    assert conversation.id is not None
    message.conversation_id = conversation.id
    conversation.updated_at = message.created_at
    session.add(conversation)
    session.add(message)
    return message


def ask(session: Session, *, user: User, text: str, lang: str, now: datetime | None = None) -> Turn:
    """Store the question and the reply: an answer, a choice, a hand-off offer or a safety card.

    The matcher runs before the first write, and the rows are written as three statements (the
    conversation's touch, both messages, the answer's use): the transaction that holds the
    database's write lock starts late and has little to do. The messages returned are not in
    the session, so the caller's commit leaves them as written (they are not read back).
    """
    assert user.id is not None
    text = " ".join(text.split())
    if not text:
        raise Invalid(_("Please type a question."))
    if len(text) > MAX_QUESTION:
        raise Invalid(_("Please keep your question under %(n)s characters.", n=MAX_QUESTION))
    now = now or utcnow()
    person = wants_person(text)
    # Asking for a person about something: match what it is about, for the topic guess.
    about = _without_person_request(text) if person else text
    result = match(about or text, audience="practice", lang=lang)
    status: str = result.status
    offered = result.candidates[:2]
    if result.status == "abstain" and result.suggestions:
        status, offered = BotStatus.suggest, result.suggestions
    if result.status != "safety" and person:
        status = BotStatus.person
    shown = result.entry_id if status in (BotStatus.answer, BotStatus.safety) else None
    # A person was asked for: keep what the matcher knew (an answer, the closer of two, the
    # closest suggestion) only as the best-guess topic.
    guess = _guess(result) if status == BotStatus.person else shown
    question = build(
        ChatMessage, conversation_id=0, sender="user", text=text, lang=lang, created_at=now
    )
    reply = build(
        ChatMessage,
        conversation_id=0,
        sender="bot",
        text=text,
        status=status,
        entry_id=shown or guess,
        candidates=json.dumps([c.__dict__ for c in offered]),
        lang=lang,
        created_at=now,
    )
    conversation_id = _touch_conversation(session, user=user, at=now, answered=shown)
    question.conversation_id = reply.conversation_id = conversation_id
    _insert_messages(session, question, reply)
    return Turn(question, reply)


_CONVERSATIONS = ChatConversation.metadata.tables["support_conversation"]
_MESSAGES = ChatMessage.metadata.tables["support_message"]
_MESSAGE_COLUMNS = tuple(c.name for c in _MESSAGES.c if c.name != "id")


@cache
def _touch_statement(dialect: str) -> sa.Insert:
    """The user's conversation started, or its ``updated_at`` set when it exists: one statement
    that returns its id either way (two first questions at once share one conversation). Built
    once for each database."""
    insert = conflict_insert(dialect, _CONVERSATIONS)
    return insert.on_conflict_do_update(
        index_elements=[_CONVERSATIONS.c.user_id],
        set_={"updated_at": insert.excluded.updated_at},
    ).returning(_CONVERSATIONS.c.id)


# Given both rows at once, this is one INSERT with two VALUES (SQLAlchemy's "insertmanyvalues").
_INSERT_MESSAGES = sa.insert(_MESSAGES).returning(_MESSAGES.c.sender, _MESSAGES.c.id)


@cache
def _touch_and_use_statement(dialect: str) -> sa.Insert:
    """The conversation's touch and an answer's use in one statement (the use's INSERT as a
    data-modifying WITH, which PostgreSQL has)."""
    return _touch_statement(dialect).add_cte(USAGE_ROW.cte("used"))


def _touch_conversation(
    session: Session, *, user: User, at: datetime, answered: str | None = None
) -> int:
    """The id of the user's conversation, its ``updated_at`` set to ``at`` in the same statement;
    the first question starts the conversation. ``answered``: the entry shown, its use
    recorded too (on PostgreSQL in the same statement)."""
    db = session.connection()
    dialect = db.dialect.name
    values = {
        "user_id": user.id,
        "practice_id": user.practice_id,
        "created_at": at,
        "updated_at": at,
    }
    if answered and dialect == "postgresql":
        used = usage_params(entry_id=answered, kind="answered", at=at)
        return int(db.execute(_touch_and_use_statement(dialect), values | used).scalar_one())
    touched = db.execute(_touch_statement(dialect), values).scalar_one()
    if answered:
        insert_usage(session, entry_id=answered, kind="answered", at=at)
    return int(touched)


def _insert_messages(session: Session, *messages: ChatMessage) -> None:
    """The messages in one INSERT; each gets its id (told apart by their sender, as the
    database need not return the rows in order)."""
    assert len({m.sender for m in messages}) == len(messages)
    rows = [{c: getattr(m, c) for c in _MESSAGE_COLUMNS} for m in messages]
    ids: dict[str, int] = dict(session.connection().execute(_INSERT_MESSAGES, rows).all())
    for message in messages:
        message.id = ids[message.sender]


def own_message(session: Session, *, user: User, message_id: int) -> ChatMessage:
    """The message, if it is in the user's own conversation (one query)."""
    found = session.exec(
        select(ChatMessage, ChatConversation.user_id)
        .join(ChatConversation, col(ChatConversation.id) == col(ChatMessage.conversation_id))
        .where(col(ChatMessage.id) == message_id)
    ).first()
    if found is None:
        raise NotFound()
    message, owner = found
    if owner != user.id:
        raise Forbidden()
    return message


def choose(
    session: Session, *, user: User, message_id: int, entry_id: str, now: datetime | None = None
) -> ChatMessage:
    """The user picked one of the entries offered (a choice of two, or a suggestion)."""
    offered = own_message(session, user=user, message_id=message_id)
    if entry_id not in {c.entry_id for c in candidates_of(offered)}:
        raise Invalid(_("Please choose one of the answers offered."))
    now = now or utcnow()
    reply = build(
        ChatMessage,
        conversation_id=offered.conversation_id,
        sender="bot",
        text=offered.text,
        status=BotStatus.answer,
        entry_id=entry_id,
        lang=offered.lang,
        created_at=now,
    )
    # Written as ``ask`` writes: the reply is not in the session, so it is not read back.
    _touch_conversation(session, user=user, at=now, answered=entry_id)
    _insert_messages(session, reply)
    return reply


def give_feedback(
    session: Session, *, user: User, message_id: int, helpful: bool, now: datetime | None = None
) -> ChatMessage:
    """Helpful / not helpful on an answer card; counted once per card."""
    message = own_message(session, user=user, message_id=message_id)
    if message.status not in (BotStatus.answer, BotStatus.safety) or not message.entry_id:
        raise Invalid(_("Only an answer can be rated."))
    if not message.feedback:
        message.feedback = "helpful" if helpful else "unhelpful"
        session.add(message)
        record_usage(session, entry_id=message.entry_id, kind=message.feedback, at=now)
        session.flush()
    return message


def _guess(result: MatchResult) -> str | None:
    if result.entry_id:
        return result.entry_id
    if result.status == "choose" and result.candidates:
        return result.candidates[0].entry_id
    return result.suggestions[0].entry_id if result.suggestions else None


def best_guess_topic(message: ChatMessage | None) -> str | None:
    """The topic a hand-off is about: the answer shown (and found not helpful, say).

    Sent from a choice or a suggestion, the person said "neither": the entries offered are the
    ones they turned down, so the question is unknown and goes to the practice's own liaison,
    as the button says (the transcript still shows what was offered). Sent when the matcher
    abstained, the same.
    """
    if message is None:
        return None
    return message.entry_id or None


def transcript(messages: list[ChatMessage]) -> str:
    """The recent conversation as plain text for the person answering (kept in English)."""
    lines = []
    for message in messages[-TRANSCRIPT_LIMIT:]:
        when = to_local(message.created_at).strftime("%d %b %H:%M")
        if message.sender == "user":
            lines.append(f"[{when}] Practice: {message.text}")
            continue
        entry = entry_for(message.entry_id)
        title = entry.title if entry else ""
        if message.status in (BotStatus.answer, BotStatus.safety) and entry:
            note = f" (marked {message.feedback})" if message.feedback else ""
            lines.append(f"[{when}] Answer shown: {title} [{message.entry_id}]{note}")
        elif message.status in (BotStatus.choose, BotStatus.suggest):
            offered = ", ".join(f"{c.title} [{c.entry_id}]" for c in candidates_of(message))
            lines.append(
                f"[{when}] Offered a choice: {offered}"
                if message.status == BotStatus.choose
                else f"[{when}] No confident answer; suggested: {offered}"
            )
        elif message.status == BotStatus.abstain:
            close = ", ".join(
                f"{c.title} [{c.entry_id}] {c.score:.0f}"
                for c in candidates_of(message)
                if c.score >= CLOSEST_FLOOR
            )
            lines.append(f"[{when}] No confident answer" + (f"; closest: {close}" if close else ""))
        elif message.status == BotStatus.person:
            lines.append(f"[{when}] Asked for a person")
        if message.ticket_id is not None:
            lines.append(f"[{when}] Sent to the PHO as question #{message.ticket_id}")
    return "\n".join(lines)


def hand_off(
    session: Session,
    *,
    user: User,
    question: str,
    detail: str = "",
    message_id: int | None = None,
    now: datetime | None = None,
) -> tuple[Ticket, ChatMessage]:
    """Send the question to the PHO: a routed ticket, and a note of it in the conversation."""
    if user.practice_id is None or user.id is None:
        raise Forbidden(_("Only practice staff can send questions to the liaison team."))
    offered = own_message(session, user=user, message_id=message_id) if message_id else None
    if offered is not None and offered.ticket_id is not None:
        # One question, one ticket: the form was sent before (a reload, a second press).
        already = session.get(Ticket, offered.ticket_id)
        if already is not None:
            return already, offered
    now = now or utcnow()
    topic = best_guess_topic(offered)
    ticket = create_ticket(
        session,
        practice_id=user.practice_id,
        asker_id=user.id,
        question=question,
        detail=detail,
        transcript=transcript(history(session, user=user, limit=TRANSCRIPT_LIMIT)),
        topic_id=topic,
        now=now,  # the ticket and its note in the chat: together, or neither
    )
    conversation = conversation_for(session, user=user)
    if offered is not None:
        # The reply that offered the hand-off now says where the question went.
        offered.ticket_id = ticket.id
        sent = offered
        session.add(offered)
    else:
        sent = _add(
            session,
            conversation,
            ChatMessage(
                conversation_id=0,
                sender="bot",
                text=ticket.question,
                status=BotStatus.sent,
                ticket_id=ticket.id,
                lang="en",
                created_at=now,
            ),
        )
    if topic:
        record_usage(session, entry_id=topic, kind="handoff", at=now)
    session.flush()
    return ticket, sent
