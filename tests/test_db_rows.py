"""Rows as model instances without the ORM's per-attribute work: built new (``db.build``),
or read by a plain SELECT (``db.loaded``). Each must behave as the ORM's own would."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from assistant import db
from assistant.people.models import Role, User
from assistant.support.models import ChatConversation, ChatMessage
from tests import factories

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _conversation(session: Session) -> int:
    user = factories.user(session)
    conversation = ChatConversation(user_id=user.id or 0, created_at=AT, updated_at=AT)
    session.add(conversation)
    session.flush()
    assert conversation.id is not None
    return conversation.id


def test_a_built_row_has_the_constructors_values_and_defaults(session: Session) -> None:
    values = {"conversation_id": 3, "sender": "bot", "text": "Where do claims go?"}
    built = db.build(ChatMessage, **values, created_at=AT)
    made = ChatMessage(**values, created_at=AT)
    assert built.model_dump() == made.model_dump()
    assert built.status == "" and built.lang == "en" and built.id is None
    assert built.model_fields_set == made.model_fields_set
    # A default made by a factory is made for each row, as the constructor makes it.
    assert db.build(ChatMessage, conversation_id=3, sender="user").created_at is not None


def test_a_built_row_refuses_a_field_the_model_does_not_have() -> None:
    with pytest.raises(TypeError, match="senderr"):
        db.build(ChatMessage, conversation_id=3, senderr="bot")


def test_a_built_row_is_stored_and_changed_like_any_other(session: Session) -> None:
    conversation_id = _conversation(session)
    message = db.build(ChatMessage, conversation_id=conversation_id, sender="user", text="Hi")
    session.add(message)
    session.commit()
    assert message.id is not None
    message.feedback = "helpful"
    session.add(message)
    session.commit()
    session.expire_all()
    stored = session.get(ChatMessage, message.id)
    assert stored is not None
    assert (stored.text, stored.lang, stored.feedback) == ("Hi", "en", "helpful")


def test_a_built_row_stored_by_a_plain_insert_is_updated_later(session: Session) -> None:
    conversation_id = _conversation(session)
    message = db.build(ChatMessage, conversation_id=conversation_id, sender="bot", text="Q")
    db.add_inserted(session, message)
    message.status = "answer"
    session.commit()
    stored = session.exec(select(ChatMessage).where(ChatMessage.id == message.id)).one()
    assert stored.status == "answer"
    assert session.scalar(sa.select(sa.func.count()).select_from(ChatMessage)) == 1


def test_a_loaded_row_reads_without_a_session_and_saves_only_when_added(
    session: Session, engine: sa.Engine
) -> None:
    user = factories.user(session, role=Role.liaison, name="Aroha Liaison")
    table = User.metadata.tables["user"]
    with engine.connect() as conn:
        row = conn.execute(sa.select(table).where(table.c.id == user.id)).one()
    loaded = db.loaded(User, row._mapping)
    assert sa.inspect(loaded).detached
    assert (loaded.name, loaded.role, loaded.email) == ("Aroha Liaison", Role.liaison, user.email)
    session.refresh(user)  # as the ORM loads it
    names = [column.key for column in table.c]
    assert {c: getattr(loaded, c) for c in names} == {c: getattr(user, c) for c in names}

    loaded.name = "Not saved"  # detached: nothing is written
    session.commit()
    session.expire_all()
    assert session.get(User, user.id).name == "Aroha Liaison"  # type: ignore[union-attr]

    with Session(engine) as other:
        other.add(loaded)  # added back: an UPDATE of that row, not a new user
        other.commit()
    session.expire_all()
    assert session.get(User, user.id).name == "Not saved"  # type: ignore[union-attr]
    assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_closing_a_session_undoes_what_it_wrote_and_keeps_nothing_pending(
    session: Session, engine: sa.Engine
) -> None:
    """``close_session`` ends a transaction the route left open: whatever it wrote (a plain
    INSERT, a flushed or a pending row) is undone, and one whose flush failed is closed
    without an error, on PostgreSQL too, where one that only read is committed instead."""
    conversation_id = _conversation(session)
    session.commit()
    table = ChatMessage.metadata.tables["support_message"]
    row = {"conversation_id": conversation_id, "sender": "bot", "text": "x", "created_at": AT}
    with Session(engine) as wrote:
        wrote.connection().execute(sa.insert(table), row | {"text": "written"})
        db.close_session(wrote)
    with Session(engine) as flushed:
        flushed.add(db.build(ChatMessage, **(row | {"text": "flushed"})))
        flushed.flush()
        db.close_session(flushed)
    with Session(engine) as pending:
        pending.exec(select(ChatMessage)).all()  # a read, then a row not yet flushed
        pending.add(db.build(ChatMessage, **(row | {"text": "pending"})))
        db.close_session(pending)
    with Session(engine) as failed:
        failed.add(db.build(ChatMessage, **(row | {"conversation_id": 999_999})))
        with pytest.raises(sa.exc.IntegrityError):
            failed.flush()  # no such conversation: the session must be rolled back
        db.close_session(failed)
    with Session(engine) as read_only:
        assert read_only.exec(select(ChatMessage)).all() == []
        db.close_session(read_only)
        assert not read_only.in_transaction()
    assert session.scalar(sa.select(sa.func.count()).select_from(table)) == 0
