"""Drafts join the caller's transaction: the route that saves or deletes one commits it."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from assistant.forms.capture import drafts
from assistant.forms.engine.definition import load_form
from assistant.forms.models import FormDraft
from assistant.people.models import Role
from tests import factories
from tests.conftest import Client


def stored_drafts(engine: Engine) -> list[FormDraft]:
    """The drafts another connection sees: only what was committed."""
    with Session(engine) as other:
        return list(other.exec(select(FormDraft)))


def test_saving_and_discarding_a_draft_is_undone_with_the_callers_transaction(
    session: Session, engine: Engine
) -> None:
    form = load_form("barrier_assessment")
    pcw = factories.user(session, Role.pcw)
    instance_id = str(uuid.uuid4())
    draft = drafts.save_draft(
        session,
        form=form,
        user=pcw,
        instance_id=instance_id,
        lang="sm",
        answers={"consent": "yes"},
        page=1,
    )
    assert draft.id is not None  # written in the transaction, not yet committed
    assert stored_drafts(engine) == []
    session.rollback()
    assert stored_drafts(engine) == []
    drafts.save_draft(
        session,
        form=form,
        user=pcw,
        instance_id=instance_id,
        lang="sm",
        answers={"consent": "yes"},
        page=1,
    )
    session.commit()
    drafts.discard_draft(session, instance_id=instance_id, user=pcw)
    session.rollback()
    assert [d.instance_id for d in stored_drafts(engine)] == [instance_id]


def test_answers_sent_with_mistakes_are_kept_as_a_draft(
    client: Client, session: Session, engine: Engine, login: Any
) -> None:
    """Send with a question unanswered: the page shows the mistake, and what was typed is
    kept for another device."""
    login(factories.user(session, Role.practice_staff))
    instance_id = str(uuid.uuid4())
    response = client.post(
        "/forms/flag_problem/fill",
        data={
            "instance_id": instance_id,
            "page": "1",
            "form_lang": "en",
            "action": "submit",
            "provider": "hospital_ed",
            "staff_minutes": "30",
        },
    )
    assert response.status_code == 200
    assert "This question needs an answer." in response.text
    [draft] = stored_drafts(engine)
    assert draft.instance_id == instance_id
    assert json.loads(draft.answers)["staff_minutes"] == "30"
    assert client.post(f"/forms/drafts/{instance_id}/discard").status_code == 303
    assert stored_drafts(engine) == []
