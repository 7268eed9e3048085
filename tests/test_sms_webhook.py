"""The Twilio webhook over HTTP: signatures, TwiML, exactly-once by MessageSid, the simulator."""

from __future__ import annotations

import itertools
import logging
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func
from sqlmodel import Session, col, select
from twilio.request_validator import RequestValidator

from assistant import db as dbmod
from assistant.app import create_app
from assistant.contacts.models import SmsContact
from assistant.i18n import use_locale
from assistant.outbox.queue import enqueue_sms
from assistant.pcw.models import Referral
from assistant.people.models import Role
from assistant.settings import Settings
from assistant.sms import messages as msg
from assistant.sms.models import SmsInbound
from assistant.web.sms import SIMULATOR_SID_PREFIX, receive_inbound
from tests import factories
from tests.conftest import Client

PUBLIC = "https://sms.pho.example.nz"
_sids = itertools.count(1)


def new_sid() -> str:
    return f"SM{next(_sids):032x}"


@pytest.fixture
def sms_settings(settings: Settings) -> Settings:
    """Twilio calls a public URL; the app sits behind a proxy on another host name."""
    return settings.model_copy(update={"public_base_url": PUBLIC})


@pytest.fixture
def sms_app(sms_settings: Settings) -> FastAPI:
    return create_app(sms_settings)


@pytest.fixture
def twilio(sms_app: FastAPI, sms_settings: Settings) -> Any:
    """``twilio(body, ...)`` posts a signed inbound message like Twilio does."""
    client = Client(sms_app, follow_redirects=False)

    def post(
        body: str,
        *,
        sid: str | None = None,
        phone: str = "+64211234567",
        path: str = "/sms/twilio",
        sign_url: str | None = None,
        signature: str | None = "compute",
        extra: dict[str, str] | None = None,
        tamper: dict[str, str] | None = None,
    ) -> Any:
        params = {
            "MessageSid": sid or new_sid(),
            "SmsSid": sid or "",
            "AccountSid": sms_settings.twilio_account_sid,
            "From": phone,
            "To": sms_settings.twilio_from_number,
            "Body": body,
            "NumMedia": "0",
        } | (extra or {})
        headers = {}
        if signature == "compute":
            url = sign_url or PUBLIC + path
            signature = RequestValidator(sms_settings.twilio_auth_token).compute_signature(
                url, params
            )
        if signature is not None:
            headers["X-Twilio-Signature"] = signature
        # Twilio sends no cookies and no CSRF token: use a bare client, not the browser-like one.
        response = client.post(path, data=params | (tamper or {}), headers=headers)
        return response

    with client:
        yield post


def reply_of(response: Any) -> str:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(response.text)
    assert root.tag == "Response"
    messages = root.findall("Message")
    assert len(messages) <= 1
    return messages[0].text or "" if messages else ""


def counts(session: Session) -> tuple[int, int, int]:
    session.expire_all()
    contacts = session.exec(select(func.count()).select_from(SmsContact)).one()
    inbound = session.exec(select(func.count()).select_from(SmsInbound)).one()
    referrals = session.exec(select(func.count()).select_from(Referral)).one()
    return int(contacts), int(inbound), int(referrals)


def en(build: Callable[..., str], *args: Any) -> str:
    with use_locale("en"):
        return build(*args)


# -- signatures ----------------------------------------------------------------------------


def test_a_signed_message_gets_a_twiml_reply(twilio: Any, session: Session) -> None:
    assert reply_of(twilio("hello")) == en(msg.welcome)
    assert counts(session) == (1, 1, 0)


def test_the_signature_covers_the_public_url_not_the_internal_one(
    twilio: Any, session: Session
) -> None:
    response = twilio("hello", sign_url="http://testserver/sms/twilio")
    assert response.status_code == 403
    assert counts(session) == (0, 0, 0)


def test_a_query_string_is_part_of_the_signed_url(twilio: Any, session: Session) -> None:
    ok = twilio("hello", path="/sms/twilio?tenant=chch")
    assert reply_of(ok) == en(msg.welcome)
    bad = twilio("1", path="/sms/twilio?tenant=chch", sign_url=PUBLIC + "/sms/twilio")
    assert bad.status_code == 403
    assert counts(session) == (1, 1, 0)


