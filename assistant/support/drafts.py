"""Draft knowledge entries saved from replies: listed for review, exported as entry files.

Drafts live in the database, never in ``knowledge/``, so the matcher cannot serve one until a
reviewer has turned it into a real entry file (``draft_markdown`` gives a starting point).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import yaml
from sqlmodel import Session, col, select

from assistant import audit
from assistant.clock import utcnow
from assistant.errors import Forbidden, Invalid, NotFound
from assistant.i18n import _
from assistant.people.models import User
from assistant.support.inbox import can_view
from assistant.support.models import KnowledgeDraft, Ticket

STATUSES = ("draft", "published", "discarded")


def list_drafts(
    session: Session, *, user: User, status: str = "draft", limit: int = 200
) -> list[KnowledgeDraft]:
    """Drafts ``user`` may read: a draft carries its ticket's question and reply, so it follows
    the ticket's visibility (a draft without a ticket is for every inbox user)."""
    stmt = (
        select(KnowledgeDraft)
        .where(KnowledgeDraft.status == status)
        .order_by(col(KnowledgeDraft.id).desc())
    )
    drafts = list(session.exec(stmt))
    ticket_ids = {d.ticket_id for d in drafts if d.ticket_id}
    tickets = {t.id: t for t in session.exec(select(Ticket).where(col(Ticket.id).in_(ticket_ids)))}
    visible = [
        d
        for d in drafts
        if d.ticket_id is None or (d.ticket_id in tickets and can_view(user, tickets[d.ticket_id]))
    ]
    return visible[:limit]


def set_status(session: Session, *, draft_id: int, actor: User, status: str) -> KnowledgeDraft:
    """Mark a draft as published (an entry file was made from it) or discarded (flushed; the
    caller commits)."""
    if status not in STATUSES:
        raise Invalid(_("Choose what happened to this draft."))
    draft = session.get(KnowledgeDraft, draft_id)
    if draft is None:
        raise NotFound()
    ticket = session.get(Ticket, draft.ticket_id) if draft.ticket_id else None
    if ticket is not None and not can_view(actor, ticket):
        raise Forbidden()
    draft.status = status
    session.add(draft)
    audit.record(
        session,
        actor_id=actor.id,
        action="changed",
        entity="knowledge_draft",
        entity_id=draft_id,
        status=status,
    )
    session.flush()
    return draft


def slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", folded.lower())
    return "-".join(words[:8]) or "draft"


def draft_markdown(
    draft: KnowledgeDraft, *, ticket: Ticket | None, today: date | None = None
) -> str:
    """A knowledge entry file to review and complete before adding it to ``knowledge/``.

    Keywords are left empty on purpose: ``python -m assistant check`` refuses the file until a
    reviewer has written them, so a draft cannot slip into the knowledge base unread.
    """
    header = {
        "id": slug(draft.title),
        "audience": "practice",
        "owning_team": ticket.team if ticket is not None else "liaison",
        "title": draft.title,
        "keywords": [],
        "reviewed": today or utcnow().date(),
        "source": "PHO practice support reply",
    }
    front = yaml.safe_dump(header, sort_keys=False, allow_unicode=True).strip()
    return f"---\n{front}\n---\n{draft.body_markdown.strip()}\n"
