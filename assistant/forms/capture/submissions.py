"""Storing submissions, idempotently by the client-made instance id; who may see which.

``submit`` answers like the forms API (contract 4): Stored (201), AlreadyStored (200, same
instance id and same content), raises InstanceConflict (409, same id, different content) or
InvalidSubmission (422, per-field errors in the submission's language).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from assistant import audit
from assistant.clock import utcnow
from assistant.db import build, insert_or_skip, loaded
from assistant.forms.engine import validation
from assistant.forms.engine.definition import FormDefinition
from assistant.forms.models import FormDraft, FormSubmission
from assistant.i18n import LANGUAGES, _, use_locale
from assistant.people.models import Role, User

log = logging.getLogger(__name__)

# What a caller asks to happen after a new submission, in its transaction (forms.hooks).
AfterSubmit = Callable[..., None]
VIEW_ALL = frozenset({Role.coordinator, Role.admin})


class InvalidSubmission(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("invalid submission")
        self.errors = errors


class InstanceConflict(Exception):
    pass


class NotAllowed(Exception):
    pass


@dataclass(frozen=True)
class Outcome:
    submission: FormSubmission
    created: bool  # False: the same submission was already stored


def content_hash(form_id: str, form_version: str, answers: Mapping[str, Any]) -> str:
    """The content's identity: the same answers to the same form version, in any language."""
    canonical = json.dumps(
        {"form": form_id, "version": form_version, "answers": answers},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def valid_instance_id(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return False
    return len(value) <= 64


def can_fill(form: FormDefinition, user: User) -> bool:
    return str(user.role) in form.roles


_SUBMISSIONS = FormSubmission.metadata.tables["form_submission"]
_DRAFTS = FormDraft.metadata.tables["form_draft"]
_SUBMISSION_COLUMNS = tuple(c.name for c in _SUBMISSIONS.c if c.name != "id")


@cache
def _insert_submission(dialect: str) -> sa.Insert | sa.Select[tuple[int]]:
    """``INSERT ... ON CONFLICT (instance_id) DO NOTHING RETURNING id``, built once. On
    PostgreSQL the DELETE of the draft it came from rides with it, done only when the
    submission was stored (data-modifying WITHs: one round trip); elsewhere ``_delete_draft``
    follows it."""
    insert = insert_or_skip(dialect, FormSubmission, ("instance_id",))
    if dialect != "postgresql":
        return insert.returning(_SUBMISSIONS.c.id)
    stored = (
        insert.values({name: bindparam(name) for name in _SUBMISSION_COLUMNS})
        .returning(_SUBMISSIONS.c.id)
        .cte("stored")
    )
    draft_done = (
        _DRAFTS.delete()
        .where(_DRAFTS.c.instance_id == bindparam("draft_instance_id"))
        .where(sa.exists(sa.select(stored.c.id)))
        .cte("draft_done")
    )
    return sa.select(stored.c.id).add_cte(draft_done)


def submit(
    session: Session,
    *,
    form: FormDefinition,
    user: User,
    instance_id: str,
    form_version: str,
    lang: str,
    answers: Mapping[str, Any],
    today: date | None = None,
    after_submit: AfterSubmit | None = None,
) -> Outcome:
    """Add a submission once (the same answers again: the stored one), then run
    ``after_submit(session, submission=, form=, user=)`` in the same transaction, which the
    caller commits."""
    if not can_fill(form, user):
        raise NotAllowed()
    lang = lang if lang in LANGUAGES else "en"
    digest = content_hash(form.id, form_version, answers)
    with_errors: dict[str, str] = {}
    if not valid_instance_id(instance_id):
        with use_locale(lang):
            with_errors["instance_id"] = _("This form has no valid instance id.")
    if form_version != form.version:
        with use_locale(lang):
            with_errors["form_version"] = _(
                "This form has changed since it was opened. "
                "Please check the answers and send it again."
            )
    typed, errors = validation.normalise(form, answers, lang)
    state = validation.evaluate_state(form, typed, today=today)
    errors = (
        with_errors | errors | validation.validate_all(form, typed, lang, today=today, state=state)
    )
    if errors:
        # A copy of a submission stored before (its form has changed since, say): the stored one.
        existing = _existing(session, instance_id, digest)
        if existing is not None:
            return existing
        raise InvalidSubmission(errors)
    stored = validation.final_answers(form, typed, today=today, state=state)
    submission = build(
        FormSubmission,
        instance_id=instance_id,
        form_id=form.id,
        form_version=form_version,
        lang=lang,
        answers=json.dumps(stored, ensure_ascii=False, sort_keys=True, default=str),
        content_hash=digest,
        submitted_by_id=user.id or 0,
        agency_id=user.agency_id,
        practice_id=user.practice_id,
        consent=validation.consent_given(form, stored),
        created_at=utcnow(),
    )
    row = {name: getattr(submission, name) for name in _SUBMISSION_COLUMNS}
    for attempt in range(5):
        try:
            # A plain INSERT: the submission is read, never changed, by what follows (the
            # hooks, the answer), so it needs no place in the session's flushes. Its instance
            # id stored already (a retry from the same phone, stored before or a moment ago):
            # no row, and the stored one is the answer.
            conn = session.connection()
            params = row | {"draft_instance_id": instance_id}
            new_id = conn.execute(_insert_submission(conn.dialect.name), params).scalar()
            if new_id is None:
                existing = _existing(session, instance_id, digest)
                if existing is not None:
                    return existing
                continue  # that one was deleted meanwhile: store this one
            submission.id = new_id
            break
        except IntegrityError:
            # Another of the table's rules: the stored one if there is one, else the error.
            session.rollback()
            existing = _existing(session, instance_id, digest)
            if existing is not None:
                return existing
            raise
        except OperationalError:  # SQLite busy under concurrent writers: try again
            session.rollback()
            existing = _existing(session, instance_id, digest)
            if existing is not None:
                return existing
            if attempt == 4:
                raise
            time.sleep(0.05 * (attempt + 1))
    assert submission.id is not None
    if conn.dialect.name != "postgresql":  # there, done with the INSERT
        _delete_draft(session, instance_id)  # the draft it came from is done
    with audit.batched(session):  # its event and those of what it sets off: one INSERT
        audit.record(
            session,
            actor_id=user.id,
            action="created",
            entity="form_submission",
            entity_id=submission.id,
            form=form.id,
        )
        if after_submit is not None:
            after_submit(session, submission=submission, form=form, user=user)
    log.info("form submission added: form=%s id=%s", form.id, submission.id)
    return Outcome(submission, created=True)


# Built once: asked for every copy of a submission stored before.
_BY_INSTANCE = sa.select(*_SUBMISSIONS.columns).where(
    _SUBMISSIONS.c.instance_id == bindparam("instance_id")
)


def _existing(session: Session, instance_id: str, digest: str) -> Outcome | None:
    """The submission stored with ``instance_id``, read as a row (``db.loaded``): nothing in
    the request changes it."""
    row = session.connection().execute(_BY_INSTANCE, {"instance_id": instance_id}).first()
    if row is None:
        return None
    found = loaded(FormSubmission, row._mapping)
    if found.content_hash != digest:
        raise InstanceConflict()
    return Outcome(found, created=False)


_DELETE_DRAFT = _DRAFTS.delete().where(_DRAFTS.c.instance_id == bindparam("instance_id"))


def _delete_draft(session: Session, instance_id: str) -> None:
    """A plain DELETE: the session holds no draft while a submission is stored."""
    session.connection().execute(_DELETE_DRAFT, {"instance_id": instance_id})


# --- who sees what ----------------------------------------------------------------------------


def visible_submissions(
    session: Session, *, user: User, form_id: str | None = None, limit: int = 100
) -> list[FormSubmission]:
    stmt = select(FormSubmission)
    if form_id:
        stmt = stmt.where(FormSubmission.form_id == form_id)
    if user.role in VIEW_ALL:
        pass
    elif user.role == Role.pcw:
        own = col(FormSubmission.submitted_by_id) == user.id
        if user.agency_id is not None:
            own = own | (col(FormSubmission.agency_id) == user.agency_id)
        stmt = stmt.where(own, FormSubmission.form_id == "barrier_assessment")
    else:
        stmt = stmt.where(FormSubmission.submitted_by_id == user.id)
    stmt = stmt.order_by(col(FormSubmission.created_at).desc()).limit(limit)
    return list(session.exec(stmt))


def can_view(submission: FormSubmission, user: User) -> bool:
    if user.role in VIEW_ALL:
        return True
    if submission.submitted_by_id == user.id:
        return True
    return (
        user.role == Role.pcw
        and submission.form_id == "barrier_assessment"
        and user.agency_id is not None
        and submission.agency_id == user.agency_id
    )


def view_submission(session: Session, *, submission_id: int, user: User) -> FormSubmission:
    """A submission the user may see; each view is audited (it is a personal record)."""
    submission = session.get(FormSubmission, submission_id)
    if submission is None:
        raise LookupError(submission_id)
    if not can_view(submission, user):
        raise NotAllowed()
    audit.record(
        session,
        actor_id=user.id,
        action="viewed",
        entity="form_submission",
        entity_id=submission_id,
    )
    return submission


def answers_of(submission: FormSubmission | FormDraft) -> dict[str, Any]:
    data = json.loads(submission.answers or "{}")
    return data if isinstance(data, dict) else {}
