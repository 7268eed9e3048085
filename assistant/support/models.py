"""Chat conversations, tickets and their events, and draft knowledge entries."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from assistant.clock import utcnow


class TicketStatus(StrEnum):
    open = "open"
    resolved = "resolved"


class EventKind(StrEnum):
    created = "created"
    reply = "reply"  # seen by the practice
    followup = "followup"  # the practice adds to its question
    note = "note"  # internal: never shown to the practice
    assigned = "assigned"
    escalated = "escalated"
    resolved = "resolved"
    reopened = "reopened"


class ChatConversation(SQLModel, table=True):
    """One running conversation per practice user."""

    __tablename__ = "support_conversation"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", unique=True)
    practice_id: int | None = Field(default=None, foreign_key="practice.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ChatMessage(SQLModel, table=True):
    __tablename__ = "support_message"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="support_conversation.id", index=True)
    sender: str = Field(sa_type=sa.String(10))  # "user" | "bot"
    text: str = Field(default="", max_length=4000)
    # Bot messages: the matcher's verdict and what it offered.
    status: str = Field(
        default="", sa_type=sa.String(20)
    )  # answer|choose|abstain|suggest|safety|person|sent
    entry_id: str | None = Field(default=None, max_length=120)
    candidates: str = Field(default="")  # JSON list of {"entry_id", "title", "score"}
    ticket_id: int | None = Field(default=None, foreign_key="support_ticket.id")
    feedback: str = Field(default="", sa_type=sa.String(20))  # "" | helpful | unhelpful
    lang: str = Field(default="en", max_length=10)
    created_at: datetime = Field(default_factory=utcnow)


class Ticket(SQLModel, table=True):
    __tablename__ = "support_ticket"

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    asker_id: int = Field(foreign_key="user.id", index=True)
    question: str = Field(min_length=1, max_length=2000)
    detail: str = Field(default="", max_length=4000)
    transcript: str = Field(default="")
    topic_id: str | None = Field(default=None, max_length=120)
    status: TicketStatus = Field(default=TicketStatus.open, sa_type=sa.String(20), index=True)
    # The queue the ticket sits in (a TeamKind value) and, optionally, the person holding it.
    team: str = Field(sa_type=sa.String(20), index=True)
    assignee_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    route_reason: str = Field(default="", sa_type=sa.String(40))
    due_at: datetime = Field(index=True)
    escalated_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    resolved_at: datetime | None = None


class TicketEvent(SQLModel, table=True):
    __tablename__ = "support_ticket_event"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="support_ticket.id", index=True)
    kind: EventKind = Field(sa_type=sa.String(20))
    author_id: int | None = Field(default=None, foreign_key="user.id")
    body: str = Field(default="", max_length=8000)
    # For assignment changes: where it went.
    to_team: str | None = Field(default=None, sa_type=sa.String(20))
    to_user_id: int | None = Field(default=None, foreign_key="user.id")
    # For replies: when the asker first saw it (None: unread).
    read_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class KnowledgeDraft(SQLModel, table=True):
    """A reply saved for review as a knowledge entry; never served until a reviewer adds it."""

    __tablename__ = "support_knowledge_draft"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int | None = Field(default=None, foreign_key="support_ticket.id")
    event_id: int | None = Field(default=None, foreign_key="support_ticket_event.id")
    title: str = Field(min_length=1, max_length=200)
    body_markdown: str = Field(min_length=1, max_length=8000)
    topic_id: str | None = Field(default=None, max_length=120)
    author_id: int | None = Field(default=None, foreign_key="user.id")
    status: str = Field(default="draft", sa_type=sa.String(20))  # draft | published | discarded
    created_at: datetime = Field(default_factory=utcnow)
