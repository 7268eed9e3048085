"""Emails about tickets, queued with the event that causes them: a new question for the person
or queue it was routed to, an overdue one for the team, a reply for the asker."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, select

from assistant.clock import utcnow
from assistant.notify.models import EmailKind, QueuedEmail
from assistant.notify.preferences import set_preferences
from assistant.notify.worker import email_worker_for
from assistant.people.models import Practice, Role, User
from assistant.settings import Settings
from assistant.support import notifications, tickets
from assistant.support.models import Ticket
from tests import factories
from tests.conftest import Client
from tests.fake_smtp import running
from tests.mail import smtp_settings


def emails(session: Session, kind: EmailKind | None = None) -> list[QueuedEmail]:
    session.expire_all()
    stmt = select(QueuedEmail).order_by(col(QueuedEmail.id))
    if kind is not None:
        stmt = stmt.where(QueuedEmail.kind == kind.value)
    return list(session.exec(stmt))


def turn_off(session: Session, user: User, kind: EmailKind) -> None:
    assert user.id is not None
    set_preferences(session, user_id=user.id, role=user.role, enabled={kind: False})
    session.commit()


@pytest.fixture
def practice(session: Session) -> Practice:
    return factories.practice(session, name="Papanui Medical")


@pytest.fixture
def asker(session: Session, practice: Practice) -> User:
    return factories.user(session, practice_id=practice.id, name="Rita")


def ask(
    session: Session, practice: Practice, asker: User, *, commit: bool = True, **kw: Any
) -> Ticket:
    """A question from ``asker``; committed unless the test keeps the transaction open."""
    assert practice.id is not None and asker.id is not None
    ticket = tickets.create_ticket(
        session, practice_id=practice.id, asker_id=asker.id, question="Claim rejected?", **kw
    )
    if commit:
        session.commit()
    return ticket


def test_the_inverse_of_the_queue_roles_is_kept_in_step() -> None:
    assert {role: team for team, role in notifications.QUEUE_ROLES.items()} == tickets.ROLE_TEAMS


def test_a_new_question_routed_to_a_liaison_emails_that_liaison_only(
    session: Session, practice: Practice, asker: User
) -> None:
    liaison = factories.user(session, Role.liaison)
    factories.user(session, Role.liaison)  # a colleague: not routed to, no email
    factories.portfolio(session, practice, liaison)
    ticket = ask(session, practice, asker)
    [email] = emails(session)
    assert (email.kind, email.user_id, email.to) == ("ticket_new", liaison.id, liaison.email)
    params = json.loads(email.params)
    assert params == {
        "ticket_id": ticket.id,
        "path": f"/inbox/tickets/{ticket.id}",
        "practice_id": practice.id,  # the email names it when it is written
    }
    assert "Claim rejected" not in email.params  # a link, never the question


def test_a_new_question_in_a_team_queue_emails_each_member_who_wants_it(
    session: Session, practice: Practice, asker: User
) -> None:
    # No portfolio: the liaison queue.
    wants = factories.user(session, Role.liaison)
    does_not = factories.user(session, Role.liaison)
    factories.user(session, Role.liaison, away=True)
    factories.user(session, Role.liaison, active=False)
    factories.user(session, Role.coordinator)  # another queue
    turn_off(session, does_not, EmailKind.ticket_new)
    ask(session, practice, asker)
    assert [e.user_id for e in emails(session)] == [wants.id]


def test_the_email_is_stored_with_the_ticket_or_not_at_all(
    session: Session, practice: Practice, asker: User
) -> None:
    factories.portfolio(session, practice, factories.user(session, Role.liaison))
    ask(session, practice, asker, commit=False)
    assert len(session.exec(select(QueuedEmail)).all()) == 1
    session.rollback()
    assert emails(session) == []
    assert session.exec(select(Ticket)).all() == []


def test_a_reply_emails_the_asker_unless_they_turned_it_off(
    session: Session, practice: Practice, asker: User
) -> None:
    liaison = factories.user(session, Role.liaison)
    factories.portfolio(session, practice, liaison)
    ticket = ask(session, practice, asker)
    tickets.reply(session, ticket=ticket, author=liaison, body="Resubmit it.")
    [email] = emails(session, EmailKind.ticket_reply)
    assert (email.user_id, json.loads(email.params)["path"]) == (
        asker.id,
        f"/chat/questions/{ticket.id}",
    )
    turn_off(session, asker, EmailKind.ticket_reply)
    tickets.reply(session, ticket=ticket, author=liaison, body="And one more thing.")
    assert len(emails(session, EmailKind.ticket_reply)) == 1


def test_an_overdue_question_emails_the_team_and_who_held_it_once(
    session: Session, practice: Practice, asker: User
) -> None:
    holder = factories.user(session, Role.liaison)
    colleague = factories.user(session, Role.liaison)
    factories.portfolio(session, practice, holder)
    ticket = ask(session, practice, asker)
    later = ticket.due_at + timedelta(minutes=1)
    assert tickets.escalate_overdue(session, now=later) == [ticket]
    overdue = emails(session, EmailKind.ticket_overdue)
    assert sorted(e.user_id or 0 for e in overdue) == sorted([holder.id or 0, colleague.id or 0])
    assert tickets.escalate_overdue(session, now=later + timedelta(hours=1)) == []
    assert len(emails(session, EmailKind.ticket_overdue)) == 2


def test_a_reply_in_the_inbox_reaches_the_askers_mailbox(
    client: Client,
    login: Any,
    session: Session,
    settings: Settings,
    practice: Practice,
    asker: User,
) -> None:
    liaison = factories.user(session, Role.liaison)
    factories.portfolio(session, practice, liaison)
    ticket = ask(session, practice, asker)
    login(liaison)
    response = client.post(f"/inbox/tickets/{ticket.id}/reply", data={"body": "Yes."})
    assert response.status_code == 303
    with running() as smtp:
        stats = email_worker_for(smtp_settings(settings, smtp.port)).drain(utcnow())
        assert stats.sent == 2  # the liaison's new-question email and the asker's reply email
        by_rcpt = {r.rcpt_tos[0]: r for r in smtp.received}
    reply = by_rcpt[asker.email]
    assert reply.message["Subject"] == "The PHO has replied to your question"
    assert f"http://testserver/chat/questions/{ticket.id}" in reply.body
    assert "Yes." not in reply.body
    assert by_rcpt[liaison.email].message["Subject"] == "New question from Papanui Medical"
