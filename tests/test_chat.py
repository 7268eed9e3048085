"""The practice chat as plain functions: ask, choose, feedback, asking for a person, hand-off."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from assistant.errors import Forbidden, Invalid
from assistant.knowledge.models import KnowledgeUsage
from assistant.people.models import Role, User
from assistant.support import chat, tickets
from assistant.support.models import ChatConversation, ChatMessage, Ticket
from tests import factories
from tests.chat_data import CRISIS, EMERGENCY, KNOWN, KNOWN_ID, UNKNOWN, offer_choice

# --- the chat without HTTP ---------------------------------------------------------------


@pytest.fixture
def asker(session: Session) -> User:
    practice = factories.practice(session)
    liaison = factories.user(session, Role.liaison, name="Mere")
    factories.portfolio(session, practice, liaison)
    return factories.user(session, Role.practice_staff, practice_id=practice.id, name="Rita")


def usage(session: Session) -> list[tuple[str, str]]:
    rows = session.exec(select(KnowledgeUsage).order_by(col(KnowledgeUsage.id))).all()
    return [(row.entry_id, row.kind) for row in rows]


def test_a_known_question_gets_an_answer_and_is_counted(session: Session, asker: User) -> None:
    turn = chat.ask(session, user=asker, text=KNOWN, lang="en")
    assert (turn.question.sender, turn.question.text) == ("user", KNOWN)
    assert (turn.reply.status, turn.reply.entry_id) == ("answer", KNOWN_ID)
    assert usage(session) == [(KNOWN_ID, "answered")]
    assert [m.id for m in chat.history(session, user=asker)] == [turn.question.id, turn.reply.id]


def test_feedback_is_recorded_once(session: Session, asker: User) -> None:
    turn = chat.ask(session, user=asker, text=KNOWN, lang="en")
    assert turn.reply.id is not None
    chat.give_feedback(session, user=asker, message_id=turn.reply.id, helpful=False)
    again = chat.give_feedback(session, user=asker, message_id=turn.reply.id, helpful=True)
    assert again.feedback == "unhelpful"
    assert usage(session) == [(KNOWN_ID, "answered"), (KNOWN_ID, "unhelpful")]


def test_an_unknown_question_offers_the_hand_off(session: Session, asker: User) -> None:
    turn = chat.ask(session, user=asker, text=UNKNOWN, lang="en")
    assert turn.reply.status == "abstain"
    assert turn.reply.entry_id is None
    assert turn.reply.text == UNKNOWN  # prefilled in the hand-off form
    assert usage(session) == []


@pytest.mark.parametrize(("text", "kind"), [(EMERGENCY, "emergency"), (CRISIS, "crisis-support")])
def test_safety_questions_get_the_safety_card(
    session: Session, asker: User, text: str, kind: str
) -> None:
    turn = chat.ask(session, user=asker, text=text, lang="en")
    assert (turn.reply.status, turn.reply.entry_id) == ("safety", kind)


@pytest.mark.parametrize(
    ("text", "wants"),
    [
        ("Can I talk to someone please", True),
        ("I'd like to speak to my liaison", True),
        ("speak with a person about claims", True),
        ("Please CALL ME back", True),
        ("can someone ring the practice", True),
        ("a real person please", True),
        ("How do I submit a claim?", False),
        ("talking points for the board", False),
        ("our liaison meeting notes", False),
    ],
)
def test_asking_for_a_person(text: str, wants: bool) -> None:
    assert chat.wants_person(text) is wants


def test_asking_for_a_person_offers_the_hand_off_with_a_topic_guess(
    session: Session, asker: User
) -> None:
    turn = chat.ask(
        session, user=asker, text="I want to talk to someone about submitting a claim", lang="en"
    )
    assert turn.reply.status == "person"
    assert turn.reply.id is not None
    ticket, _sent = chat.hand_off(
        session, user=asker, question=turn.reply.text, message_id=turn.reply.id
    )
    assert ticket.topic_id == KNOWN_ID


def test_hand_off_creates_a_routed_ticket_with_the_transcript(
    session: Session, asker: User
) -> None:
    chat.ask(session, user=asker, text=KNOWN, lang="en")
    turn = chat.ask(session, user=asker, text=UNKNOWN, lang="en")
    assert turn.reply.id is not None
    ticket, sent = chat.hand_off(
        session,
        user=asker,
        question=UNKNOWN + " (for our garden)",
        detail="We are in a hurry.",
        message_id=turn.reply.id,
    )
    assert (ticket.practice_id, ticket.asker_id) == (asker.practice_id, asker.id)
    assert ticket.question == UNKNOWN + " (for our garden)"
    assert ticket.detail == "We are in a hurry."
    assert ticket.topic_id is None  # unknown: to the practice's liaison
    assert ticket.route_reason == "portfolio"
    assert "Practice: " + KNOWN in ticket.transcript
    assert "Answer shown: " in ticket.transcript and KNOWN_ID in ticket.transcript
    assert "Practice: " + UNKNOWN in ticket.transcript
    # The reply that offered the hand-off now says where the question went.
    assert (sent.id, sent.ticket_id) == (turn.reply.id, ticket.id)
    assert "Sent to the PHO as question #" in chat.transcript(chat.history(session, user=asker))


def test_a_hand_off_sent_twice_makes_one_ticket(session: Session, asker: User) -> None:
    """A reload or a second press sends the same form again: one question, one ticket."""
    turn = chat.ask(session, user=asker, text=UNKNOWN, lang="en")
    assert turn.reply.id is not None
    first, _note = chat.hand_off(session, user=asker, question=UNKNOWN, message_id=turn.reply.id)
    liaison = factories.user(session, Role.liaison)
    tickets.resolve(session, ticket=first, actor=liaison)  # even once it is resolved
    again, note = chat.hand_off(
        session, user=asker, question=UNKNOWN + " again", message_id=turn.reply.id
    )
    assert again.id == first.id and note.ticket_id == first.id
    assert len(session.exec(select(Ticket)).all()) == 1


def test_unhelpful_answer_hand_off_counts_for_the_entry(session: Session, asker: User) -> None:
    turn = chat.ask(session, user=asker, text=KNOWN, lang="en")
    assert turn.reply.id is not None
    chat.give_feedback(session, user=asker, message_id=turn.reply.id, helpful=False)
    ticket, _sent = chat.hand_off(session, user=asker, question=KNOWN, message_id=turn.reply.id)
    assert ticket.topic_id == KNOWN_ID
    assert usage(session)[-1] == (KNOWN_ID, "handoff")


def test_choosing_one_of_two_shows_that_answer(session: Session, asker: User) -> None:
    offered = offer_choice(session, asker)
    assert offered.id is not None
    assert chat.best_guess_topic(offered) is None  # sent from here, both were turned down
    with pytest.raises(Invalid):
        chat.choose(session, user=asker, message_id=offered.id, entry_id="training")
    answer = chat.choose(session, user=asker, message_id=offered.id, entry_id=KNOWN_ID)
    assert (answer.status, answer.entry_id) == ("answer", KNOWN_ID)
    assert usage(session) == [(KNOWN_ID, "answered")]


def test_a_user_cannot_act_on_someone_elses_messages(session: Session, asker: User) -> None:
    turn = chat.ask(session, user=asker, text=KNOWN, lang="en")
    assert turn.reply.id is not None
    stranger = factories.user(session, Role.practice_staff, practice_id=asker.practice_id)
    with pytest.raises(Forbidden):
        chat.give_feedback(session, user=stranger, message_id=turn.reply.id, helpful=True)
    with pytest.raises(Forbidden):
        chat.hand_off(session, user=stranger, question="x", message_id=turn.reply.id)
    assert chat.history(session, user=stranger) == []


@pytest.mark.parametrize("text", ["", "   ", "x" * 1001])
def test_empty_or_overlong_questions_are_refused(session: Session, asker: User, text: str) -> None:
    with pytest.raises(Invalid):
        chat.ask(session, user=asker, text=text, lang="en")


def test_empty_hand_off_is_refused(session: Session, asker: User) -> None:
    with pytest.raises(Invalid, match="Please write your question"):
        chat.hand_off(session, user=asker, question="  ")
    assert session.exec(select(Ticket)).all() == []


@pytest.mark.parametrize(
    ("text", "status"),
    [("newborn form signing rules", "suggest"), ("when are claims paid", "choose")],
)
def test_a_hand_off_after_turning_down_what_was_offered_goes_to_the_practices_liaison(
    session: Session, asker: User, text: str, status: str
) -> None:
    """Sent with "Neither: ask the liaison team": the entries offered were turned down, so none
    of them is the question's topic or decides its team (one owned by the MSO sent it to the
    MSO's queue, out of the practice's liaison's sight); the transcript shows what was offered."""
    liaison = session.exec(select(User).where(User.role == Role.liaison)).one()  # Mere
    turn = chat.ask(session, user=asker, text=text, lang="en")
    assert turn.reply.status == status and turn.reply.id is not None
    offered = chat.candidates_of(turn.reply)
    ticket, _sent = chat.hand_off(session, user=asker, question=text, message_id=turn.reply.id)
    assert ticket.topic_id is None
    assert (ticket.team, ticket.assignee_id) == ("liaison", liaison.id)
    assert all(f"[{c.entry_id}]" in ticket.transcript for c in offered)


