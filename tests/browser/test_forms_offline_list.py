"""The forms page's lists of what is kept on the phone ("on this phone, not sent yet" and
"started on this phone without signal"), in real Chromium: times in the page's language and
New Zealand time, and nothing left listed once it has been sent."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from assistant.forms.models import FormSubmission

TALA = "pcw.tala@pacifictrust.example.nz"  # works in Samoan
AMINA = "pcw.amina@refugeecentre.example.nz"  # works in Arabic

# 8:30 pm on Monday 23 November in UTC is 9:30 am on Tuesday 24 November in New Zealand.
SAVED = int(datetime(2026, 11, 23, 20, 30, tzinfo=UTC).timestamp() * 1000)


def keep_on_phone(page: Page, *, draft: str, queued: str | None = None) -> None:
    """A form started without signal (``draft``) and one that could not be sent (``queued``)."""
    local = {
        "form_id": "barrier_assessment",
        "title": "Barrier assessment",
        "page": 2,
        "answers": {"consent": "yes"},
        "saved": SAVED,
    }
    page.evaluate("([k, v]) => localStorage.setItem(k, JSON.stringify(v))", [draft, local])
    if queued:
        item = {
            "instance_id": queued,
            "form_id": "barrier_assessment",
            "title": "Barrier assessment",
            "saved": SAVED,
            "state": "conflict",  # left alone until someone acts on it
            "payload": {},
        }
        page.evaluate("(i) => localStorage.setItem('forms.outbox', JSON.stringify([i]))", item)


def test_the_lists_show_new_zealand_time_on_a_samoan_screen(
    page_as: Callable[..., Page],
) -> None:
    page = page_as(TALA)
    page.goto("/forms")
    keep_on_phone(page, draft=f"forms.draft.{uuid.uuid4()}", queued=str(uuid.uuid4()))
    page.reload()
    started = page.locator("#local-drafts li")
    expect(started).to_have_text("Barrier assessment (24/11/2026, 9:30 am)")
    expect(page.locator("#outbox li")).to_contain_text("(24/11/2026, 9:30 am)")
    for text in (started.inner_text(), page.locator("#outbox li").inner_text()):
        assert "11/23/2026" not in text and "PM" not in text


def test_the_lists_show_new_zealand_time_in_arabic_on_an_arabic_screen(
    page_as: Callable[..., Page],
) -> None:
    page = page_as(AMINA)
    page.goto("/forms")
    keep_on_phone(page, draft=f"forms.draft.{uuid.uuid4()}")
    page.reload()
    text = page.locator("#local-drafts li").inner_text()
    assert "9:30" in text and "ص" in text  # 9:30 in the morning ("ص"), New Zealand time
    day_month_year = re.sub("[\u200e\u200f]", "", text)
    assert "24/11/2026" in day_month_year, text
    assert "PM" not in text and "11/23" not in text


def test_a_form_started_without_signal_leaves_the_list_once_sent(
    page_as: Callable[..., Page], live_session: Session
) -> None:
    page = page_as(TALA)
    page.goto("/forms")
    instance_id = str(uuid.uuid4())
    keep_on_phone(page, draft=f"forms.draft.{instance_id}")
    item: dict[str, Any] = {
        "instance_id": instance_id,
        "form_id": "barrier_assessment",
        "title": "Barrier assessment",
        "saved": SAVED,
        "state": "waiting",
        "attempts": 0,
        "next": 0,
        "payload": {
            "instance_id": instance_id,
            "form_version": "1",
            "lang": "sm",
            "answers": {"consent": "no"},
        },
    }
    page.evaluate("(i) => localStorage.setItem('forms.outbox', JSON.stringify([i]))", item)
    page.reload()  # signal: the outbox sends it
    expect(page.locator("#outbox")).to_be_hidden()
    live_session.expire_all()
    sent = live_session.exec(
        select(FormSubmission).where(FormSubmission.instance_id == instance_id)
    ).all()
    assert len(sent) == 1
    expect(page.locator("#local-drafts")).to_be_hidden()
    assert page.evaluate(f"() => localStorage.getItem('forms.draft.{instance_id}')") is None
    page.reload()
    expect(page.locator("#local-drafts")).to_be_hidden()


def test_a_copy_of_a_form_sent_another_way_is_cleared_from_the_phone(
    page_as: Callable[..., Page],
) -> None:
    page = page_as(TALA)
    page.goto("/forms")
    instance_id = str(uuid.uuid4())
    body = {
        "instance_id": instance_id,
        "form_version": "1",
        "lang": "sm",
        "answers": {"consent": "no"},
    }
    status = page.evaluate(
        """async (body) => {
            const token = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token'];
            const r = await fetch('/api/forms/barrier_assessment/submissions', {
              method: 'POST', credentials: 'same-origin', body: JSON.stringify(body),
              headers: {'Content-Type': 'application/json', 'X-CSRF-Token': token}});
            return r.status;
        }""",
        body,
    )
    assert status == 201
    # A copy kept on the phone from before (its send went through, the copy stayed).
    keep_on_phone(page, draft=f"forms.draft.{instance_id}")
    page.reload()  # the load event comes after the page script has drawn its lists
    expect(page.locator("#local-drafts")).to_be_hidden()
    assert page.evaluate(f"() => localStorage.getItem('forms.draft.{instance_id}')") is None