@pytest.mark.parametrize(
    "case", ["missing", "garbage", "other token", "tampered body", "tampered sender"]
)
def test_bad_signatures_get_403_and_store_nothing(
    twilio: Any, session: Session, sms_settings: Settings, case: str
) -> None:
    kwargs: dict[str, Any] = {
        "missing": {"signature": None},
        "garbage": {"signature": "bm90IGEgc2lnbmF0dXJl"},
        "other token": {
            "signature": RequestValidator("another-token").compute_signature(
                PUBLIC + "/sms/twilio", {"Body": "hello"}
            )
        },
        "tampered body": {"tamper": {"Body": "5"}},
        "tampered sender": {"tamper": {"From": "+64220000000"}},
    }[case]
    response = twilio("hello", **kwargs)
    assert response.status_code == 403
    assert "<Response" not in response.text
    assert counts(session) == (0, 0, 0)


def test_without_an_auth_token_production_refuses_everything(settings: Settings) -> None:
    prod = settings.model_copy(
        update={"environment": "production", "twilio_auth_token": "", "secret_key": "s" * 40}
    )
    with Session(dbmod.get_engine(settings.database_url)) as db:
        result = receive_inbound(
            prod, db, url=PUBLIC + "/sms/twilio", params={"Body": "hi"}, signature="x"
        )
    assert result.status_code == 403


def test_a_message_without_a_sid_is_refused(twilio: Any, session: Session) -> None:
    response = twilio("hello", sid="", extra={"MessageSid": "", "SmsSid": ""})
    assert response.status_code == 400
    assert counts(session) == (0, 0, 0)


def test_phone_numbers_are_stored_as_e164_and_masked_in_logs(
    twilio: Any, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="assistant.sms"):
        reply_of(twilio("hello", phone="+64 21 123 4567"))
    contact = session.exec(select(SmsContact)).one()
    assert contact.phone == "+64211234567"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "+64******567" in logged
    assert "1234567" not in logged and "211234" not in logged


def test_an_opted_out_number_gets_empty_twiml(twilio: Any, session: Session) -> None:
    reply_of(twilio("hello"))
    assert reply_of(twilio("STOP")) == en(msg.opted_out)
    response = twilio("hello again")
    assert reply_of(response) == ""
    assert ET.fromstring(response.text).findall("Message") == []


# -- exactly once ------------------------------------------------------------------------


def test_a_retry_returns_the_same_reply_and_changes_nothing(twilio: Any, session: Session) -> None:
    reply_of(twilio("hello"))
    sid = new_sid()
    first = twilio("5", sid=sid)  # call me back: makes a referral
    assert reply_of(first) == en(msg.callback_booked)
    state = counts(session)
    contact = session.exec(select(SmsContact)).one()
    step, activity = contact.step, contact.last_activity
    again = twilio("5", sid=sid)
    assert again.text == first.text
    # Even a copy with another body: the message with that SID was handled already.
    other = twilio("1", sid=sid)
    assert other.text == first.text
    assert counts(session) == state == (1, 2, 1)
    session.expire_all()
    contact = session.exec(select(SmsContact)).one()
    assert (contact.step, contact.last_activity) == (step, activity)


def test_a_retry_of_a_first_message_gets_its_reply(twilio: Any, session: Session) -> None:
    sid = new_sid()
    first = twilio("hello", sid=sid, phone="+64215550003")
    assert reply_of(first) == en(msg.welcome)
    assert twilio("hello", sid=sid, phone="+64215550003").text == first.text
    assert counts(session) == (1, 1, 0)


def test_an_opted_out_number_s_retry_gets_the_same_empty_reply(
    twilio: Any, session: Session
) -> None:
    reply_of(twilio("hello", phone="+64215550004"))
    reply_of(twilio("STOP", phone="+64215550004"))
    sid = new_sid()
    assert reply_of(twilio("what does it cost", sid=sid, phone="+64215550004")) == ""
    assert reply_of(twilio("START", sid=sid, phone="+64215550004")) == ""  # handled already
    session.expire_all()
    assert session.exec(select(SmsContact)).one().opted_out
    assert counts(session) == (1, 3, 0)


