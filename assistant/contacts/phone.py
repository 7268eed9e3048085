"""Phone numbers: E.164 storage and masking for logs."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

DEFAULT_REGION = "NZ"


class InvalidPhone(ValueError):
    pass


@lru_cache(maxsize=4096)
def to_e164(raw: str, region: str = DEFAULT_REGION) -> str:
    """``raw`` as E.164 (+64...), reading national numbers as New Zealand ones. (People text
    more than once: the numbers seen lately are remembered; a number refused is not.)"""
    try:
        number = phonenumbers.parse(raw.strip(), region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(str(exc)) from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidPhone("not a possible phone number")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


# Numbers no text reaches: landlines and service numbers (0800, premium, shared cost...).
_NOT_FOR_TEXTS = frozenset(
    {
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.TOLL_FREE,
        phonenumbers.PhoneNumberType.PREMIUM_RATE,
        phonenumbers.PhoneNumberType.SHARED_COST,
        phonenumbers.PhoneNumberType.UAN,
        phonenumbers.PhoneNumberType.VOICEMAIL,
    }
)


def takes_texts(e164: str) -> bool:
    """False for a number known to be a landline or a service number; True for a mobile, and
    for a number the numbering plan cannot place (a new range, an unusual foreign number)."""
    try:
        number = phonenumbers.parse(e164, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(number) not in _NOT_FOR_TEXTS


# Numbers the SMS simulator texts from: +64 21 0000 0000 to +64 21 0000 9999, a block no real
# phone has here. The simulator uses nothing else, and the webhook stores nothing real from it,
# so trying the service can never touch, or reveal, a real person's conversation.
TEST_RANGE_PREFIX = "+64210000"
TEST_RANGE_SAMPLE = "021 0000 0100"


def is_test_number(e164: str) -> bool:
    return e164.startswith(TEST_RANGE_PREFIX) and len(e164) == len(TEST_RANGE_PREFIX) + 4


def mask_phone(phone: str | None) -> str:
    """A number safe for logs: country code and last three digits only (+64*****123)."""
    if not phone:
        return ""
    digits = phone.strip()
    if len(digits) <= 6:
        return "*" * len(digits)
    head = 3 if digits.startswith("+") else 0
    return digits[:head] + "*" * (len(digits) - head - 3) + digits[-3:]
