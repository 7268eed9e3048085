"""Drafts join the caller's transaction: the route that saves or deletes one commits it."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
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


def _submit(session: Session, user: Any, instance_id: str, **answers: Any) -> Any:
    from assistant.forms.capture import submissions
    from tests.forms_data import flag_payload

    body = flag_payload(**answers)
    return submissions.submit(
        session,
        form=load_form("flag_problem"),
        user=user,
        instance_id=instance_id,
        form_version=body["form_version"],
        lang="en",
        answers=body["answers"],
    )


def test_a_stored_submission_ends_its_draft_and_a_refused_one_keeps_it(
    session: Session, engine: Engine
) -> None:
    """The draft goes with the submission it became; a copy refused as a conflict (the same
    instance sent before with other answers) leaves the draft as it was, even when the page
    that refused it commits what else it saved."""
    from assistant.forms.capture import submissions

    staff = factories.user(session, Role.practice_staff)
    form = load_form("flag_problem")
    sent = str(uuid.uuid4())
    drafts.save_draft(
        session, form=form, user=staff, instance_id=sent, lang="en", answers={}, page=0
    )
    session.commit()
    assert _submit(session, staff, sent).created
    session.commit()
    assert stored_drafts(engine) == []

    # A draft of the same instance saved meanwhile on another device (its check came before
    # the submission was stored), then sent with other answers: refused, the draft kept.
    assert staff.id is not None
    session.add(
        FormDraft(
            instance_id=sent,
            form_id=form.id,
            form_version=form.version,
            owner_id=staff.id,
            lang="en",
            answers='{"staff_minutes": "45"}',
        )
    )
    session.commit()
    with pytest.raises(submissions.InstanceConflict):
        _submit(session, staff, sent, staff_minutes="45")
    session.commit()
    assert [d.answers for d in stored_drafts(engine)] == ['{"staff_minutes": "45"}']