def test_concurrent_copies_are_handled_once(
    sms_settings: Settings, session: Session, twilio: Any
) -> None:
    reply_of(twilio("hello", phone="+64215550001"))
    params = {
        "MessageSid": new_sid(),
        "AccountSid": sms_settings.twilio_account_sid,
        "From": "+64215550001",
        "To": sms_settings.twilio_from_number,
        "Body": "5",
    }
    url = PUBLIC + "/sms/twilio"
    signature = RequestValidator(sms_settings.twilio_auth_token).compute_signature(url, params)
    copies = 8
    start = threading.Barrier(copies)

    def deliver(_: int) -> Any:
        start.wait()
        with Session(dbmod.get_engine(sms_settings.database_url)) as db:
            return receive_inbound(sms_settings, db, url=url, params=params, signature=signature)

    with ThreadPoolExecutor(copies) as pool:
        results = list(pool.map(deliver, range(copies)))
    assert {r.status_code for r in results} == {200}
    assert {r.body for r in results} == {results[0].body}
    assert results[0].reply == en(msg.callback_booked)
    assert counts(session) == (1, 2, 1)


def test_a_new_number_texting_from_several_workers_at_once_gets_one_contact(
    sms_settings: Settings, session: Session
) -> None:
    url = PUBLIC + "/sms/twilio"
    validator = RequestValidator(sms_settings.twilio_auth_token)
    messages = []
    for body in ["hello", "hello", "hello", "hello", "hello", "hello"]:
        params = {"MessageSid": new_sid(), "From": "+64215550002", "Body": body}
        messages.append((params, validator.compute_signature(url, params)))
    start = threading.Barrier(len(messages))

    def deliver(item: tuple[dict[str, str], str]) -> Any:
        start.wait()
        with Session(dbmod.get_engine(sms_settings.database_url)) as db:
            return receive_inbound(sms_settings, db, url=url, params=item[0], signature=item[1])

    with ThreadPoolExecutor(len(messages)) as pool:
        results = list(pool.map(deliver, messages))
    assert {r.status_code for r in results} == {200}
    assert counts(session) == (1, len(messages), 0)


# -- the simulator -------------------------------------------------------------------------


@pytest.fixture
def staff_client(sms_app: FastAPI, session: Session) -> Any:
    # PUBLIC_BASE_URL is https: cookies are Secure, so the browser speaks https too.
    client = Client(sms_app, follow_redirects=False, base_url="https://testserver")
    with client:
        user = factories.user(session, Role.pcw)
        response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
        assert response.status_code == 303
        yield client


def test_the_simulator_texts_through_the_signed_webhook(
    staff_client: Client, session: Session
) -> None:
    page = staff_client.get("/sms/simulator")
    assert page.status_code == 200
    assert 'name="phone"' in page.text and 'name="body"' in page.text
    sent = staff_client.post("/sms/simulator", data={"phone": "021 0000 0199", "body": "Kia ora"})
    assert sent.status_code == 303
    assert sent.headers["location"] == "/sms/simulator?phone=%2B642100000199"
    shown = staff_client.get(sent.headers["location"])
    with use_locale("mi"):
        first_line = msg.welcome().splitlines()[0]
    assert first_line in shown.text
    row = session.exec(select(SmsInbound)).one()
    assert row.message_sid.startswith(SIMULATOR_SID_PREFIX)
    assert row.language == "mi"


