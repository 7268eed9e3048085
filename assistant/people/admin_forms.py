"""The admin's forms: what each accepts, and what a person is told about what it refuses.

A pydantic model per form carries the limits (lengths, ranges, patterns, choices); its fields'
``Says`` give the messages, and ``read_form`` turns failed checks into ``FormInvalid`` with a
message per field in the person's language. Checks against stored records (a name or email
taken, a practice that exists) get the session through the validation context.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails, PydanticCustomError
from sqlmodel import Session, func, select

from assistant.errors import Invalid
from assistant.i18n import LANGUAGES, _, lazy_gettext
from assistant.people.models import Agency, Practice, Role, Team, TeamKind, User

MIN_PASSWORD = 10
MAX_PASSWORD = 1024
_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
_PHONE = r"^[0-9 +()\-]*$"
_POSTCODE = r"^[A-Za-z0-9 ]*$"

Form = TypeVar("Form", bound=BaseModel)


class FormInvalid(Invalid):
    """What was typed does not pass; ``errors`` maps field names to translated messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(_("Please correct the problems marked below."))
        self.errors = errors


# Reading forms

# pydantic's error types, grouped as a person would see them.
EMPTY = frozenset({"missing", "too_short", "string_too_short"})
TOO_LONG = frozenset({"too_long", "string_too_long"})
PATTERN = frozenset({"string_pattern_mismatch"})
_SAID = "said"  # a check of ours that says its own (translated) message
_NOT_TEXT = "not_text"


@dataclass(frozen=True)
class Says:
    """In a field's ``Annotated``: the message a person sees when the field's checks of these
    kinds fail (of any kind when none are listed). A lazy string: translated when shown."""

    message: object
    kinds: frozenset[str] = frozenset()


def _refusal(message: str, *, field: str | None = None) -> PydanticCustomError:
    """A failed check with its own message; ``field`` puts it on another field than the one
    checked (a pair of fields where one is missing)."""
    ctx: dict[str, str] = {"message": message}
    if field is not None:
        ctx["field"] = field
    return PydanticCustomError(_SAID, "{message}", ctx)


def _said(error: ErrorDetails, info: FieldInfo | None) -> str:
    kind, ctx = error["type"], error.get("ctx", {})
    if kind == _SAID:
        return str(ctx["message"])
    for says in info.metadata if info is not None else ():
        if isinstance(says, Says) and (not says.kinds or kind in says.kinds):
            return str(says.message)
    if kind in TOO_LONG:
        count = ctx.get("actual_length", len(str(error["input"])))
        return _(
            "Use at most %(max)d characters (you typed %(count)d).",
            max=ctx["max_length"],
            count=count,
        )
    if kind == _NOT_TEXT:
        return _(
            "Something in what was sent cannot be stored: a number that is far too long, or a "
            "character that is not text. Check it and try again."
        )
    return _("Please correct the problems marked below.")