def test_a_hand_off_stores_the_ticket_and_its_chat_note_together(
    session: Session, asker: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure between the ticket and the note in the chat loses neither: nothing is kept."""
    turn = chat.ask(session, user=asker, text=UNKNOWN, lang="en")
    assert turn.reply.id is not None
    session.commit()  # the ask was its own request

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(chat, "record_usage", broken)
    monkeypatch.setattr(chat, "best_guess_topic", lambda _m: "training")  # so usage is recorded
    with pytest.raises(RuntimeError):
        chat.hand_off(session, user=asker, question=UNKNOWN, message_id=turn.reply.id)
    session.rollback()
    assert session.exec(select(Ticket)).all() == []
    offered = session.get(ChatMessage, turn.reply.id)
    assert offered is not None and offered.ticket_id is None  # the hand-off is still offered


def test_two_first_questions_at_once_share_one_conversation(
    session: Session, engine: Engine, asker: User
) -> None:
    """Two tabs ask their first question at the same moment: both are answered and kept, in
    the person's one conversation (the second waits for the first's transaction, then joins
    its conversation instead of failing on the one-conversation-per-person rule)."""
    session.commit()
    first = Session(engine)
    chat.ask(first, user=asker, text=KNOWN, lang="en")  # its transaction holds the new row
    failed: list[BaseException] = []

    def second_tab() -> None:
        with Session(engine) as other:
            try:
                chat.ask(other, user=asker, text=UNKNOWN, lang="en")
                other.commit()
            except BaseException as exc:  # reported to the test below
                failed.append(exc)

    tab = threading.Thread(target=second_tab, daemon=True)
    tab.start()
    time.sleep(0.5)  # it waits for the first tab's transaction
    first.commit()
    first.close()
    deadline = time.monotonic() + 30  # polled: a timed join never ends under libfaketime
    while tab.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not tab.is_alive() and failed == []
    session.expire_all()
    texts = [m.text for m in chat.history(session, user=asker) if m.sender == "user"]
    assert sorted(texts) == sorted([KNOWN, UNKNOWN])
    assert len(session.exec(select(ChatConversation)).all()) == 1
