"""Drafts: a form being filled in, saved on every page so it resumes on any device.

These only add, change or delete rows in the caller's transaction; the caller commits."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session, col, select

from assistant.clock import utcnow
from assistant.forms.engine.definition import FormDefinition
from assistant.forms.models import FormDraft, FormSubmission
from assistant.i18n import LANGUAGES
from assistant.people.models import User


class DraftNotYours(Exception):
    pass


class AlreadySubmitted(Exception):
    def __init__(self, submission: FormSubmission) -> None:
        super().__init__("already submitted")
        self.submission = submission


def get_draft(session: Session, *, instance_id: str, user: User) -> FormDraft | None:
    draft = session.exec(select(FormDraft).where(FormDraft.instance_id == instance_id)).first()
    if draft is not None and draft.owner_id != user.id:
        raise DraftNotYours()
    return draft


def save_draft(
    session: Session,
    *,
    form: FormDefinition,
    user: User,
    instance_id: str,
    lang: str,
    answers: dict[str, Any],
    page: int,
) -> FormDraft:
    """Create or update the user's draft for ``instance_id``."""
    done = session.exec(
        select(FormSubmission).where(FormSubmission.instance_id == instance_id)
    ).first()
    if done is not None:
        raise AlreadySubmitted(done)
    draft = get_draft(session, instance_id=instance_id, user=user)
    now = utcnow()
    if draft is None:
        assert user.id is not None
        draft = FormDraft(
            instance_id=instance_id,
            form_id=form.id,
            form_version=form.version,
            owner_id=user.id,
            agency_id=user.agency_id,
            practice_id=user.practice_id,
            lang=lang,
            created_at=now,
        )
    draft.lang = lang if lang in LANGUAGES else "en"
    draft.answers = json.dumps(answers, ensure_ascii=False, sort_keys=True, default=str)
    draft.page = page
    draft.updated_at = now
    session.add(draft)
    session.flush()
    return draft


def drafts_for(session: Session, *, user: User) -> list[FormDraft]:
    stmt = (
        select(FormDraft)
        .where(FormDraft.owner_id == user.id)
        .order_by(col(FormDraft.updated_at).desc())
    )
    return list(session.exec(stmt))


def discard_draft(session: Session, *, instance_id: str, user: User) -> None:
    draft = get_draft(session, instance_id=instance_id, user=user)
    if draft is not None:
        session.delete(draft)
