"""The team inbox through HTTP: views, working a ticket, and who may see what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from assistant.audit import events_for
from assistant.knowledge import get_knowledge_base
from assistant.notify.models import EmailKind, QueuedEmail
from assistant.people.models import Practice, Role, User
from assistant.support import tickets
from assistant.support.models import KnowledgeDraft, Ticket, TicketEvent, TicketStatus
from tests import factories
from tests.clock import FIXED_NOW
from tests.conftest import Client
from tests.html import parse

HX = {"HX-Request": "true"}


@pytest.fixture
def practice(session: Session) -> Practice:
    return factories.practice(session, name="Linwood Community Practice")


@pytest.fixture
def liaison(session: Session, practice: Practice) -> User:
    user = factories.user(session, Role.liaison, name="Sione Liaison")
    factories.portfolio(session, practice, user)
    return user


@pytest.fixture
def ticket(session: Session, practice: Practice, liaison: User) -> Ticket:
    asker = factories.user(session, practice_id=practice.id, name="Lena Nurse")
    assert practice.id is not None and asker.id is not None
    ticket = tickets.create_ticket(
        session,
        practice_id=practice.id,
        asker_id=asker.id,
        question="Can we move a patient's enrolment?",
        transcript="[22 Nov 10:00] Practice: Can we move a patient's enrolment?",
    )
    session.commit()
    return ticket


def ticket_ids(html: str) -> list[str]:
    return [row.attrs["data-ticket"] for row in parse(html).find_all("tr")[1:]]


def test_mine_lists_my_tickets_and_opening_one_is_audited(
    client: Client, login: Any, liaison: User, ticket: Ticket, session: Session
) -> None:
    login(liaison)
    page = client.get("/inbox")
    assert page.status_code == 200
    assert ticket_ids(page.text) == [str(ticket.id)]
    assert "Linwood Community Practice" in page.text
    detail = parse(client.get(f"/inbox/tickets/{ticket.id}").text)
    assert "Can we move a patient" in detail.find("p.question-text").text()
    assert "Lena Nurse" in detail.find("dl.facts").text()
    assert "Practice: Can we move" in detail.find("pre.transcript").text()
    assert [e.action for e in events_for(session, "ticket", ticket.id)] == ["created", "viewed"]


def test_views_team_and_overdue(
    client: Client, login: Any, liaison: User, ticket: Ticket, session: Session
) -> None:
    colleague = factories.user(session, Role.liaison)
    login(colleague)
    assert ticket_ids(client.get("/inbox?view=mine").text) == []
    assert ticket_ids(client.get("/inbox?view=team").text) == [str(ticket.id)]
    assert ticket_ids(client.get("/inbox?view=overdue").text) == []
    ticket.due_at = datetime.now(UTC) - timedelta(hours=1)
    session.add(ticket)
    session.commit()
    overdue = client.get("/inbox?view=overdue").text
    assert ticket_ids(overdue) == [str(ticket.id)]
    row = parse(overdue).find(f'tr[data-ticket="{ticket.id}"]')
    assert "is-overdue" in row.attrs["class"] and "Overdue" in row.text()
    # Reading the inbox changes nothing (a GET never writes): still Sione's until the worker's
    # schedule escalates it.
    assert "Sione Liaison" in row.text()
    session.refresh(ticket)
    assert ticket.assignee_id == liaison.id and ticket.escalated_at is None


def test_htmx_view_switch_returns_the_list_only(
    client: Client, login: Any, liaison: User, ticket: Ticket
) -> None:
    login(liaison)
    response = client.get("/inbox?view=team", headers=HX)
    assert "<html" not in response.text
    assert parse(response.text).find("div#inbox")


def test_reply_without_javascript_then_with_htmx(
    client: Client, login: Any, liaison: User, ticket: Ticket, session: Session
) -> None:
    login(liaison)
    response = client.post(f"/inbox/tickets/{ticket.id}/reply", data={"body": "Yes, you can."})
    assert (response.status_code, response.headers["location"]) == (
        303,
        f"/inbox/tickets/{ticket.id}",
    )
    fragment = client.post(
        f"/inbox/tickets/{ticket.id}/note", data={"body": "Check the register"}, headers=HX
    )
    assert "<html" not in fragment.text
    timeline = parse(fragment.text).find("ol.timeline")
    assert "Yes, you can." in timeline.find("li.event-reply").text()
    assert "Internal note" in timeline.find("li.event-note").text()


def test_empty_reply_shows_an_error_in_place(
    client: Client, login: Any, liaison: User, ticket: Ticket
) -> None:
    login(liaison)
    fragment = client.post(f"/inbox/tickets/{ticket.id}/reply", data={"body": " "}, headers=HX)
    assert fragment.status_code == 200
    assert parse(fragment.text).find("p.error").text() == "Please write something first."


def test_reply_saved_as_a_draft_knowledge_entry(
    client: Client, login: Any, liaison: User, ticket: Ticket, session: Session
) -> None:
    login(liaison)
    client.post(
        f"/inbox/tickets/{ticket.id}/reply",
        data={"body": "Use the transfer form.", "save_draft": "yes"},
    )
    draft = session.exec(select(KnowledgeDraft)).one()
    assert (draft.body_markdown, draft.ticket_id, draft.status) == (
        "Use the transfer form.",
        ticket.id,
        "draft",
    )
    page = client.get(f"/inbox/tickets/{ticket.id}").text
    assert "Saved as a draft knowledge entry for review." in page


def test_draft_button_on_an_earlier_reply(
    client: Client, login: Any, liaison: User, ticket: Ticket, session: Session
) -> None:
    login(liaison)
    client.post(f"/inbox/tickets/{ticket.id}/reply", data={"body": "First answer"})
    page = parse(client.get(f"/inbox/tickets/{ticket.id}").text)
    form = page.find("li.event-reply").find("form")
    assert client.post(form.attrs["action"]).status_code == 303
    assert session.exec(select(KnowledgeDraft)).one().body_markdown == "First answer"


def test_reassign_to_another_team_leaves_my_view(
    client: Client, login: Any, liaison: User, ticket: Ticket, session: Session
) -> None:
    login(liaison)
    response = client.post(f"/inbox/tickets/{ticket.id}/assign", data={"to": "team:mso"})
    assert (response.status_code, response.headers["location"]) == (303, "/inbox")
    assert client.get(f"/inbox/tickets/{ticket.id}").status_code == 403
    mso = factories.user(session, Role.mso)
    client.post("/logout")
    login(mso)
    assert ticket_ids(client.get("/inbox?view=team").text) == [str(ticket.id)]
    response = client.post(
        f"/inbox/tickets/{ticket.id}/assign", data={"to": f"user:{mso.id}"}, headers=HX
    )
    assert mso.name in parse(response.text).find("dl.facts").text()
    session.refresh(ticket)
    assert (ticket.team, ticket.assignee_id) == ("mso", mso.id)


def test_resolve_then_reopen(
    client: Client, login: Any, liaison: User, ticket: Ticket, session: Session
) -> None:
    login(liaison)
    client.post(f"/inbox/tickets/{ticket.id}/resolve")
    session.refresh(ticket)
    assert ticket.status == TicketStatus.resolved
    assert ticket_ids(client.get("/inbox?view=resolved").text) == [str(ticket.id)]
    assert ticket_ids(client.get("/inbox?view=mine").text) == []
    assert client.post(f"/inbox/tickets/{ticket.id}/resolve").status_code == 409
    client.post(f"/inbox/tickets/{ticket.id}/reopen")
    session.refresh(ticket)
    assert ticket.status == TicketStatus.open
    actions = [e.action for e in events_for(session, "ticket", ticket.id)]
    assert actions == ["created", "resolved", "reopened"]


@pytest.mark.parametrize("role", [Role.coordinator, Role.mso])
def test_other_teams_cannot_open_or_change_a_liaison_ticket(
    client: Client, login: Any, ticket: Ticket, session: Session, role: Role
) -> None:
    login(factories.user(session, role))
    assert client.get(f"/inbox/tickets/{ticket.id}").status_code == 403
    assert client.post(f"/inbox/tickets/{ticket.id}/reply", data={"body": "x"}).status_code == 403
    assert ticket_ids(client.get("/inbox?view=team").text) == []


def test_admin_sees_every_ticket(
    client: Client, login: Any, ticket: Ticket, session: Session
) -> None:
    login(factories.user(session, Role.admin))
    assert ticket_ids(client.get("/inbox?view=team").text) == [str(ticket.id)]
    assert client.get(f"/inbox/tickets/{ticket.id}").status_code == 200


def test_practice_staff_have_no_inbox(
    client: Client, login: Any, ticket: Ticket, session: Session
) -> None:
    login(factories.user(session, practice_id=ticket.practice_id))
    assert client.get("/inbox").status_code == 403
    assert client.get(f"/inbox/tickets/{ticket.id}").status_code == 403


def test_ticket_shows_its_topic_by_title(
    client: Client, login: Any, practice: Practice, session: Session
) -> None:
    asker = factories.user(session, practice_id=practice.id)
    assert practice.id is not None and asker.id is not None
    ticket = tickets.create_ticket(
        session,
        practice_id=practice.id,
        asker_id=asker.id,
        question="Rejected claims",
        topic_id="claims-submission",
    )
    session.commit()
    login(factories.user(session, Role.mso))
    facts = parse(client.get(f"/inbox/tickets/{ticket.id}").text).find("dl.facts")
    entry = get_knowledge_base().get("claims-submission")
    assert entry is not None
    assert f"{entry.title} (claims-submission)" in facts.text()


@pytest.fixture
def many(session: Session, practice: Practice, liaison: User) -> dict[str, Ticket]:
    """Tickets of two practices, askers and topics (all the liaison team's), one resolved."""
    other = factories.practice(session, name="Hornby Health")
    factories.portfolio(session, other, liaison)
    nurse = factories.user(session, practice_id=practice.id, name="Lena Nurse")
    manager = factories.user(session, practice_id=other.id, name="Tavita Manager")
    found = {}
    for key, where, who, question, topic in [
        ("fax", practice, nurse, "Who fixes the fax machine?", "systems-support"),
        ("claim", other, manager, "Our March training was declined", "training"),
        ("flu", other, manager, "Interpreter for a Tongan patient", "interpreter-booking"),
    ]:
        assert where.id is not None and who.id is not None
        found[key] = tickets.create_ticket(
            session, practice_id=where.id, asker_id=who.id, question=question, topic_id=topic
        )
        session.commit()
    tickets.resolve(session, ticket=found["fax"], actor=liaison)
    session.commit()
    return found


def test_search_by_words_practice_and_person(
    client: Client, login: Any, liaison: User, many: dict[str, Ticket]
) -> None:
    login(liaison)

    def search(**params: str) -> set[str]:
        return set(ticket_ids(client.get("/inbox", params=params).text))

    ids = {key: str(t.id) for key, t in many.items()}
    assert search(q="fax") == {ids["fax"]}  # resolved ones are found too
    assert search(q="FAX machine") == {ids["fax"]}  # every word, any case
    assert search(q="hornby") == {ids["claim"], ids["flu"]}  # the practice's name
    assert search(q="tavita") == {ids["claim"], ids["flu"]}  # the asker's name
    assert search(q="declined tavita") == {ids["claim"]}
    assert search(q="100%_") == set()  # typed wildcards are plain characters
    assert search(status="resolved") == {ids["fax"]}
    assert search(status="open", q="hornby") == {ids["claim"], ids["flu"]}
    assert search(topic="training") == {ids["claim"]}
    assert search(team="mso") == set()  # the liaison queue's tickets only
    assert search(team="nonsense", q="fax") == {ids["fax"]}  # an unknown team is no filter


def test_each_ticket_shows_its_topic_and_the_list_refreshes_itself(
    client: Client, login: Any, liaison: User, many: dict[str, Ticket]
) -> None:
    login(liaison)
    page = parse(client.get("/inbox?view=team").text)
    row = next(r for r in page.find_all("tr") if r.attrs.get("data-ticket") == str(many["flu"].id))
    entry = get_knowledge_base().get("interpreter-booking")
    assert entry is not None and row.find("td.topic").text() == entry.title
    results = page.find("div#inbox-results")
    assert results.attrs["hx-trigger"] == "every 30s"
    # Without JavaScript, a link does the same.
    refresh = next(a for a in results.find_all("a") if a.text() == "Refresh now")
    assert client.get(refresh.attrs["href"]).status_code == 200
    polled = client.get(results.attrs["hx-get"], headers=HX).text
    assert "<html" not in polled
    assert parse(polled).has("#inbox-results") and not parse(polled).has("form")


def test_reply_and_resolve_in_one_action(
    client: Client, login: Any, liaison: User, ticket: Ticket, session: Session
) -> None:
    login(liaison)
    response = client.post(
        f"/inbox/tickets/{ticket.id}/reply",
        data={"body": "Yes: use the transfer form.", "and_resolve": "yes"},
    )
    assert response.status_code == 303
    session.refresh(ticket)
    assert ticket.status == TicketStatus.resolved
    kinds = [
        e.kind for e in session.exec(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id))
    ]
    assert kinds[-2:] == ["reply", "resolved"]


