"""Messages a person decides about: flagged for review, failed, or still queued."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from assistant.audit import events_for
from assistant.errors import Conflict
from assistant.outbox.models import OutboxMessage, OutboxStatus
from assistant.outbox.queue import enqueue_sms
from assistant.outbox.review import cancel_message, resend_message
from assistant.people.models import Role
from tests import factories
from tests.conftest import Client

PHONE = "+64211234567"


def _message(session: Session, status: OutboxStatus, needs_review: bool = False) -> int:
    message = enqueue_sms(session, to=PHONE, body=f"Body {status}", purpose="reminder")
    session.commit()
    message.status = status
    message.needs_review = needs_review
    message.claim_token = "x" if status == OutboxStatus.sending else None
    session.add(message)
    session.commit()
    assert message.id is not None
    return message.id


def _status(session: Session, message_id: int) -> tuple[str, bool]:
    session.expire_all()
    row = session.get(OutboxMessage, message_id)
    assert row is not None
    return row.status, row.needs_review


@pytest.mark.parametrize(
    ("status", "needs_review", "resend", "cancel"),
    [
        (OutboxStatus.sending, True, "queued", "cancelled"),
        (OutboxStatus.failed, False, "queued", "cancelled"),
        (OutboxStatus.queued, False, None, "cancelled"),
        (OutboxStatus.sending, False, None, None),  # a worker holds it: hands off
        (OutboxStatus.sent, False, None, None),
        (OutboxStatus.delivered, False, None, None),
    ],
)
def test_what_can_be_sent_again_or_cancelled(
    session: Session,
    status: OutboxStatus,
    needs_review: bool,
    resend: str | None,
    cancel: str | None,
) -> None:
    coordinator = factories.user(session, Role.coordinator)
    for action, expected in [(resend_message, resend), (cancel_message, cancel)]:
        message_id = _message(session, status, needs_review)
        if expected is None:
            with pytest.raises(Conflict):
                action(session, user=coordinator, message_id=message_id)
            assert _status(session, message_id) == (status, needs_review)
        else:
            action(session, user=coordinator, message_id=message_id)
            assert _status(session, message_id) == (expected, False)
            assert len(events_for(session, "outbox_message", message_id)) == 1


def test_the_outgoing_sms_page_offers_the_actions(
    client: Client, login: object, session: Session
) -> None:
    flagged = _message(session, OutboxStatus.sending, needs_review=True)
    login(factories.user(session, Role.admin))  # type: ignore[operator]
    page = client.get("/pcw/outbox")
    assert f'action="/pcw/outbox/{flagged}/resend"' in page.text
    assert "Check before sending again" in page.text
    response = client.post(f"/pcw/outbox/{flagged}/resend")
    assert (response.status_code, response.headers["location"]) == (303, "/pcw/outbox")
    assert _status(session, flagged) == ("queued", False)
    response = client.post(f"/pcw/outbox/{flagged}/resend")
    assert response.status_code == 409
