"""Questions the practice chat tests ask, and a close call stored as the chat stores it."""

from __future__ import annotations

import json

from sqlmodel import Session

from assistant.people.models import User
from assistant.support import chat
from assistant.support.models import ChatMessage

KNOWN = "How do I submit a claim?"
KNOWN_ID = "claims-submission"
UNKNOWN = "What is the weather on Mars?"
EMERGENCY = "My patient has chest pain and cannot breathe"
CRISIS = "My patient says he wants to kill himself"


def offer_choice(session: Session, user: User) -> ChatMessage:
    """A close call as the matcher reports it, stored as the chat stores it."""
    conversation = chat.conversation_for(session, user=user)
    assert conversation.id is not None
    offered = ChatMessage(
        conversation_id=conversation.id,
        sender="bot",
        text="claims or payments",
        status="choose",
        candidates=json.dumps(
            [
                {"entry_id": "payment-schedule", "title": "Payments", "score": 70.0},
                {"entry_id": KNOWN_ID, "title": "Claims", "score": 68.0},
            ]
        ),
    )
    session.add(offered)
    session.commit()
    session.refresh(offered)
    return offered
