"""Draft answers: kept out of the knowledge base until reviewed, exported as an entry file."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from assistant.audit import events_for
from assistant.errors import Invalid
from assistant.knowledge import load_knowledge_base
from assistant.people.models import Role
from assistant.support import drafts, tickets
from assistant.support.models import KnowledgeDraft
from tests import factories
from tests.conftest import Client
from tests.html import parse


def make_draft(session: Session) -> KnowledgeDraft:
    practice = factories.practice(session)
    liaison = factories.user(session, Role.liaison, name="Mere Liaison")
    factories.portfolio(session, practice, liaison)
    asker = factories.user(session, practice_id=practice.id)
    assert practice.id is not None and asker.id is not None
    ticket = tickets.create_ticket(
        session, practice_id=practice.id, asker_id=asker.id, question="Who fixes the fax?"
    )
    session.commit()
    reply = tickets.reply(session, ticket=ticket, author=liaison, body="Call **Systems support**.")
    return tickets.save_draft(session, ticket=ticket, event=reply, author=liaison)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Who fixes the fax?", "who-fixes-the-fax"),
        ("Whānau Ora referrals: how?", "whanau-ora-referrals-how"),
        ("???", "draft"),
    ],
)
def test_slug(title: str, expected: str) -> None:
    assert drafts.slug(title) == expected


def test_exported_file_needs_keywords_before_the_knowledge_base_takes_it(
    session: Session, tmp_path: Path
) -> None:
    draft = make_draft(session)
    text = drafts.draft_markdown(draft, ticket=None, today=date(2026, 11, 23))
    folder = tmp_path / "knowledge"
    folder.mkdir()
    (folder / "who-fixes-the-fax.md").write_text(text, encoding="utf-8")
    refused = load_knowledge_base(folder)
    assert refused.entries == []
    assert any("keywords" in problem for problem in refused.problems)

    reviewed = text.replace("keywords: []", "keywords: [fax, fax machine]")
    (folder / "who-fixes-the-fax.md").write_text(reviewed, encoding="utf-8")
    kb = load_knowledge_base(folder)
    entry = kb.get("who-fixes-the-fax")
    assert entry is not None and kb.problems == []
    assert (entry.audience, entry.owning_team, entry.reviewed) == (
        "practice",
        "liaison",
        date(2026, 11, 23),
    )
    assert "<strong>Systems support</strong>" in entry.variant("en").body_html


def test_reviewer_marks_a_draft_and_it_is_audited(session: Session) -> None:
    draft = make_draft(session)
    admin = factories.user(session, Role.admin)
    assert draft.id is not None
    with pytest.raises(Invalid):
        drafts.set_status(session, draft_id=draft.id, actor=admin, status="served")
    drafts.set_status(session, draft_id=draft.id, actor=admin, status="published")
    assert drafts.list_drafts(session, user=admin) == []
    assert [d.id for d in drafts.list_drafts(session, user=admin, status="published")] == [draft.id]
    assert [e.action for e in events_for(session, "knowledge_draft", draft.id)] == ["changed"]


def test_drafts_page_and_review(client: Client, login: Any, session: Session) -> None:
    draft = make_draft(session)
    login(factories.user(session, Role.liaison))
    page = parse(client.get("/inbox/drafts").text)
    card = page.find(f'article[id="draft-{draft.id}"]')
    assert "Who fixes the fax?" in card.find("h2").text()
    assert "owning_team: liaison" in card.find("pre").text()
    assert not card.find_all("form")  # liaisons read; coordinators and admins review
    assert (
        client.post(f"/inbox/drafts/{draft.id}/status", data={"status": "discarded"}).status_code
        == 403
    )
    client.post("/logout")
    login(factories.user(session, Role.admin))
    response = client.post(f"/inbox/drafts/{draft.id}/status", data={"status": "discarded"})
    assert response.status_code == 303
    assert "No draft answers are waiting for review." in client.get("/inbox/drafts").text


@pytest.mark.parametrize("role", [Role.mso, Role.coordinator])
def test_a_draft_follows_its_tickets_visibility(
    client: Client, login: Any, session: Session, role: Role
) -> None:
    """A draft carries the question and the reply: whoever cannot open the ticket cannot read
    or review its draft either."""
    draft = make_draft(session)  # a liaison ticket
    login(factories.user(session, role))
    assert client.get(f"/inbox/tickets/{draft.ticket_id}").status_code == 403
    page = client.get("/inbox/drafts").text
    assert "Who fixes the fax?" not in page and "Systems support" not in page
    assert f"draft-{draft.id}" not in page
    response = client.post(f"/inbox/drafts/{draft.id}/status", data={"status": "discarded"})
    assert response.status_code == 403
