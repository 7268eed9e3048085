"""What each button of the fill page does, as plain functions over a Session."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from sqlmodel import Session, select
from starlette.datastructures import ImmutableMultiDict

from assistant.forms.capture import drafts, filling
from assistant.forms.engine import validation
from assistant.forms.engine.definition import load_form
from assistant.forms.models import FormDraft, FormSubmission
from assistant.people.models import Role
from tests import factories

TODAY = date(2026, 11, 22)


def test_posted_answers_are_read_for_every_page() -> None:
    form = load_form("barrier_assessment")
    data = ImmutableMultiDict(
        [
            ("consent", "yes"),
            ("housing", "cold_damp"),
            ("housing", "overcrowded"),
            ("person_name", ""),
            ("household_members.rows", "1"),
            ("household_members.0.member_name", "Ana"),
        ]
    )
    raw = filling.answers_from_post(form, data)
    assert raw["consent"] == "yes"
    assert raw["housing"] == ["cold_damp", "overcrowded"]
    assert raw["person_name"] is None
    assert raw["barriers"] == []
    assert raw["household_members"][0]["member_name"] == "Ana"
    assert "age_years" not in raw  # calculations are the server's


@pytest.mark.parametrize(
    ("action", "rows_after"),
    [("add:household_members", 3), ("remove:household_members:0", 1), ("add:nope", 2)],
)
def test_adding_and_removing_rows(action: str, rows_after: int) -> None:
    form = load_form("barrier_assessment")
    raw: dict[str, Any] = {"household_members": [{"member_name": "A"}, {"member_name": "B"}]}
    assert len(filling.change_rows(form, raw, action)["household_members"]) == rows_after


def test_next_skips_pages_that_do_not_apply_and_back_returns(session: Session) -> None:
    form = load_form("barrier_assessment")
    user = factories.user(session, Role.pcw)
    instance_id = str(uuid.uuid4())
    common: dict[str, Any] = {
        "form": form,
        "user": user,
        "instance_id": instance_id,
        "lang": "en",
        "today": TODAY,
    }
    blocked = filling.step(session, action="next", page=0, raw={}, **common)
    assert blocked.page == 0 and blocked.errors == {"consent": "This question needs an answer."}
    moved = filling.step(session, action="next", page=0, raw={"consent": "yes"}, **common)
    assert moved.page == 1 and not moved.errors
    back = filling.step(session, action="back", page=1, raw={"consent": "yes"}, **common)
    assert back.page == 0
    stays = filling.step(session, action="next", page=0, raw={"consent": "no"}, **common)
    assert stays.page == 0  # without consent there is nothing further to ask
    draft = session.exec(select(FormDraft).where(FormDraft.instance_id == instance_id)).one()
    assert draft.page == 0 and draft.owner_id == user.id
    sent = filling.step(session, action="submit", page=0, raw={"consent": "no"}, **common)
    stored = session.exec(select(FormSubmission)).one()
    assert sent.redirect == f"/forms/submissions/{stored.id}?sent=1"
    again = filling.step(session, action="next", page=0, raw={"consent": "no"}, **common)
    assert again.redirect == f"/forms/submissions/{stored.id}"


def test_next_and_send_stop_once_for_what_the_answers_brought_up(session: Session) -> None:
    form = load_form("barrier_assessment")
    enrolment = form.page_index("enrolment")
    common: dict[str, Any] = {
        "form": form,
        "user": factories.user(session, Role.pcw),
        "instance_id": str(uuid.uuid4()),
        "lang": "en",
        "today": TODAY,
    }
    shown = filling.shown_paths(form, validation.evaluate_state(form, {"consent": "yes"}))
    assert "practice_name" not in shown and "enrolment_status" in shown
    raw: dict[str, Any] = {
        "consent": "yes",
        "enrolment_status": "enrolled_seen",
        "eligibility": "refugee",
    }
    stop = filling.step(session, action="next", page=enrolment, raw=raw, shown=shown, **common)
    assert (stop.page, stop.added, stop.errors) == (enrolment, ["practice_name"], {})
    now_shown = [*shown, "practice_name"]
    go = filling.step(session, action="next", page=enrolment, raw=raw, shown=now_shown, **common)
    assert (go.page, go.added) == (enrolment + 1, [])
    # A page cached before it said what it showed goes on as before.
    old = filling.step(session, action="next", page=enrolment, raw=raw, shown=None, **common)
    assert (old.page, old.added) == (enrolment + 1, [])
    # Sending: the "please say what" box of an "other" answer is shown, not yet an error.
    last = form.page_index("actions")
    raw |= {"barriers": ["other"], "actions": ["explain_system"]}
    held = filling.step(session, action="submit", page=last, raw=raw, shown=now_shown, **common)
    assert (held.page, held.added, held.errors, held.redirect) == (
        last,
        ["barriers_other"],
        {},
        None,
    )
    assert session.exec(select(FormSubmission)).all() == []


@pytest.mark.parametrize(
    ("answers", "requested", "saved", "page"),
    [
        ({"consent": "yes"}, "3", 0, 3),
        ({"consent": "yes"}, None, 5, 5),
        ({"consent": "yes"}, "abc", 5, 5),
        ({"consent": "yes"}, "", 5, 5),
        ({"consent": "yes"}, "-2", 5, 0),
        ({"consent": "yes"}, "42", 0, 7),
        ({"consent": "yes"}, "99999999999999999999999", 0, 7),
        ({"consent": "yes"}, "٤", 0, 4),
        ({"consent": "no"}, "4", 0, 0),
        ({"consent": "no"}, None, 6, 0),
    ],
)
def test_the_page_a_draft_opens_on(
    answers: dict[str, Any], requested: str | None, saved: int, page: int
) -> None:
    form = load_form("barrier_assessment")
    shown = filling.page_to_show(form, answers, "en", requested=requested, saved=saved)
    assert shown == page


def test_language_change_redirects_to_the_draft_and_drafts_are_private(
    session: Session,
) -> None:
    form = load_form("flag_problem")
    owner = factories.user(session, Role.practice_staff)
    instance_id = str(uuid.uuid4())
    result = filling.step(
        session,
        form=form,
        user=owner,
        instance_id=instance_id,
        lang="zh_Hans",
        action="lang",
        page=1,
        raw={"provider": "specialist"},
    )
    assert result.redirect == f"/forms/drafts/{instance_id}?page=1"
    with pytest.raises(drafts.DraftNotYours):
        filling.step(
            session,
            form=form,
            user=factories.user(session, Role.practice_staff),
            instance_id=instance_id,
            lang="en",
            action="next",
            page=0,
            raw={},
        )


def test_display_values_use_the_choice_labels() -> None:
    form = load_form("barrier_assessment")
    assert filling.display_value(form, "housing", ["cold_damp"], "sm") == "Malulu po o susū"
    assert filling.display_value(form, "consent", "yes", "ar") == "نعم"
    assert filling.display_value(form, "person_name", None, "en") == ""
