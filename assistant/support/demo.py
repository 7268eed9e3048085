"""Demo practice questions: a few tickets in different states (idempotent)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from assistant.clock import utcnow
from assistant.people.models import User
from assistant.support import tickets
from assistant.support.models import Ticket

# asker email, question, topic, days ago, reply from (email) or None, resolved
DEMO_TICKETS: list[tuple[str, str, str | None, int, str | None, bool]] = [
    (
        "manager@papanui.example.nz",
        "We have a patient moving from another practice mid-quarter. Who do we tell?",
        None,
        0,
        None,
        False,
    ),
    (
        "reception@riccarton.example.nz",
        "Our last claims batch shows as rejected with no reason. Can someone check it?",
        "claims-submission",
        1,
        None,
        False,
    ),
    (
        "nurse@linwood.example.nz",
        "Can the liaison team visit to walk new staff through the portal?",
        None,
        6,
        "liaison.sione@pho.example.nz",
        False,
    ),
    (
        "reception@riccarton.example.nz",
        "Where do we find the interpreter booking line?",
        "interpreter-booking",
        10,
        "liaison.mere@pho.example.nz",
        True,
    ),
]


def load_demo_tickets(session: Session) -> None:
    users = {u.email: u for u in session.exec(select(User))}
    now = utcnow()
    for email, question, topic, days_ago, replier, resolved in DEMO_TICKETS:
        asker = users.get(email)
        if asker is None or asker.id is None or asker.practice_id is None:
            continue
        if session.exec(select(Ticket).where(Ticket.question == question)).first():
            continue
        when = now - timedelta(days=days_ago)
        ticket = tickets.create_ticket(
            session,
            practice_id=asker.practice_id,
            asker_id=asker.id,
            question=question,
            topic_id=topic,
            now=when,
        )
        staff = users.get(replier) if replier else None
        if staff is not None:
            tickets.reply(
                session,
                ticket=ticket,
                author=staff,
                body="Thanks for asking. I have sent you the details by email; "
                "call me if anything is unclear.",
                now=when + timedelta(hours=3),
            )
            if resolved:
                tickets.resolve(session, ticket=ticket, actor=staff, now=when + timedelta(hours=4))
    session.commit()
