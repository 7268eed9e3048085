"""The Twilio webhook for inbound SMS, and the staff simulator that goes through it."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from assistant import audit
from assistant.contacts import segments
from assistant.contacts.phone import InvalidPhone, is_test_number, mask_phone, to_e164
from assistant.deps import (
    SessionDep,
    SettingsDep,
    form_fields,
    in_request_thread,
    require_roles,
    settings_of,
)
from assistant.i18n import _
from assistant.outbox.models import OutboxMessage
from assistant.outbox.queue import messages_to
from assistant.pcw import labels
from assistant.people.models import Role, User
from assistant.settings import Settings
from assistant.sms.conversation import conversation_for, handle_inbound
from assistant.sms.models import SmsInbound
from assistant.sms.signature import public_url, sign, validate_twilio_request
from assistant.templating import render

log = logging.getLogger(__name__)

router = APIRouter()

WEBHOOK_PATH = "/sms/twilio"
# Without Twilio credentials (development, tests of the simulator) requests are signed with
# this token; production refuses every request until TWILIO_AUTH_TOKEN is set.
DEV_AUTH_TOKEN = "development-only-twilio-token"  # noqa: S105
SIMULATOR_SID_PREFIX = "SMsim"
MAX_SID = 64  # Twilio's ids are 34 characters; the column holds 64

SIMULATOR_ROLES = (Role.liaison, Role.coordinator, Role.mso, Role.pcw, Role.admin)
SimulatorUser = Annotated[User, Depends(require_roles(*SIMULATOR_ROLES))]


def auth_token(settings: Settings) -> str:
    if settings.twilio_auth_token:
        return settings.twilio_auth_token
    return "" if settings.environment == "production" else DEV_AUTH_TOKEN


@dataclass(frozen=True)
class WebhookResult:
    status_code: int
    body: str
    reply: str = ""


_TWIML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>'


def twiml(reply: str) -> str:
    """The TwiML that sends ``reply`` back (none: empty), as twilio's ``MessagingResponse``
    writes it (tested against it): written directly, without building an XML tree for one
    element on every text."""
    if not reply:
        return _TWIML_HEAD + "<Response />"
    return f"{_TWIML_HEAD}<Response><Message>{escape(reply, quote=False)}</Message></Response>"


def receive_inbound(
    settings: Settings,
    session: Session,
    *,
    url: str,
    params: Mapping[str, str],
    signature: str | None,
) -> WebhookResult:
    """One signed inbound request from Twilio (or the simulator): check, handle, reply, in the
    request's database session (the conversation commits the message and its reply together)."""
    if not validate_twilio_request(
        auth_token=auth_token(settings), url=url, params=params, signature=signature
    ):
        log.warning("sms webhook: bad signature from=%s", mask_phone(params.get("From")))
        return WebhookResult(403, "")
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    if len(sid) > MAX_SID:
        return WebhookResult(400, twiml(""))  # not a message id Twilio would send
    try:
        phone = to_e164(params.get("From", ""))
    except InvalidPhone:
        phone = ""
    if not sid or not phone:
        return WebhookResult(400, twiml(""))
    if is_test_number(phone) != sid.startswith(SIMULATOR_SID_PREFIX):
        # The test range belongs to the simulator, and the simulator to the test range.
        log.warning("sms webhook: test range mismatch from=%s", mask_phone(phone))
        return WebhookResult(200, twiml(""))
    reply = handle_inbound(
        session,
        phone=phone,
        # A NUL is not text (and PostgreSQL cannot store it): keep the rest of the message.
        body=params.get("Body", "").replace("\x00", ""),
        message_sid=sid,
        pho_phone=settings.pho_phone_number,
    )
    return WebhookResult(200, twiml(reply), reply)


@router.post(WEBHOOK_PATH)
async def twilio_inbound(request: Request) -> Response:
    # The busiest route takes its settings, form and session from the request itself (each
    # dependency costs a step of FastAPI's solving), then does its work in one thread.
    settings = settings_of(request)
    params = await form_fields(request)
    url = public_url(settings, request.url.path, request.url.query)
    signature = request.headers.get("X-Twilio-Signature")
    result = await in_request_thread(
        request,
        lambda session: receive_inbound(
            settings, session, url=url, params=params, signature=signature
        ),
    )
    if result.status_code == 403:
        return Response("Forbidden", status_code=403, media_type="text/plain")
    return Response(result.body, status_code=result.status_code, media_type="application/xml")


