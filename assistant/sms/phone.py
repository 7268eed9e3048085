"""Phone numbers: E.164 storage and masking for logs."""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "NZ"


class InvalidPhone(ValueError):
    pass


def to_e164(raw: str, region: str = DEFAULT_REGION) -> str:
    """``raw`` as E.164 (+64...), reading national numbers as New Zealand ones."""
    try:
        number = phonenumbers.parse(raw.strip(), region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(str(exc)) from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidPhone("not a possible phone number")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def mask_phone(phone: str | None) -> str:
    """A number safe for logs: country code and last three digits only (+64*****123)."""
    if not phone:
        return ""
    digits = phone.strip()
    if len(digits) <= 6:
        return "*" * len(digits)
    head = 3 if digits.startswith("+") else 0
    return digits[:head] + "*" * (len(digits) - head - 3) + digits[-3:]
