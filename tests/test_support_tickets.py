"""Working a ticket: replies, notes, reassigning, resolving, escalation and draft answers."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from assistant.audit import events_for
from assistant.clock import NZ
from assistant.errors import Conflict, Forbidden, Invalid
from assistant.matcher import match
from assistant.notify.models import EmailKind, QueuedEmail
from assistant.people.models import Practice, Role, User
from assistant.schedule import escalation_step
from assistant.settings import Settings
from assistant.support import inbox, tickets
from assistant.support.models import EventKind, KnowledgeDraft, Ticket, TicketStatus
from tests import factories

MONDAY_10AM = datetime(2026, 11, 23, 10, 0, tzinfo=NZ).astimezone(UTC)


@dataclass
class World:
    practice: Practice
    other_practice: Practice
    asker: User
    colleague: User
    outsider: User
    liaison: User
    other_liaison: User
    coordinator: User
    mso: User
    admin: User


@pytest.fixture
def world(session: Session) -> World:
    practice = factories.practice(session)
    other_practice = factories.practice(session)
    liaison = factories.user(session, Role.liaison, name="Mere")
    factories.portfolio(session, practice, liaison)
    return World(
        practice=practice,
        other_practice=other_practice,
        asker=factories.user(session, practice_id=practice.id, name="Rita"),
        colleague=factories.user(session, practice_id=practice.id),
        outsider=factories.user(session, practice_id=other_practice.id),
        liaison=liaison,
        other_liaison=factories.user(session, Role.liaison, name="Sione"),
        coordinator=factories.user(session, Role.coordinator, name="Chris"),
        mso=factories.user(session, Role.mso, name="Morgan"),
        admin=factories.user(session, Role.admin),
    )


def new_ticket(session: Session, w: World, **kw: object) -> Ticket:
    assert w.practice.id is not None and w.asker.id is not None
    args: dict[str, object] = {"question": "Why was our claim rejected?", "now": MONDAY_10AM}
    ticket = tickets.create_ticket(
        session, practice_id=w.practice.id, asker_id=w.asker.id, **(args | kw)
    )
    session.commit()
    return ticket


def test_reply_is_seen_by_the_practice_but_a_note_never_is(session: Session, world: World) -> None:
    ticket = new_ticket(session, world)
    tickets.reply(session, ticket=ticket, author=world.liaison, body="Resubmit with the NHI.")
    tickets.add_note(session, ticket=ticket, author=world.liaison, body="Third time this month")
    practice_view = inbox.events(session, ticket=ticket, for_practice=True)
    staff_view = inbox.events(session, ticket=ticket, for_practice=False)
    assert [e.body for e in practice_view if e.body] == ["Resubmit with the NHI."]
    assert "Third time this month" in [e.body for e in staff_view]


def test_unread_replies_count_for_the_asker_until_opened(session: Session, world: World) -> None:
    ticket = new_ticket(session, world)
    tickets.reply(session, ticket=ticket, author=world.liaison, body="One")
    tickets.reply(session, ticket=ticket, author=world.liaison, body="Two")
    assert inbox.unread_reply_count(session, user=world.asker) == 2
    assert inbox.unread_reply_count(session, user=world.colleague) == 0
    # A colleague opening it does not clear the asker's badge.
    assert tickets.mark_replies_read(session, ticket=ticket, reader=world.colleague) == 0
    assert tickets.mark_replies_read(session, ticket=ticket, reader=world.asker) == 2
    assert inbox.unread_reply_count(session, user=world.asker) == 0


@pytest.mark.parametrize("body", ["", "   "])
def test_empty_reply_is_refused(session: Session, world: World, body: str) -> None:
    ticket = new_ticket(session, world)
    with pytest.raises(Invalid, match="Please write something first"):
        tickets.reply(session, ticket=ticket, author=world.liaison, body=body)


def test_reassign_to_a_person_moves_it_to_their_team(session: Session, world: World) -> None:
    ticket = new_ticket(session, world)
    tickets.reassign(session, ticket=ticket, actor=world.liaison, to_user_id=world.mso.id)
    assert (ticket.assignee_id, ticket.team) == (world.mso.id, "mso")
    tickets.reassign(session, ticket=ticket, actor=world.mso, to_team="coordination")
    assert (ticket.assignee_id, ticket.team) == (None, "coordination")
    kinds = [e.kind for e in inbox.events(session, ticket=ticket, for_practice=False)]
    assert kinds == [EventKind.created, EventKind.assigned, EventKind.assigned]


@pytest.mark.parametrize("target", [{"to_team": "pcw"}, {"to_team": None}, {"to_user_id": -1}])
def test_reassign_needs_an_inbox_person_or_team(
    session: Session, world: World, target: dict[str, object]
) -> None:
    ticket = new_ticket(session, world)
    with pytest.raises(Invalid):
        tickets.reassign(session, ticket=ticket, actor=world.liaison, **target)


def test_cannot_reassign_to_practice_staff(session: Session, world: World) -> None:
    ticket = new_ticket(session, world)
    with pytest.raises(Invalid, match="works in the inbox"):
        tickets.reassign(session, ticket=ticket, actor=world.liaison, to_user_id=world.asker.id)


def test_resolve_and_reopen_with_a_fresh_due_time(session: Session, world: World) -> None:
    ticket = new_ticket(session, world)
    tickets.resolve(session, ticket=ticket, actor=world.liaison, now=MONDAY_10AM)
    assert ticket.status == TicketStatus.resolved
    with pytest.raises(Conflict):
        tickets.resolve(session, ticket=ticket, actor=world.liaison)
    friday = datetime(2026, 11, 27, 11, 0, tzinfo=NZ).astimezone(UTC)
    tickets.reopen(session, ticket=ticket, actor=world.liaison, now=friday)
    assert ticket.status == TicketStatus.open and ticket.resolved_at is None
    assert ticket.due_at.astimezone(NZ) == datetime(2026, 11, 30, 17, 0, tzinfo=NZ)
    with pytest.raises(Conflict):
        tickets.reopen(session, ticket=ticket, actor=world.liaison)


def test_overdue_tickets_are_escalated_to_the_team_queue_once(
    session: Session, world: World
) -> None:
    late = new_ticket(session, world)
    on_time = new_ticket(session, world, now=MONDAY_10AM + timedelta(days=1))
    done = new_ticket(session, world)
    tickets.resolve(session, ticket=done, actor=world.liaison)
    wednesday = datetime(2026, 11, 25, 9, 0, tzinfo=NZ).astimezone(UTC)

    escalated = tickets.escalate_overdue(session, now=wednesday)

    assert [t.id for t in escalated] == [late.id]
    session.refresh(late)
    session.refresh(on_time)
    assert (late.assignee_id, late.team, late.escalated_at) == (None, "liaison", wednesday)
    assert on_time.assignee_id == world.liaison.id
    assert tickets.escalate_overdue(session, now=wednesday + timedelta(hours=1)) == []
    actions = [e.action for e in events_for(session, "ticket", late.id)]
    assert actions == ["created", "escalated"]
    last = inbox.events(session, ticket=late, for_practice=False)[-1]
    assert (last.kind, last.to_user_id) == (EventKind.escalated, world.liaison.id)


def test_inbox_views_flag_and_the_schedule_escalates_overdue(
    session: Session, world: World, settings: Settings
) -> None:
    late = new_ticket(session, world)
    monday_11am = MONDAY_10AM + timedelta(hours=1)
    wednesday = datetime(2026, 11, 25, 9, 0, tzinfo=NZ).astimezone(UTC)
    mine_before = inbox.inbox(session, user=world.liaison, view="mine", now=monday_11am)
    assert [r.ticket.id for r in mine_before] == [late.id]
    # Reading the inbox after the due time changes nothing: it is flagged overdue ...
    still = inbox.inbox(session, user=world.liaison, view="mine", now=wednesday)
    assert [(r.ticket.id, r.overdue) for r in still] == [(late.id, True)]
    session.refresh(late)
    assert (late.assignee_id, late.escalated_at) == (world.liaison.id, None)
    # ... and the worker's scheduled step escalates: out of "mine", into the team and overdue.
    escalation_step(settings)(wednesday)
    session.expire_all()
    mine = inbox.inbox(session, user=world.liaison, view="mine", now=wednesday)
    team = inbox.inbox(session, user=world.other_liaison, view="team", now=wednesday)
    overdue = inbox.inbox(session, user=world.other_liaison, view="overdue", now=wednesday)
    assert mine.items == []
    assert [(r.ticket.id, r.overdue) for r in team] == [(late.id, True)]
    assert [r.ticket.id for r in overdue] == [late.id]
    assert inbox.inbox(session, user=world.coordinator, view="overdue", now=wednesday).items == []
    assert len(inbox.inbox(session, user=world.admin, view="overdue", now=wednesday)) == 1


def test_team_views_are_per_team(session: Session, world: World) -> None:
    ticket = new_ticket(session, world)
    tickets.reassign(session, ticket=ticket, actor=world.liaison, to_team="mso")
    assert [r.ticket.id for r in inbox.inbox(session, user=world.mso, view="team")] == [ticket.id]
    assert inbox.inbox(session, user=world.liaison, view="team").items == []
    assert inbox.view_counts(session, user=world.mso)["team"] == 1


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("asker", True),
        ("colleague", True),
        ("outsider", False),
        ("liaison", True),
        ("other_liaison", True),  # same team
        ("coordinator", False),
        ("mso", False),
        ("admin", True),
    ],
)
def test_who_may_see_a_liaison_ticket(session: Session, world: World, who: str, sees: bool) -> None:
    ticket = new_ticket(session, world)
    user: User = getattr(world, who)
    assert inbox.can_view(user, ticket) is sees
    assert ticket.id is not None
    if sees:
        assert inbox.get_ticket(session, user=user, ticket_id=ticket.id).id == ticket.id
        assert events_for(session, "ticket", ticket.id)[-1].action == "viewed"
    else:
        with pytest.raises(Forbidden):
            inbox.get_ticket(session, user=user, ticket_id=ticket.id)


def test_practice_lists_only_its_own_questions(session: Session, world: World) -> None:
    ticket = new_ticket(session, world)
    assert [r.ticket.id for r in inbox.practice_tickets(session, user=world.colleague)] == [
        ticket.id
    ]
    assert inbox.practice_tickets(session, user=world.outsider) == []


def test_every_change_is_audited(session: Session, world: World) -> None:
    ticket = new_ticket(session, world)
    reply = tickets.reply(session, ticket=ticket, author=world.liaison, body="Answer")
    tickets.add_note(session, ticket=ticket, author=world.liaison, body="Note")
    tickets.reassign(session, ticket=ticket, actor=world.liaison, to_team="liaison")
    tickets.save_draft(session, ticket=ticket, event=reply, author=world.liaison)
    tickets.resolve(session, ticket=ticket, actor=world.liaison)
    tickets.reopen(session, ticket=ticket, actor=world.liaison)
    trail = events_for(session, "ticket", ticket.id)
    assert [e.action for e in trail] == [
        "created",
        "reply",
        "note",
        "assigned",
        "drafted",
        "resolved",
        "reopened",
    ]
    assert {e.actor_id for e in trail[1:]} == {world.liaison.id}
    # The trail carries ids, not the words of the question or reply.
    assert all("Answer" not in e.detail and "claim" not in e.detail for e in trail)


def test_a_saved_draft_is_not_served_until_reviewed(session: Session, world: World) -> None:
    ticket = new_ticket(session, world, question="How do we book the zorbalux machine?")
    reply = tickets.reply(
        session, ticket=ticket, author=world.liaison, body="Book the zorbalux machine by phone."
    )
    draft = tickets.save_draft(session, ticket=ticket, event=reply, author=world.liaison)
    stored = session.exec(select(KnowledgeDraft)).one()
    assert (stored.id, stored.status, stored.title) == (
        draft.id,
        "draft",
        "How do we book the zorbalux machine?",
    )
    assert stored.body_markdown == "Book the zorbalux machine by phone."
    assert match("book the zorbalux machine", audience="practice").status == "abstain"


def test_only_replies_become_drafts(session: Session, world: World) -> None:
    ticket = new_ticket(session, world)
    note = tickets.add_note(session, ticket=ticket, author=world.liaison, body="internal")
    with pytest.raises(Invalid):
        tickets.save_draft(session, ticket=ticket, event=note, author=world.liaison)


def test_practice_follow_up_reopens_a_resolved_question(session: Session, world: World) -> None:
    ticket = new_ticket(session, world)
    tickets.resolve(session, ticket=ticket, actor=world.liaison, now=MONDAY_10AM)
    friday = datetime(2026, 11, 27, 11, 0, tzinfo=NZ).astimezone(UTC)
    tickets.follow_up(
        session, ticket=ticket, author=world.colleague, body="Still rejected.", now=friday
    )
    assert ticket.status == TicketStatus.open
    assert ticket.due_at.astimezone(NZ) == datetime(2026, 11, 30, 17, 0, tzinfo=NZ)
    seen = inbox.events(session, ticket=ticket, for_practice=True)
    assert [(e.kind, e.body) for e in seen][-2:] == [
        (EventKind.followup, "Still rejected."),
        (EventKind.reopened, ""),
    ]


def test_escalate_overdue_command(
    session: Session, world: World, monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    from typer.testing import CliRunner

    from assistant.cli import app
    from assistant.settings import get_settings

    late = new_ticket(session, world, now=datetime.now(UTC) - timedelta(days=7))
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("ENVIRONMENT", "test")
    get_settings.cache_clear()
    try:
        first = CliRunner().invoke(app, ["escalate-overdue"])
        again = CliRunner().invoke(app, ["escalate-overdue"])
    finally:
        get_settings.cache_clear()
    assert first.exit_code == 0, first.output
    assert "Escalated 1 overdue question(s)." in first.output
    assert "Escalated 0 overdue question(s)." in again.output
    session.refresh(late)
    assert late.assignee_id is None and late.escalated_at is not None


def reply_emails(session: Session) -> list[QueuedEmail]:
    session.expire_all()
    kind = EmailKind.ticket_reply.value
    return list(session.exec(select(QueuedEmail).where(QueuedEmail.kind == kind)))


def test_the_same_reply_sent_again_soon_is_the_reply_already_stored(
    session: Session, world: World
) -> None:
    ticket = new_ticket(session, world)
    first = tickets.reply(
        session, ticket=ticket, author=world.liaison, body="Resubmit it.", now=MONDAY_10AM
    )
    session.commit()
    again = tickets.reply(
        session,
        ticket=ticket,
        author=world.liaison,
        body="  Resubmit it.\n",
        now=MONDAY_10AM + timedelta(minutes=9),
        and_resolve=True,
    )
    session.commit()
    assert again.id == first.id
    practice_view = inbox.events(session, ticket=ticket, for_practice=True)
    assert [e.body for e in practice_view if e.kind == EventKind.reply] == ["Resubmit it."]
    assert len(reply_emails(session)) == 1
    assert ticket.status == TicketStatus.resolved  # the second copy also asked to resolve it
    tickets.save_draft(session, ticket=ticket, event=first, author=world.liaison)
    tickets.save_draft(session, ticket=ticket, event=again, author=world.liaison)
    assert len(session.exec(select(KnowledgeDraft)).all()) == 1


@pytest.mark.parametrize(
    ("author", "body", "later"),
    [
        ("liaison", "Resubmit it with the NHI.", timedelta(minutes=1)),
        ("other_liaison", "Resubmit it.", timedelta(minutes=1)),
        ("liaison", "Resubmit it.", timedelta(minutes=10, seconds=1)),
    ],
    ids=["other words", "another person", "after the window"],
)
def test_another_reply_is_stored_and_emailed(
    session: Session, world: World, author: str, body: str, later: timedelta
) -> None:
    ticket = new_ticket(session, world)
    tickets.reply(
        session, ticket=ticket, author=world.liaison, body="Resubmit it.", now=MONDAY_10AM
    )
    second = getattr(world, author)
    tickets.reply(session, ticket=ticket, author=second, body=body, now=MONDAY_10AM + later)
    session.commit()
    practice_view = inbox.events(session, ticket=ticket, for_practice=True)
    assert [e.body for e in practice_view if e.kind == EventKind.reply] == ["Resubmit it.", body]
    assert len(reply_emails(session)) == 2


def test_two_copies_of_a_reply_at_the_same_moment_store_one(
    engine: Engine, session: Session, world: World
) -> None:
    """A double click: the second request arrives while the first has not committed yet."""
    ticket = new_ticket(session, world)
    first_stored, commit_first = threading.Event(), threading.Event()

    def send(*, first: bool) -> int | None:
        with Session(engine) as own:
            mine, liaison = own.get(Ticket, ticket.id), own.get(User, world.liaison.id)
            assert mine is not None and liaison is not None
            event = tickets.reply(own, ticket=mine, author=liaison, body="Resubmit it.")
            if first:
                first_stored.set()
                assert commit_first.wait(30)
            own.commit()
            return event.id

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(send, first=True)
        assert first_stored.wait(30)
        second = pool.submit(send, first=False)
        time.sleep(0.5)  # the second copy reaches the reply while the first is uncommitted
        commit_first.set()
        assert first.result(timeout=30) == second.result(timeout=30)
    practice_view = inbox.events(session, ticket=ticket, for_practice=True)
    assert [e.body for e in practice_view if e.kind == EventKind.reply] == ["Resubmit it."]
    assert len(reply_emails(session)) == 1