# -- the simulator ---------------------------------------------------------------------------

DEFAULT_SIM_PHONE = "+642100000100"


def _test_number(raw: str) -> str | None:
    """The simulator's number for ``raw``: only numbers of the test range, never a real one."""
    try:
        e164 = to_e164(raw)
    except InvalidPhone:
        return None
    return e164 if is_test_number(e164) else None


def _simulator_page(
    request: Request,
    session: Session,
    *,
    phone_raw: str,
    error: str = "",
    status_code: int = 200,
) -> Response:
    phone = ""
    rows: list[SmsInbound] = []
    sent: list[OutboxMessage] = []
    if phone_raw:
        phone = _test_number(phone_raw) or ""
        if not phone:
            error = error or _not_a_test_number()
    if phone and not error:
        rows = conversation_for(session, phone=phone)
        sent = messages_to(session, phone=phone)  # a practice's answer, a worker's text
    timed: list[tuple[datetime, dict[str, object]]] = [
        (
            row.received_at,
            {
                "row": row,
                "count": segments.count(row.reply) if row.reply else None,
                "dir": "rtl" if row.language == "ar" else "ltr",
            },
        )
        for row in rows
    ]
    timed += [(message.created_at, {"sent": message}) for message in sent]
    turns = [turn for _at, turn in sorted(timed, key=lambda pair: pair[0])]
    return render(
        request,
        "sms/simulator.html",
        {
            "phone": phone or phone_raw or DEFAULT_SIM_PHONE,
            "turns": turns,
            "labels": labels,
            "error": error,
        },
        block="conversation",
        status_code=status_code,
    )


def _not_a_test_number() -> str:
    return _(
        "Use a test number, from %(first)s to %(last)s. The simulator never uses a real number.",
        first="021 0000 0000",
        last="021 0000 9999",
    )


@router.get("/sms/simulator")
def simulator(
    request: Request, user: SimulatorUser, session: SessionDep, phone: str = ""
) -> Response:
    return _simulator_page(request, session, phone_raw=phone)


@router.post("/sms/simulator")
def simulator_send(
    request: Request,
    user: SimulatorUser,
    session: SessionDep,
    settings: SettingsDep,
    phone: Annotated[str, Form()] = "",
    body: Annotated[str, Form()] = "",
) -> Response:
    e164 = _test_number(phone)
    if e164 is None:
        return _simulator_page(
            request, session, phone_raw=phone, error=_not_a_test_number(), status_code=422
        )
    if not body.strip():
        return _simulator_page(
            request, session, phone_raw=phone, error=_("Type a message."), status_code=422
        )
    params = {
        "MessageSid": SIMULATOR_SID_PREFIX + uuid.uuid4().hex[: 34 - len(SIMULATOR_SID_PREFIX)],
        "AccountSid": settings.twilio_account_sid or "AC" + "0" * 32,
        "From": e164,
        "To": settings.twilio_from_number or "+6435550100",
        "Body": body.strip()[:1600],
        "NumMedia": "0",
    }
    url = settings.public_base_url.rstrip("/") + WEBHOOK_PATH
    signature = sign(auth_token=auth_token(settings), url=url, params=params)
    result = receive_inbound(settings, session, url=url, params=params, signature=signature)
    audit.record(
        session,
        actor_id=user.id,
        action="simulated",
        entity="sms_contact",
        entity_id=mask_phone(e164),
        status=result.status_code,
    )
    session.commit()
    if result.status_code != 200:
        return _simulator_page(
            request,
            session,
            phone_raw=phone,
            error=_(
                "The webhook refused the message (status %(status)s).", status=result.status_code
            ),
            status_code=502,
        )
    if request.headers.get("HX-Request"):
        return _simulator_page(request, session, phone_raw=e164)
    return RedirectResponse(f"/sms/simulator?phone={e164.replace('+', '%2B')}", status_code=303)
