"""Twilio's delivery status callbacks for messages the outbox sent."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from assistant.deps import SessionDep, SettingsDep
from assistant.outbox.status import apply_status
from assistant.settings import Settings
from assistant.sms.signature import public_url, validate_twilio_request

log = logging.getLogger(__name__)

router = APIRouter()


@router.post("/sms/twilio/status")
async def delivery_status(request: Request, settings: SettingsDep, session: SessionDep) -> Response:
    """Authenticated by Twilio's signature (no user session: Twilio calls it)."""
    form = await request.form()
    params = {key: str(value) for key, value in form.multi_items()}
    url = public_url(settings, request.url.path, request.url.query)
    signature = request.headers.get("X-Twilio-Signature")
    raw_id = request.query_params.get("m", "")
    return await run_in_threadpool(_apply, settings, session, url, params, signature, raw_id)


def _apply(
    settings: Settings,
    session: Session,
    url: str,
    params: dict[str, str],
    signature: str | None,
    raw_id: str,
) -> Response:
    """The blocking part (the database), off the event loop."""
    if not validate_twilio_request(
        auth_token=settings.twilio_auth_token,
        url=url,
        params=params,
        signature=signature,
    ):
        return Response("Invalid signature", status_code=403, media_type="text/plain")
    message = apply_status(
        session,
        sid=params.get("MessageSid") or params.get("SmsSid") or "",
        status=params.get("MessageStatus") or params.get("SmsStatus") or "",
        message_id=int(raw_id)
        if raw_id.isascii() and raw_id.isdigit() and len(raw_id) < 19
        else None,
        error_code=params.get("ErrorCode") or None,
    )
    if message is None:
        log.info("status callback for a message that is not ours")
    return Response(status_code=204)


def _plain_id(raw: str) -> bool:
    """ASCII digits that fit a 64-bit id ("¹".isdigit() is true, but int() refuses it)."""
    return raw.isascii() and raw.isdigit() and len(raw) < 19
