"""How an SMS leaves: Twilio's REST API, or a development transport that only records it."""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from assistant.clock import utcnow
from assistant.contacts.phone import mask_phone
from assistant.settings import Settings

log = logging.getLogger(__name__)

# Twilio error codes worth another try later; any other 4xx is final.
RETRYABLE_CODES = frozenset({20429, 63018, 20500, 20503})
OPTED_OUT_CODE = 21610
INVALID_NUMBER_CODE = 21211


class SendFailure(Exception):
    """A send that did not go through. ``ambiguous``: Twilio may have accepted it anyway."""

    def __init__(self, code: str, message: str, retryable: bool, ambiguous: bool = False) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = retryable
        self.ambiguous = ambiguous


@dataclass(frozen=True)
class Sent:
    sid: str
    created_at: datetime | None = None


class Transport(Protocol):
    name: str

    def send(self, *, to: str, body: str, status_callback: str | None) -> Sent:
        """Hand one message over; raise SendFailure when it was not accepted."""
        ...

    def find_sent(self, *, to: str, body: str, since: datetime, exclude: set[str]) -> Sent | None:
        """A message already accepted for ``to`` with this body since ``since``, if any."""
        ...


class RebasedHttpClient:
    """Twilio's HTTP client with the scheme and host replaced (a local fake in tests)."""

    def __new__(cls, base_url: str, timeout: float) -> Any:
        from twilio.http.http_client import TwilioHttpClient

        quiet = logging.getLogger("assistant.outbox.twilio_http")
        quiet.setLevel(logging.WARNING)  # the library logs query strings with phone numbers
        base = urlsplit(base_url)

        class _Client(TwilioHttpClient):  # type: ignore[misc]
            def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
                if base.netloc:
                    parts = urlsplit(url)
                    url = urlunsplit(
                        (base.scheme, base.netloc, base.path.rstrip("/") + parts.path, *parts[3:])
                    )
                return super().request(method, url, *args, **kwargs)

        return _Client(timeout=timeout, logger=quiet)


class TwilioTransport:
    name = "twilio"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str,
        base_url: str = "",
        timeout: float = 10.0,
    ) -> None:
        from twilio.rest import Client

        self.from_number = from_number
        self.client = Client(
            account_sid, auth_token, http_client=RebasedHttpClient(base_url, timeout)
        )

    def send(self, *, to: str, body: str, status_callback: str | None) -> Sent:
        kwargs: dict[str, Any] = {"to": to, "from_": self.from_number, "body": body}
        if status_callback:
            kwargs["status_callback"] = status_callback
        message = self._call(lambda: self.client.messages.create(**kwargs))
        return Sent(sid=str(message.sid), created_at=message.date_created)

    def find_sent(self, *, to: str, body: str, since: datetime, exclude: set[str]) -> Sent | None:
        # Twilio filters by day; the time and the body are compared here.
        day = datetime(since.year, since.month, since.day)
        found = self._call(
            lambda: self.client.messages.list(
                to=to, from_=self.from_number, date_sent_after=day, limit=50
            )
        )
        slack = since - timedelta(minutes=1)
        for message in found:
            created = message.date_created
            if message.sid in exclude or message.body != body:
                continue
            if created is None or created >= slack:
                return Sent(sid=str(message.sid), created_at=created)
        return None

    def _call(self, fn: Any) -> Any:
        import requests
        from twilio.base.exceptions import TwilioException, TwilioRestException

        try:
            return fn()
        except TwilioRestException as exc:
            raise classify(exc.status, exc.code, str(exc.msg)) from exc
        except requests.exceptions.ConnectTimeout as exc:
            raise SendFailure("connect-timeout", "could not connect", retryable=True) from exc
        except requests.exceptions.Timeout as exc:
            # The request may have reached Twilio: check before sending again.
            raise SendFailure("timeout", "no answer in time", True, ambiguous=True) from exc
        except requests.exceptions.RequestException as exc:
            raise SendFailure("network", type(exc).__name__, True, ambiguous=True) from exc
        except TwilioException as exc:
            raise SendFailure("twilio", str(exc)[:200], retryable=True) from exc


def classify(status: int, code: int | None, message: str = "") -> SendFailure:
    """Retryable or final, from the HTTP status and Twilio's error code."""
    label = str(code) if code else f"http-{status}"
    if code in RETRYABLE_CODES or status == 429 or status >= 500:
        return SendFailure(label, message[:200], retryable=True)
    return SendFailure(label, message[:200], retryable=False)


@dataclass
class DevTransport:
    """Records messages instead of sending them (no Twilio credentials)."""

    name: str = "development"
    sent: list[tuple[str, str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, *, to: str, body: str, status_callback: str | None) -> Sent:
        sid = "DV" + uuid.uuid4().hex
        with self._lock:
            self.sent.append((sid, to, body))
        log.info("development SMS %s to %s (%d characters)", sid, mask_phone(to), len(body))
        return Sent(sid=sid, created_at=utcnow())

    def find_sent(self, *, to: str, body: str, since: datetime, exclude: set[str]) -> Sent | None:
        with self._lock:
            for sid, sent_to, sent_body in self.sent:
                if sent_to == to and sent_body == body and sid not in exclude:
                    return Sent(sid=sid)
        return None


def make_transport(settings: Settings) -> Transport:
    if not settings.twilio_account_sid:
        return DevTransport()
    return TwilioTransport(
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token,
        from_number=settings.twilio_from_number,
        base_url=settings.twilio_api_base_url,
        timeout=settings.twilio_timeout_seconds,
    )
