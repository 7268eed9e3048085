"""What happens after a new submission of a particular form."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from assistant.forms.capture.actions import create_actions
from assistant.forms.capture.submissions import answers_of
from assistant.forms.engine.definition import Field, FormDefinition
from assistant.forms.models import FormSubmission
from assistant.i18n import _, use_locale
from assistant.people.models import User
from assistant.support.tickets import create_ticket


def flag_problem_ticket(
    session: Session, *, submission: FormSubmission, form: FormDefinition, user: User
) -> None:
    """A flagged workload transfer becomes a ticket for the practice's liaison."""
    if user.practice_id is None or user.id is None:
        return
    answers = answers_of(submission)
    lines = []
    with use_locale("en"):  # the liaison team reads tickets in English
        for page in form.pages:
            for f in page.fields:
                if f.name not in answers or f.personal:
                    continue
                lines.append(f"{f.label_text('en')}: {_describe(f, answers[f.name])}")
        provider = form.fields["provider"]
        question = _(
            "Workload transfer flagged: %(provider)s",
            provider=_describe(provider, answers.get("provider")),
        )
    lines.append(f"Form submission #{submission.id}")
    create_ticket(
        session,
        practice_id=user.practice_id,
        asker_id=user.id,
        question=question,
        detail="\n".join(lines),
        topic_id="workload-transfer",
    )


def barrier_follow_ups(
    session: Session, *, submission: FormSubmission, form: FormDefinition, user: User
) -> None:
    """Each agreed action becomes a follow-up task in the PCW's task list."""
    create_actions(session, submission=submission, definition=form, actor=user)


def _describe(f: Field, value: object) -> str:
    if isinstance(value, list):
        return ", ".join(_choice(f, v) for v in value)
    if isinstance(value, str) and f.choices:
        return _choice(f, value)
    return "" if value is None else str(value)


def _choice(f: Field, value: str) -> str:
    choice = f.choice(value)
    return choice.text("en") if choice else value


# Form id -> what happens after a new submission of that form (callers pass it to ``submit``).
AFTER_SUBMIT: dict[str, Callable[..., None]] = {
    "flag_problem": flag_problem_ticket,
    "barrier_assessment": barrier_follow_ups,
}