def _messages(exc: ValidationError, model: type[BaseModel]) -> dict[str, str]:
    """The first failed check's message per field, in the form's order."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        name = str(error.get("ctx", {}).get("field") or error["loc"][0])
        errors.setdefault(name, _said(error, model.model_fields.get(name)))
    return errors


@dataclass(frozen=True)
class Stored:
    """What the checks against stored records need (names and emails already taken, choices
    that exist): the session, and the record being changed (None for a new one)."""

    session: Session
    record_id: int | None = None


def _stored(info: ValidationInfo) -> Stored:
    if not isinstance(info.context, Stored):
        raise TypeError("this form is checked against stored records: read_form(..., session=)")
    return info.context


def read_form(
    model: type[Form],
    form: Mapping[str, str],
    *,
    session: Session | None = None,
    record_id: int | None = None,
) -> Form:
    """What was typed, checked by ``model``; FormInvalid with a message per field otherwise."""
    context = None if session is None else Stored(session, record_id)
    try:
        return model.model_validate(dict(form), context=context)
    except ValidationError as exc:
        raise FormInvalid(_messages(exc, model)) from None


def form_id(raw: str) -> int | None:
    """An id as a form sends it (a chosen option): None when nothing was chosen; 0, which no
    record has, when it is not plain digits within a database id's range, so the usual checks
    refuse it (str.isdigit() alone passes "¹", which int() refuses)."""
    text = raw.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit() and len(text) <= 10 and int(text) < 2**31:
        return int(text)
    return 0


def _folded(value: object) -> str:
    """Runs of spaces, tabs and line breaks as one space; none at either end."""
    return " ".join(str(value).split())


def _stripped(value: object) -> str:
    return str(value).strip()


def _text_only(value: str) -> str:
    if "\x00" in value:  # not text, and PostgreSQL cannot store it
        raise PydanticCustomError(_NOT_TEXT, "a character that is not text")
    return value


def _comma_list(value: object) -> str:
    return ", ".join(part.strip() for part in str(value).split(",") if part.strip())


def _decimal(value: object) -> float | None:
    """A number as typed, with a decimal comma or point; None when empty."""
    if value is None:
        return None
    text = str(value).strip().replace(",", ".")
    return float(text) if text else None


def _ticked(value: object) -> bool:
    return str(value).lower() in {"1", "on", "true", "yes"}


def _chosen_id(value: object) -> int | None:
    return None if value is None else form_id(str(value))


def _language(value: object) -> str | None:
    return value if isinstance(value, str) and value in LANGUAGES else None


def _day(value: object) -> date | None:
    text = "" if value is None else str(value).strip()
    return date.fromisoformat(text) if text else None


Text = Annotated[str, BeforeValidator(_folded), AfterValidator(_text_only)]
Flag = Annotated[bool, BeforeValidator(_ticked)]
ChosenId = Annotated[int | None, BeforeValidator(_chosen_id)]
Latitude = Annotated[
    Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)] | None,
    BeforeValidator(_decimal),
    Says(lazy_gettext("Enter a latitude between -90 and 90.")),
]
Longitude = Annotated[
    Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)] | None,
    BeforeValidator(_decimal),
    Says(lazy_gettext("Enter a longitude between -180 and 180.")),
]
NAME_TOO_SHORT = Says(lazy_gettext("Enter a name of at least 2 characters."), EMPTY)
Password = Annotated[
    str,
    Field(min_length=MIN_PASSWORD, max_length=MAX_PASSWORD, repr=False),
    Says(lazy_gettext("Use a password of at least %(min)d characters.", min=MIN_PASSWORD), EMPTY),
    Says(lazy_gettext("Use a password of at most %(max)d characters.", max=MAX_PASSWORD), TOO_LONG),
]


class _FormModel(BaseModel):
    # Defaults are checked too (a field left out is read as empty), with Python's regular
    # expressions (the same whitespace as str.split()).
    model_config = ConfigDict(frozen=True, validate_default=True, regex_engine="python-re")


# Practices


class PracticeForm(_FormModel):
    name: Annotated[Text, Field(min_length=2, max_length=200), NAME_TOO_SHORT] = ""
    address: Annotated[Text, Field(max_length=300)] = ""
    suburb: Annotated[Text, Field(max_length=100)] = ""
    postcode: Annotated[
        Text,
        Field(max_length=10, pattern=_POSTCODE),
        AfterValidator(str.upper),
        Says(lazy_gettext("Enter a postcode using letters and digits only."), PATTERN),
    ] = ""
    latitude: Latitude = None
    longitude: Longitude = None
    phone: Annotated[
        Text,
        Field(max_length=40, pattern=_PHONE),
        Says(lazy_gettext("Enter a phone number using digits, spaces and + ( ) - only."), PATTERN),
    ] = ""
    accepting_new_patients: Flag = False
    fee_notes: Annotated[Text, Field(max_length=500)] = ""
    # Language names, comma-separated.
    languages: Annotated[
        str, BeforeValidator(_comma_list), AfterValidator(_text_only), Field(max_length=200)
    ] = ""

    @field_validator("longitude")
    @classmethod
    def _both_or_neither(cls, longitude: float | None, info: ValidationInfo) -> float | None:
        # Only once the latitude passed (else it is not in info.data).
        if "latitude" in info.data and (info.data["latitude"] is None) != (longitude is None):
            raise _refusal(
                _("Enter both latitude and longitude, or leave both empty."),
                field="latitude" if longitude is not None else "longitude",
            )
        return longitude


# Teams and agencies


def _name_taken(
    session: Session, model: type[Team] | type[Agency], name: str, own: int | None
) -> bool:
    """Another row has this name, whatever the case: compared in Python, as the databases'
    lower() leaves letters such as Ō alone (a few dozen rows)."""
    wanted = name.casefold()
    rows = session.exec(select(model.id, model.name)).all()
    return any(row_id != own and row_name.casefold() == wanted for row_id, row_name in rows)


class TeamForm(_FormModel):
    name: Annotated[Text, Field(min_length=2, max_length=120), NAME_TOO_SHORT] = ""
    kind: Annotated[TeamKind, Says(lazy_gettext("Choose what kind of team this is."))]

    @field_validator("name")
    @classmethod
    def _name_free(cls, name: str, info: ValidationInfo) -> str:
        stored = _stored(info)
        if _name_taken(stored.session, Team, name, stored.record_id):
            raise _refusal(_("Another team already has this name."))
        return name


class AgencyForm(_FormModel):
    name: Annotated[Text, Field(min_length=2, max_length=160), NAME_TOO_SHORT] = ""

    @field_validator("name")
    @classmethod
    def _name_free(cls, name: str, info: ValidationInfo) -> str:
        stored = _stored(info)
        if _name_taken(stored.session, Agency, name, stored.record_id):
            raise _refusal(_("Another agency already has this name."))
        return name


# Users


class UserForm(_FormModel):
    """A user's details; the affiliations the role does not use are dropped."""

    name: Annotated[
        Text,
        Field(min_length=1, max_length=120),
        Says(lazy_gettext("Enter the person's name."), EMPTY),
    ] = ""
    email: Annotated[
        str,
        BeforeValidator(_stripped),
        AfterValidator(_text_only),
        Field(max_length=254, pattern=_EMAIL),
        Says(lazy_gettext("Enter an email address like name@example.nz.")),
    ] = ""
    role: Annotated[Role, Says(lazy_gettext("Choose a role."))]
    practice_id: ChosenId = None
    team_id: ChosenId = None
    agency_id: ChosenId = None
    locale: Annotated[str | None, BeforeValidator(_language)] = None
    # Practice staff only: keeps the practice's "taking new patients" listing current.
    practice_manager: Flag = False

    @field_validator("email")
    @classmethod
    def _email_free(cls, email: str, info: ValidationInfo) -> str:
        stored = _stored(info)
        # Both sides through the database's lower(): Python's also folds letters such as Ü,
        # which let an existing address through to the unique index.
        same = func.lower(User.email) == func.lower(email)
        other = stored.session.exec(select(User).where(same)).first()
        if other is not None and other.id != stored.record_id:
            raise _refusal(_("Another user already has this email address."))
        return email

    # The role is checked first: it is in info.data when it passed.

    @field_validator("practice_id")
    @classmethod
    def _practice(cls, practice_id: int | None, info: ValidationInfo) -> int | None:
        if info.data.get("role") != Role.practice_staff:
            return None
        if practice_id is None or _stored(info).session.get(Practice, practice_id) is None:
            raise _refusal(_("Choose the practice this person works at."))
        return practice_id

    @field_validator("team_id")
    @classmethod
    def _team(cls, team_id: int | None, info: ValidationInfo) -> int | None:
        if team_id is None or info.data.get("role") in (Role.practice_staff, Role.pcw):
            return None
        return team_id if _stored(info).session.get(Team, team_id) is not None else None

    @field_validator("agency_id")
    @classmethod
    def _agency(cls, agency_id: int | None, info: ValidationInfo) -> int | None:
        if info.data.get("role") != Role.pcw:
            return None
        if agency_id is None or _stored(info).session.get(Agency, agency_id) is None:
            raise _refusal(_("Choose the agency this person works from."))
        return agency_id

    @field_validator("practice_manager")
    @classmethod
    def _manager(cls, practice_manager: bool, info: ValidationInfo) -> bool:
        return practice_manager and info.data.get("role") == Role.practice_staff


class NewUserForm(UserForm):
    """A new user's details and first password."""

    password: Password = ""


class PasswordForm(_FormModel):
    password: Password = ""


# Liaisons away


def _one(value: object) -> bool:
    return value == "1"


class AwayForm(_FormModel):
    """A liaison away (until a last day, or until marked back) or back, and who covers."""

    away: Annotated[bool, BeforeValidator(_one)] = False
    cover_id: ChosenId = None
    away_until: Annotated[
        date | None, BeforeValidator(_day), Says(lazy_gettext("Enter the last day away as a date."))
    ] = None
