"""The whole enrolment loop in real Chromium, in Samoan and in Arabic.

The person texts through the signed Twilio webhook, chooses a practice and consents; the
practice's receptionist sees the request in "New patients", books and marks enrolled; the
outbox texts the person twice (against a fake of Twilio's REST API), each exactly once; the
coordinator's funnel counts the person once.
"""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from assistant import db as dbmod
from assistant.enrolment import notices
from assistant.enrolment.models import EnrolmentRequest
from assistant.outbox.transport import TwilioTransport
from assistant.outbox.worker import OutboxWorker
from assistant.people.models import Practice
from assistant.settings import Settings
from assistant.sms.signature import sign
from tests import fake_twilio as ft

pytestmark = pytest.mark.browser

RECEPTION = "reception@riccarton.example.nz"  # Riccarton Family Health
COORDINATOR = "coordinator@pho.example.nz"
PRACTICE = "Riccarton Family Health"
BOOKING = "Tuesday 10:30 am with Dr Lee. Bring photo ID."

# A language's conversation: greeting, "can I enrol?", yes, where, the first practice, a name, yes.
CONVERSATIONS = {
    "sm": ("Talofa", "1", "ioe", "Riccarton", "1", "Sina Tuilagi", "ioe"),
    "ar": ("مرحبا", "1", "نعم", "Riccarton", "1", "فاطمة أحمد", "نعم"),
}
PHONES = {"sm": "+64210000731", "ar": "+64210000732"}
_sids = itertools.count(1)


@pytest.fixture
def fake() -> Iterator[ft.FakeTwilio]:
    server = ft.FakeTwilio().start()
    yield server
    server.stop()


def _text(live_server: str, settings: Settings, phone: str, body: str) -> str:
    """One inbound SMS through the signed webhook; the reply in the TwiML."""
    params = {
        "MessageSid": f"SMloop{next(_sids):028d}",
        "AccountSid": settings.twilio_account_sid,
        "From": phone,
        "To": settings.twilio_from_number,
        "Body": body,
        "NumMedia": "0",
    }
    url = settings.public_base_url.rstrip("/") + "/sms/twilio"
    signature = sign(auth_token=settings.twilio_auth_token, url=url, params=params)
    response = httpx.post(
        f"{live_server}/sms/twilio",
        data=params,
        headers={"X-Twilio-Signature": signature},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    message = ET.fromstring(response.text).find("Message")
    return message.text or "" if message is not None else ""


def _send_outbox(settings: Settings, fake: ft.FakeTwilio) -> None:
    worker = OutboxWorker(
        engine=dbmod.get_engine(settings.database_url),
        transport=TwilioTransport(
            account_sid=ft.ACCOUNT_SID,
            auth_token=ft.AUTH_TOKEN,
            from_number=settings.twilio_from_number,
            base_url=fake.url,
            timeout=2.0,
        ),
    )
    worker.drain()


def _enrolled_count(page: Page, lang: str) -> int:
    page.goto(f"/dashboard/enrolment?language={lang}")
    row = page.locator("#table-stages tbody tr").last
    return int(re.sub(r"\D", "", row.locator("td").first.inner_text()) or "0")


@pytest.mark.parametrize("lang", list(CONVERSATIONS))
def test_a_text_becomes_an_enrolled_patient(
    lang: str,
    live_server: str,
    live_settings: Settings,
    live_session: Session,
    page_as: Callable[..., Page],
    fake: ft.FakeTwilio,
) -> None:
    phone = PHONES[lang]
    *steps, name, yes = CONVERSATIONS[lang]
    practice = live_session.exec(select(Practice).where(Practice.name == PRACTICE)).one()

    coordinator = page_as(COORDINATOR)
    enrolled_before = _enrolled_count(coordinator, lang)

    # The person texts: eligible, lives in Riccarton, chooses the first practice, consents.
    for body in steps:
        _text(live_server, live_settings, phone, body)
    _text(live_server, live_settings, phone, name)
    sent = _text(live_server, live_settings, phone, yes)
    assert sent == notices.request_sent(lang, practice)
    assert sent != notices.request_sent("en", practice)  # in the person's language

    # The practice sees the request in its queue, books and marks enrolled.
    reception = page_as(RECEPTION)
    reception.goto("/practice/new-patients")
    reception.get_by_role("link", name=name).click()
    expect(reception.locator("#request")).to_contain_text(name)
    reception.locator("#book-message").fill(BOOKING)
    reception.get_by_role("button", name="Accept and send").click()
    expect(reception.locator("#request")).to_contain_text(BOOKING)
    reception.get_by_role("button", name="Mark as enrolled").click()
    expect(reception.get_by_role("button", name="Mark as enrolled")).to_have_count(0)

    live_session.expire_all()
    request = live_session.exec(
        select(EnrolmentRequest).where(EnrolmentRequest.phone == phone)
    ).one()
    assert (request.status, request.name, request.language) == ("enrolled", name, lang)

    # The outbox texts the person both answers, each exactly once (a second pass sends nothing).
    _send_outbox(live_settings, fake)
    _send_outbox(live_settings, fake)
    to_person = [m.body for m in fake.accepted if m.to == phone]
    assert to_person == [
        notices.booked(lang, practice, BOOKING),
        notices.enrolled(lang, practice),
    ]
    assert to_person[1] != notices.enrolled("en", practice)
    assert all(fake.posts[body] == 1 for body in to_person)

    # The funnel counts the person once as enrolled.
    assert _enrolled_count(coordinator, lang) == enrolled_before + 1
