"""Twilio request signatures, checked over the public URL Twilio called."""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator

from assistant.settings import Settings


def validate_twilio_request(
    *, auth_token: str, url: str, params: Mapping[str, str], signature: str | None
) -> bool:
    """True when ``signature`` is Twilio's signature of ``url`` and ``params``."""
    if not auth_token or not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, dict(params), signature))


def public_url(settings: Settings, path: str, query: str = "") -> str:
    """The URL Twilio used: PUBLIC_BASE_URL + path (+ query), whatever proxy is in between."""
    url = settings.public_base_url.rstrip("/") + path
    if query:
        url += "?" + query
    return url


def sign(*, auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """The signature Twilio would send (the simulator and tests sign their requests)."""
    return str(RequestValidator(auth_token).compute_signature(url, dict(params)))
