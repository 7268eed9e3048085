"""Delivery status callbacks: Twilio's signature, and statuses that only move forward."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from assistant.contacts.optout import is_opted_out
from assistant.outbox.models import OutboxMessage, OutboxStatus
from assistant.outbox.queue import enqueue_sms
from assistant.outbox.status import apply_status
from assistant.settings import Settings
from assistant.sms.signature import sign
from tests.conftest import Client

PHONE = "+64211234567"
URL = "http://testserver/sms/twilio/status"


def _sent(session: Session, sid: str = "SM111", body: str = "Kia ora") -> OutboxMessage:
    message = enqueue_sms(session, to=PHONE, body=body, purpose="pcw-reply")
    session.commit()
    message.status = OutboxStatus.sent
    message.twilio_sid = sid
    session.add(message)
    session.commit()
    session.refresh(message)
    return message


def _params(sid: str, status: str, **extra: str) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "AccountSid": "AC00000000000000000000000000000000",
        "To": PHONE,
        "From": "+6435550100",
        "ApiVersion": "2010-04-01",
        **extra,
    }


def _post(
    client: Client, settings: Settings, params: dict[str, str], query: str = "", **kw: str
) -> int:
    url = URL + (f"?{query}" if query else "")
    signature = kw.get(
        "signature", sign(auth_token=settings.twilio_auth_token, url=url, params=params)
    )
    headers = {"X-Twilio-Signature": signature} if signature else {}
    response = client.post(url.removeprefix("http://testserver"), data=params, headers=headers)
    return response.status_code


def _reload(session: Session, message: OutboxMessage) -> OutboxMessage:
    session.expire_all()
    found = session.get(OutboxMessage, message.id)
    assert found is not None
    return found


def test_a_signed_callback_records_delivery(
    client: Client, settings: Settings, session: Session
) -> None:
    message = _sent(session)
    assert _post(client, settings, _params("SM111", "delivered")) == 204
    row = _reload(session, message)
    assert (row.status, row.delivery_status) == ("delivered", "delivered")


@pytest.mark.parametrize("signature", ["", "bm90LXRoZS1yaWdodC1zaWduYXR1cmU="])
def test_a_callback_with_a_missing_or_wrong_signature_is_refused_and_changes_nothing(
    client: Client, settings: Settings, session: Session, signature: str
) -> None:
    message = _sent(session)
    assert _post(client, settings, _params("SM111", "failed"), signature=signature) == 403
    row = _reload(session, message)
    assert (row.status, row.delivery_status) == ("sent", None)


def test_a_signature_for_other_parameters_is_refused(
    client: Client, settings: Settings, session: Session
) -> None:
    message = _sent(session)
    signed = sign(
        auth_token=settings.twilio_auth_token, url=URL, params=_params("SM111", "delivered")
    )
    tampered = _params("SM111", "undelivered")
    assert _post(client, settings, tampered, signature=signed) == 403
    assert _reload(session, message).delivery_status is None


def test_statuses_only_move_forward(client: Client, settings: Settings, session: Session) -> None:
    message = _sent(session)
    for status, expected in [
        ("sending", ("sent", "sending")),
        ("delivered", ("delivered", "delivered")),
        ("sent", ("delivered", "delivered")),  # late: ignored
        ("queued", ("delivered", "delivered")),
        ("undelivered", ("delivered", "delivered")),  # same rank, final already
    ]:
        assert _post(client, settings, _params("SM111", status)) == 204
        row = _reload(session, message)
        assert (row.status, row.delivery_status) == expected, status


def test_undelivered_marks_the_message_failed_with_the_error_code(
    client: Client, settings: Settings, session: Session
) -> None:
    message = _sent(session)
    assert _post(client, settings, _params("SM111", "undelivered", ErrorCode="30003")) == 204
    row = _reload(session, message)
    assert (row.status, row.delivery_status, row.last_error_code) == (
        "failed",
        "undelivered",
        "30003",
    )


def test_a_failed_delivery_with_21610_opts_the_contact_out(
    client: Client, settings: Settings, session: Session
) -> None:
    _sent(session)
    assert _post(client, settings, _params("SM111", "failed", ErrorCode="21610")) == 204
    assert is_opted_out(session, phone=PHONE)


def test_the_message_id_in_the_callback_url_settles_a_send_we_never_heard_back_from(
    client: Client, settings: Settings, session: Session
) -> None:
    message = enqueue_sms(session, to=PHONE, body="Lost answer", purpose="reminder")
    session.commit()
    message.status = OutboxStatus.queued  # a timed-out attempt, waiting to be retried
    message.last_error_code = "timeout"
    session.add(message)
    session.commit()
    query = f"m={message.id}"
    assert _post(client, settings, _params("SM222", "sent"), query=query) == 204
    row = _reload(session, message)
    assert (row.status, row.twilio_sid, row.claim_token) == ("sent", "SM222", None)


def test_a_callback_for_someone_elses_message_changes_nothing(
    client: Client, settings: Settings, session: Session
) -> None:
    message = _sent(session, sid="SM111")
    query = f"m={message.id}"  # the id points at a message with a different sid
    assert _post(client, settings, _params("SM999", "failed"), query=query) == 204
    row = _reload(session, message)
    assert (row.status, row.twilio_sid) == ("sent", "SM111")


def test_apply_status_without_http(session: Session) -> None:
    message = _sent(session, sid="SM333")
    assert apply_status(session, sid="SM333", status="delivered") is not None
    assert apply_status(session, sid="SM333", status="sent") is not None
    assert apply_status(session, sid="SMnope", status="delivered") is None
    assert apply_status(session, sid="SM333", status="exploded") is None
    assert _reload(session, message).status == OutboxStatus.delivered
