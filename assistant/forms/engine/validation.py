"""Validating answers against a form definition: types, relevance, required, constraints.

Answers are a dict ``name -> value``: text/phone/date/select_one/yes_no as ``str``, integer as
``int``, decimal as ``float``, select_multiple as ``list[str]``, a repeat as a list of row
dicts. Raw input (HTML form strings, JSON from the offline queue) goes through
:func:`normalise` first. Error keys are field paths: ``name`` or ``repeat.<row>.name``.
Messages are in the form's language (the language the person answered in).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

import phonenumbers

from assistant.forms.engine import expressions as ex
from assistant.forms.engine.definition import Field, FormDefinition, Page
from assistant.i18n import _, format_number, use_locale

Answers = dict[str, Any]
Errors = dict[str, str]

_MAX_TEXT = 2000
# Whole numbers are 32-bit, as in FHIR's integer and the exports' columns.
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


def path_of(f: Field, row: int | None = None) -> str:
    return f"{f.parent}.{row}.{f.name}" if f.parent is not None and row is not None else f.name


# --- types ------------------------------------------------------------------------------------


class _Bad(Exception):
    def __init__(self, message: str) -> None:
        self.message = message


def _coerce(f: Field, value: Any) -> Any:
    """A typed value for ``f``, or raise _Bad (message in the current locale)."""
    if ex.is_empty(value):
        return [] if f.type == "select_multiple" else None
    t = f.type
    if t in ("text", "phone", "date", "select_one", "yes_no") and not isinstance(value, str):
        if t == "text" and isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        else:
            raise _Bad(_("Please give a valid answer."))
    if t == "text":
        text = str(value).strip()
        if len(text) > _MAX_TEXT:
            raise _Bad(_("Please keep this under %(n)s characters.", n=_MAX_TEXT))
        return text
    if t == "integer":
        if isinstance(value, bool):
            raise _Bad(_("Enter a whole number."))
        if isinstance(value, int):
            return _in_range(value)
        if isinstance(value, float) and value.is_integer():
            return _in_range(int(value))
        if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d{1,9}\s*", value):
            return int(value)
        raise _Bad(_("Enter a whole number."))
    if t == "decimal":
        if isinstance(value, bool):
            raise _Bad(_("Enter a number."))
        parsed: float | None = None
        try:
            if isinstance(value, int | float):
                parsed = float(value)
            elif isinstance(value, str):
                parsed = float(value.strip().replace(",", "."))
        except (ValueError, OverflowError):
            parsed = None
        # "NaN", "Infinity" and 1e400 parse as floats but are no answer anyone gave.
        if parsed is not None and math.isfinite(parsed):
            return parsed
        raise _Bad(_("Enter a number."))
    if t == "date":
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            raise _Bad(_("Enter a date.")) from None
    if t == "phone":
        try:
            number = phonenumbers.parse(value, "NZ")
        except phonenumbers.NumberParseException:
            raise _Bad(_("Enter a phone number, like 021 123 4567.")) from None
        # A number that could exist, not just one of a possible length ("12345" is not one);
        # landlines count: a household member's number may be one.
        if not phonenumbers.is_valid_number(number):
            raise _Bad(_("Enter a phone number, like 021 123 4567."))
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if t in ("select_one", "yes_no"):
        if value not in f.choice_values():
            raise _Bad(_("Choose one of the options."))
        return value
    if t == "select_multiple":
        values = value.split() if isinstance(value, str) else value
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise _Bad(_("Choose from the options."))
        allowed = f.choice_values()
        if any(v not in allowed for v in values):
            raise _Bad(_("Choose from the options."))
        return [v for v in allowed if v in values]  # definition order, no duplicates
    return value


def _in_range(number: int) -> int:
    if not INT_MIN <= number <= INT_MAX:
        raise _Bad(
            _(
                "Enter a whole number from %(min)s to %(max)s.",
                min=format_number(INT_MIN),
                max=format_number(INT_MAX),
            )
        )
    return number


def normalise(form: FormDefinition, raw: Mapping[str, Any], lang: str) -> tuple[Answers, Errors]:
    """Typed answers from raw input, with type errors. Unknown names are errors too."""
    answers: Answers = {}
    errors: Errors = {}
    with use_locale(lang):
        for name, value in raw.items():
            f = form.fields.get(name)
            if f is None or f.parent is not None:
                errors[name] = _("This question is not part of the form.")
                continue
            if not f.is_input and not f.is_repeat:
                continue  # notes and calculations are the server's to work out
            if f.is_repeat:
                rows, row_errors = _normalise_rows(f, value)
                answers[name] = rows
                errors |= row_errors
                continue
            try:
                answers[name] = _coerce(f, value)
            except _Bad as bad:
                answers[name] = value
                errors[name] = bad.message
    return answers, errors


def _normalise_rows(f: Field, value: Any) -> tuple[list[Answers], Errors]:
    errors: Errors = {}
    if ex.is_empty(value):
        return [], errors
    if not isinstance(value, list) or not all(isinstance(r, Mapping) for r in value):
        return [], {f.name: _("Please give a valid answer.")}
    children = {c.name: c for c in f.children}
    rows: list[Answers] = []
    for i, raw_row in enumerate(value):
        row: Answers = {}
        for name, v in raw_row.items():
            child = children.get(name)
            if child is None:
                errors[f"{f.name}.{i}.{name}"] = _("This question is not part of the form.")
                continue
            if not child.is_input:
                continue
            try:
                row[name] = _coerce(child, v)
            except _Bad as bad:
                row[name] = v
                errors[f"{f.name}.{i}.{name}"] = bad.message
        rows.append(row)
    return rows, errors


# --- relevance and calculations ---------------------------------------------------------------


@dataclass
class State:
    """Answers with calculations filled in, and what is relevant."""

    env: Answers
    relevant_pages: set[str] = field(default_factory=set)
    irrelevant: set[str] = field(default_factory=set)  # field paths

    def is_relevant(self, f: Field, row: int | None = None) -> bool:
        if f.page not in self.relevant_pages:
            return False
        if f.parent is not None and f.parent in self.irrelevant:
            return False
        return path_of(f, row) not in self.irrelevant

    def page_relevant(self, page: Page) -> bool:
        return page.name in self.relevant_pages


def _truthy(src: str | None, env: Mapping[str, Any], today: date | None) -> bool:
    if not src:
        return True
    try:
        return ex.to_bool(ex.evaluate(src, env, today=today))
    except ex.ExpressionError:
        return True  # ``check`` reports bad expressions; a broken rule must not hide a question


def _value(src: str, env: Mapping[str, Any], today: date | None) -> Any:
    try:
        return ex.evaluate(src, env, today=today)
    except ex.ExpressionError:
        return None


@cache
def _calculation_order(form: FormDefinition) -> tuple[Field, ...]:
    """Calculated fields, each after the calculations it reads (definition order otherwise)."""
    calcs = [f for f in form.fields.values() if f.calculation]
    by_name = {f.name: f for f in calcs}
    done: list[Field] = []
    seen: set[str] = set()

    def visit(f: Field, stack: frozenset[str]) -> None:
        if f.name in seen or f.name in stack:
            return
        assert f.calculation is not None
        try:
            refs = ex.references(f.calculation)
        except ex.ExpressionError:
            refs = set()
        for ref in sorted(refs):
            if ref in by_name:
                visit(by_name[ref], stack | {f.name})
        seen.add(f.name)
        done.append(f)

    for f in calcs:
        visit(f, frozenset())
    return tuple(done)


def evaluate_state(form: FormDefinition, answers: Answers, *, today: date | None = None) -> State:
    """Work out calculations and relevance; irrelevant answers count as empty (as in ODK)."""
    irrelevant: set[str] = set()
    state = State(env={})
    for _round in range(4):  # relevance can depend on answers later in the form
        env = _visible(form, answers, irrelevant)
        _calculate(form, env, today)
        pages = {p.name for p in form.pages if _truthy(p.relevant, env, today)}
        new_irrelevant: set[str] = set()
        for f in form.top_fields():
            if f.page not in pages or not _truthy(f.relevant, env, today):
                new_irrelevant.add(f.name)
                continue
            if f.is_repeat:
                for i, row in enumerate(env.get(f.name) or []):
                    scope = ex.scope(env, row)
                    for child in f.children:
                        if not _truthy(child.relevant, scope, today):
                            new_irrelevant.add(path_of(child, i))
        state = State(env=env, relevant_pages=pages, irrelevant=new_irrelevant)
        if new_irrelevant == irrelevant:
            break
        irrelevant = new_irrelevant
    return state


def _visible(form: FormDefinition, answers: Answers, irrelevant: set[str]) -> Answers:
    env: Answers = {}
    for name, value in answers.items():
        f = form.fields.get(name)
        if f is None or name in irrelevant:
            continue
        if f.is_repeat and isinstance(value, list):
            env[name] = [
                {
                    k: v
                    for k, v in row.items()
                    if f"{name}.{i}.{k}" not in irrelevant and k in form.fields
                }
                for i, row in enumerate(value)
                if isinstance(row, Mapping)
            ]
        else:
            env[name] = value
    return env


def _calculate(form: FormDefinition, env: Answers, today: date | None) -> None:
    for f in _calculation_order(form):
        assert f.calculation is not None
        if f.parent is None:
            env[f.name] = _value(f.calculation, env, today)
        else:
            for row in env.get(f.parent) or []:
                row[f.name] = _value(f.calculation, ex.scope(env, row), today)


# --- validation -------------------------------------------------------------------------------


def _required(f: Field, env: Mapping[str, Any], today: date | None) -> bool:
    if isinstance(f.required, bool):
        return f.required
    return _truthy(f.required, env, today)


def _check_field(
    f: Field, value: Any, env: Mapping[str, Any], today: date | None, lang: str
) -> str | None:
    if ex.is_empty(value):
        if _required(f, env, today):
            return _("This question needs an answer.")
        return None
    try:
        value = _coerce(f, value)
    except _Bad as bad:
        return bad.message
    if f.constraint and not _truthy_strict(f.constraint, env, value, today):
        return f.message_text(lang) or _("This answer is not allowed.")
    return None


def _truthy_strict(src: str, env: Mapping[str, Any], current: Any, today: date | None) -> bool:
    try:
        return ex.to_bool(ex.evaluate(src, env, current=current, today=today))
    except ex.ExpressionError:
        return True


def validate_fields(
    form: FormDefinition,
    fields: Iterable[Field],
    answers: Answers,
    lang: str,
    *,
    today: date | None = None,
    state: State | None = None,
) -> Errors:
    """Errors for the given (top-level) fields, skipping the ones not relevant."""
    state = state or evaluate_state(form, answers, today=today)
    env = state.env
    errors: Errors = {}
    with use_locale(lang):
        for f in fields:
            if not state.is_relevant(f):
                continue
            if f.is_repeat:
                rows = answers.get(f.name) or []
                if len(rows) < f.min_count:
                    errors[f.name] = _("Please add at least %(n)s.", n=f.min_count)
                elif len(rows) > f.max_count:
                    errors[f.name] = _("Please add no more than %(n)s.", n=f.max_count)
                env_rows = env.get(f.name) or []
                for i, row in enumerate(rows):
                    scope = ex.scope(env, env_rows[i] if i < len(env_rows) else row)
                    for child in f.children:
                        if not child.is_input or not state.is_relevant(child, i):
                            continue
                        message = _check_field(child, row.get(child.name), scope, today, lang)
                        if message:
                            errors[path_of(child, i)] = message
                continue
            if not f.is_input:
                continue
            message = _check_field(f, answers.get(f.name), env, today, lang)
            if message:
                errors[f.name] = message
    return errors


def validate_page(
    form: FormDefinition, page: Page, answers: Answers, lang: str, *, today: date | None = None
) -> Errors:
    state = evaluate_state(form, answers, today=today)
    if not state.page_relevant(page):
        return {}
    return validate_fields(form, page.fields, answers, lang, today=today, state=state)


def validate_all(
    form: FormDefinition,
    answers: Answers,
    lang: str,
    *,
    today: date | None = None,
    state: State | None = None,
) -> Errors:
    return validate_fields(form, form.top_fields(), answers, lang, today=today, state=state)


def final_answers(
    form: FormDefinition,
    answers: Answers,
    *,
    today: date | None = None,
    state: State | None = None,
) -> Answers:
    """What is stored: relevant answers only (no consent, nothing personal), calculations in."""
    state = state or evaluate_state(form, answers, today=today)
    out: Answers = {}
    for f in form.top_fields():
        if not state.is_relevant(f) or f.type == "note":
            continue
        value = state.env.get(f.name)
        if f.is_repeat:
            rows = []
            for i, row in enumerate(value or []):
                rows.append(
                    {
                        c.name: row.get(c.name)
                        for c in f.children
                        if c.type != "note" and state.is_relevant(c, i)
                    }
                )
            out[f.name] = rows
        elif not ex.is_empty(value) or f.calculation:
            out[f.name] = value
    return out


def consent_given(form: FormDefinition, answers: Mapping[str, Any]) -> bool:
    if form.consent_field is None:
        return True
    return answers.get(form.consent_field) == "yes"
