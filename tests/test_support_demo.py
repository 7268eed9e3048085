"""Demo questions load once, routed like real ones."""

from __future__ import annotations

from sqlmodel import Session, col, select

from assistant.demo import load_demo
from assistant.people.models import User
from assistant.support.demo import DEMO_TICKETS
from assistant.support.models import Ticket, TicketStatus


def test_demo_tickets_load_once_and_are_routed(session: Session) -> None:
    questions = [row[1] for row in DEMO_TICKETS]
    mine = select(Ticket).where(col(Ticket.question).in_(questions))
    load_demo(session, password="demo-pass-2026")
    first = session.exec(mine).all()
    load_demo(session, password="demo-pass-2026")
    assert len(session.exec(mine).all()) == len(first) == len(DEMO_TICKETS)
    mere = session.exec(select(User).where(User.email == "liaison.mere@pho.example.nz")).one()
    papanui = next(t for t in first if "moving from another practice" in t.question)
    assert papanui.assignee_id == mere.id
    assert any(t.status == TicketStatus.resolved for t in first)