def reply_emails(session: Session) -> list[QueuedEmail]:
    session.expire_all()
    kind = EmailKind.ticket_reply.value
    return list(session.exec(select(QueuedEmail).where(QueuedEmail.kind == kind)))


def practice_sees(client: Client, login: Any, asker: User, ticket: Ticket) -> list[str]:
    """The replies the asker reads on their question's page in the chat."""
    login(asker)
    page = parse(client.get(f"/chat/questions/{ticket.id}").text)
    return page.find("ol.timeline").texts("li.event-reply .reply-text")


def test_a_reply_sent_twice_is_one_reply(
    client: Client, login: Any, liaison: User, ticket: Ticket, session: Session
) -> None:
    login(liaison)
    url = f"/inbox/tickets/{ticket.id}/reply"
    first = client.post(url, data={"body": "Use the transfer form."})
    again = client.post(url, data={"body": "Use the transfer form."})  # a double click
    for response in (first, again):
        assert (response.status_code, response.headers["location"]) == (
            303,
            f"/inbox/tickets/{ticket.id}",
        )
    with_htmx = client.post(url, data={"body": "Use the transfer form."}, headers=HX)
    assert with_htmx.status_code == 200 and not parse(with_htmx.text).has("p.error")
    timeline = parse(with_htmx.text).find("ol.timeline")
    assert len(timeline.find_all("li.event-reply")) == 1
    [email] = reply_emails(session)
    assert email.user_id == ticket.asker_id
    asker = session.get(User, ticket.asker_id)
    assert asker is not None
    assert practice_sees(client, login, asker, ticket) == ["Use the transfer form."]


@pytest.mark.parametrize(
    ("second", "later"),
    [
        ("Use the transfer form, then call us.", timedelta(minutes=1)),
        ("Use the transfer form.", timedelta(minutes=11)),
    ],
    ids=["different words", "after ten minutes"],
)
def test_another_reply_or_the_same_one_later_is_a_new_reply(
    client: Client,
    login: Any,
    liaison: User,
    ticket: Ticket,
    session: Session,
    time_machine: Any,
    second: str,
    later: timedelta,
) -> None:
    login(liaison)
    url = f"/inbox/tickets/{ticket.id}/reply"
    assert client.post(url, data={"body": "Use the transfer form."}).status_code == 303
    time_machine.move_to(FIXED_NOW + later)
    assert client.post(url, data={"body": second}).status_code == 303
    assert len(reply_emails(session)) == 2
    asker = session.get(User, ticket.asker_id)
    assert asker is not None
    assert practice_sees(client, login, asker, ticket) == ["Use the transfer form.", second]