def test_the_simulator_answers_htmx_with_the_conversation_only(staff_client: Client) -> None:
    response = staff_client.post(
        "/sms/simulator",
        data={"phone": "+642100000198", "body": "hello"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="sms-sim"' in response.text
    assert "5 Call me back" in response.text
    assert "GSM-7 · 1 segment<" in response.text


def test_the_simulator_never_touches_or_reveals_a_real_number(
    staff_client: Client, twilio: Any, session: Session
) -> None:
    reply_of(twilio("hello", phone="+64215550197"))
    before = counts(session)
    # Sending as a real number, or looking one up, is refused the same way whether or not it
    # has ever texted us: the answer tells nothing, and nothing is stored.
    for phone in ("+64215550197", "+64215550196"):
        response = staff_client.post("/sms/simulator", data={"phone": phone, "body": "1"})
        assert response.status_code == 422
        assert "Use a test number" in response.text
        page = staff_client.get(f"/sms/simulator?phone={phone.replace('+', '%2B')}")
        assert "5 Call me back" not in page.text  # the real conversation is not shown
    assert counts(session) == before
    assert session.exec(select(SmsContact).where(SmsContact.phone == "+64215550196")).first() is (
        None
    )


def test_real_traffic_from_the_test_range_is_not_stored(twilio: Any, session: Session) -> None:
    before = counts(session)
    response = twilio("hello", phone="+642100000150")
    assert response.status_code == 200
    assert "<Message>" not in response.text
    assert counts(session) == before


def test_the_simulator_checks_its_input(staff_client: Client) -> None:
    assert staff_client.post("/sms/simulator", data={"phone": "abc", "body": "x"}).status_code == (
        422
    )
    empty = {"phone": "021 0000 0100", "body": " "}
    assert staff_client.post("/sms/simulator", data=empty).status_code == 422


def test_simulated_messages_are_listed_oldest_first(staff_client: Client, session: Session) -> None:
    for body in ["hello", "1", "yes"]:
        staff_client.post("/sms/simulator", data={"phone": "+642100000196", "body": body})
    page = staff_client.get("/sms/simulator?phone=%2B642100000196").text
    assert page.index(en(msg.eligibility_citizen)) < page.index(en(msg.eligible).split(":")[0])
    rows = session.exec(select(SmsInbound).order_by(col(SmsInbound.id))).all()
    assert [r.body for r in rows] == ["hello", "1", "yes"]


def test_texts_the_number_was_sent_show_in_the_simulators_thread(
    staff_client: Client, session: Session
) -> None:
    """What a practice or a worker texted the test number shows in its thread, in order."""
    staff_client.post("/sms/simulator", data={"phone": "+642100000195", "body": "hello"})
    enqueue_sms(session, to="+642100000195", body="Riccarton Clinic can see you", purpose="test")
    enqueue_sms(session, to="+642100000194", body="Someone else's text", purpose="test")
    session.commit()
    page = staff_client.get("/sms/simulator?phone=%2B642100000195").text
    assert page.index("5 Call me back") < page.index("Riccarton Clinic can see you")
    assert "Waiting to send" in page
    assert "Someone else's text" not in page


def test_a_nul_in_a_text_is_dropped_and_the_rest_kept(twilio: Any, session: Session) -> None:
    reply = reply_of(twilio("hel\x00lo", phone="+64211230001"))
    assert reply  # answered as "hello"
    row = session.exec(select(SmsInbound).order_by(col(SmsInbound.id).desc())).first()
    assert row is not None and row.body == "hello"


def test_a_message_id_no_twilio_would_send_is_refused(twilio: Any, session: Session) -> None:
    before = counts(session)
    response = twilio("hello", sid="SM" + "x" * 80, phone="+64211230002")
    assert response.status_code == 400
    assert counts(session) == before


@pytest.mark.parametrize(
    "reply",
    [
        "",
        "Kia ora! Reply 1 for English.",
        "Fees < $20 & free under-14s > see <https://example.nz/?a=1&b=2>",
        "Quotes \"double\" and 'single', a line\nbreak, a return\r, a tab\t.",
        "ā ē ī ō ū · 中文 · العربية \u200f · 🙂",
    ],
)
def test_the_twiml_reply_is_what_twilios_library_writes(reply: str) -> None:
    from twilio.twiml.messaging_response import MessagingResponse

    from assistant.web.sms import twiml

    expected = MessagingResponse()
    if reply:
        expected.message(reply)
    assert twiml(reply) == str(expected)
