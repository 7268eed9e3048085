"""Filling a form page by page: reading a posted page, moving between pages, sending.

The fill page holds every page of the form in one HTML form (only the current one shown), so
each post carries every answer. :func:`step` is what each button does; the route renders or
redirects by its result.

Without JavaScript a question that an answer makes relevant (say "Which practice?" once the
person is enrolled) cannot appear on its own: the page carries the paths of the questions it
showed (:func:`shown_paths`), and Next or Send stops once to show any that are relevant now and
were not shown (:func:`newly_relevant`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any, Protocol

from sqlmodel import Session

from assistant import i18n
from assistant.forms.capture import drafts, hooks, submissions
from assistant.forms.engine import expressions, validation
from assistant.forms.engine.definition import Field, FormDefinition
from assistant.i18n import _
from assistant.people.models import User


@dataclass
class Step:
    """What a button did: show ``page`` (with ``errors``, and ``added``: the paths of questions
    the answers made relevant, shown there for the first time), or go to ``redirect``."""

    page: int
    errors: dict[str, str] = field(default_factory=dict)
    redirect: str | None = None
    added: list[str] = field(default_factory=list)


def step(
    session: Session,
    *,
    form: FormDefinition,
    user: User,
    instance_id: str,
    lang: str,
    action: str,
    page: int,
    raw: dict[str, Any],
    shown: Collection[str] | None = None,
    today: date | None = None,
) -> Step:
    """Save the draft, then do ``action``: next, back, lang, submit, add:<repeat>,
    remove:<repeat>:<row>. ``shown`` is what the posted page showed (None: not known, as from
    a page cached before it said); Next and Send first show what became relevant since.
    Raises drafts.DraftNotYours for someone else's draft."""
    typed, type_errors = validation.normalise(form, raw, lang)
    state = validation.evaluate_state(form, typed, today=today)
    errors: dict[str, str] = {}
    added: list[str] = []
    if action in ("next", "submit") and shown is not None:
        through = page if action == "next" else len(form.pages) - 1
        added = newly_relevant(form, state, shown, through=through)
    if added:
        page = page_of(form, added[0], default=page)
        added = [p for p in added if page_of(form, p, default=-1) == page]
        if action == "next":
            new = set(added)
            errors = {
                k: v
                for k, v in page_errors(form, page, typed, type_errors, lang, today=today).items()
                if k not in new
            }
    elif action == "next":
        errors = page_errors(form, page, typed, type_errors, lang, today=today)
        if not errors:
            page = next_page(form, state, page)
    elif action == "back":
        page = previous_page(form, state, page)
    try:
        drafts.save_draft(
            session,
            form=form,
            user=user,
            instance_id=instance_id,
            lang=lang,
            answers=raw,
            page=page,
        )
    except drafts.AlreadySubmitted as done:
        return Step(page, redirect=f"/forms/submissions/{done.submission.id}")
    if action == "lang":
        return Step(page, redirect=f"/forms/drafts/{instance_id}?page={page}")
    if added:
        return Step(page, errors, added=added)
    if action == "submit":
        try:
            outcome = submissions.submit(
                session,
                form=form,
                user=user,
                instance_id=instance_id,
                form_version=form.version,
                lang=lang,
                answers=raw,
                today=today,
                after_submit=hooks.AFTER_SUBMIT.get(form.id),
            )
        except submissions.InvalidSubmission as invalid:
            return Step(first_page_with(form, invalid.errors, page), invalid.errors)
        except submissions.InstanceConflict:
            with i18n.use_locale(lang):
                message = _("This form was already sent with different answers.")
            return Step(page, {"instance_id": message})
        return Step(page, redirect=f"/forms/submissions/{outcome.submission.id}?sent=1")
    return Step(page, errors)


@cache
def logic(form: FormDefinition) -> dict[str, Any]:
    """What the fill page's script needs to show and hide questions as the server does
    (:func:`validation.evaluate_state`), with every expression already parsed
    (:func:`expressions.to_json`): ``format`` (:data:`expressions.JSON_FORMAT`, which versions
    this shape too); ``pages`` with their ``relevant``; ``fields`` in page order with their
    type, page, choices, ``relevant`` and ``calculation`` (a repeat's ``children`` likewise);
    ``calculate``, the calculated fields' names in the order they are worked out. Constraints
    and ``required`` stay with the server, which checks answers on Next and Send."""

    def field_json(f: Field) -> dict[str, Any]:
        out: dict[str, Any] = {"name": f.name, "type": f.type, "page": f.page}
        if f.choices:
            out["choices"] = f.choice_values()
        if f.relevant:
            out["relevant"] = expressions.to_json(f.relevant)
        if f.calculation:
            out["calculation"] = expressions.to_json(f.calculation)
        if f.is_repeat:
            out["children"] = [field_json(c) for c in f.children]
        return out

    return {
        "format": expressions.JSON_FORMAT,
        "pages": [
            {"name": p.name, "relevant": expressions.to_json(p.relevant) if p.relevant else None}
            for p in form.pages
        ],
        "fields": [field_json(f) for f in form.top_fields()],
        "calculate": [f.name for f in validation._calculation_order(form)],
    }


def to_int(value: Any, low: int, high: int) -> int:
    try:
        number = int(str(value))
    except ValueError:
        return low
    return max(low, min(high, number))


def shown_paths(
    form: FormDefinition, state: validation.State, pages: Iterable[int] | None = None
) -> list[str]:
    """The paths (``name`` or ``repeat.row.name``) of the questions and notes the fill page
    shows, on ``pages`` (default: all), for these answers: the relevant ones."""
    paths: list[str] = []
    for i in range(len(form.pages)) if pages is None else pages:
        for f in form.pages[i].fields:
            if f.type == "calculate" or not state.is_relevant(f):
                continue
            paths.append(f.name)
            if f.is_repeat:
                for row in range(len(state.env.get(f.name) or [])):
                    paths.extend(
                        validation.path_of(child, row)
                        for child in f.children
                        if child.type != "calculate" and state.is_relevant(child, row)
                    )
    return paths


def newly_relevant(
    form: FormDefinition, state: validation.State, shown: Collection[str], *, through: int
) -> list[str]:
    """Questions and notes on the pages up to ``through`` that the answers make relevant and
    that were not ``shown``: without JavaScript the person has not seen them yet."""
    shown = set(shown)
    return [p for p in shown_paths(form, state, range(through + 1)) if p not in shown]


def page_of(form: FormDefinition, path: str, *, default: int) -> int:
    """The index of the page holding the question at ``path``."""
    f = form.fields.get(path.split(".")[0])
    if f is None:
        return default
    return next((i for i, p in enumerate(form.pages) if p.name == f.page), default)


def nearest_page(form: FormDefinition, state: validation.State, wanted: int) -> int:
    """The page that applies nearest to ``wanted`` (the earlier one of two as near)."""
    wanted = max(0, min(wanted, len(form.pages) - 1))
    for distance in range(len(form.pages)):
        for i in (wanted - distance, wanted + distance):
            if 0 <= i < len(form.pages) and state.page_relevant(form.pages[i]):
                return i
    return 0


def page_to_show(
    form: FormDefinition,
    answers: dict[str, Any],
    lang: str,
    *,
    requested: str | None,
    saved: int,
    today: date | None = None,
) -> int:
    """Which page a draft opens on: the page ``requested`` in the address (any digits, a
    minus sign), else the ``saved`` one, moved to the nearest page that applies."""
    typed, _errors = validation.normalise(form, answers, lang)
    state = validation.evaluate_state(form, typed, today=today)
    wanted = saved
    text = (requested or "").strip()
    if re.fullmatch(r"-?\d{1,6}", text):
        wanted = int(text)
    elif re.fullmatch(r"-?\d+", text):
        wanted = len(form.pages) if not text.startswith("-") else 0
    return nearest_page(form, state, wanted)


class PostedFields(Protocol):
    """What a posted HTML form offers (Starlette's FormData, a MultiDict...): the first value
    of a field, and every value of a field that repeats."""

    def get(self, key: str, /) -> Any: ...

    def getlist(self, key: str, /) -> list[Any]: ...


def answers_from_post(form: FormDefinition, data: PostedFields) -> dict[str, Any]:
    """Every answer on the fill page (all pages are in the one HTML form)."""
    raw: dict[str, Any] = {}
    for f in form.top_fields():
        if f.is_repeat:
            count = to_int(data.get(f"{f.name}.rows"), 0, f.max_count)
            rows = []
            for i in range(count):
                row: dict[str, Any] = {}
                for child in f.children:
                    if child.is_input:
                        row[child.name] = _read(data, f"{f.name}.{i}.{child.name}", child.type)
                rows.append(row)
            raw[f.name] = rows
        elif f.is_input:
            raw[f.name] = _read(data, f.name, f.type)
    return raw


def _read(data: PostedFields, key: str, ftype: str) -> Any:
    if ftype == "select_multiple":
        return [str(v) for v in data.getlist(key) if v]
    value = data.get(key)
    return str(value) if isinstance(value, str) and value != "" else None


def change_rows(form: FormDefinition, raw: dict[str, Any], action: str) -> dict[str, Any]:
    parts = action.split(":")
    f = form.fields.get(parts[1]) if len(parts) > 1 else None
    if f is None or not f.is_repeat:
        return raw
    rows = list(raw.get(f.name) or [])
    if parts[0] == "add" and len(rows) < f.max_count:
        rows.append({c.name: None for c in f.children if c.is_input})
    elif parts[0] == "remove" and len(parts) == 3:
        index = to_int(parts[2], 0, max(0, len(rows) - 1))
        if rows:
            rows.pop(index)
    return raw | {f.name: rows}


def page_errors(
    form: FormDefinition,
    page: int,
    typed: dict[str, Any],
    type_errors: dict[str, str],
    lang: str,
    *,
    today: date | None = None,
) -> dict[str, str]:
    """The current page's errors (type errors of its answers included)."""
    the_page = form.pages[page]
    names = {f.name for f in the_page.fields}
    errors = {k: v for k, v in type_errors.items() if k.split(".")[0] in names}
    return validation.validate_page(form, the_page, typed, lang, today=today) | errors


def next_page(form: FormDefinition, state: validation.State, page: int) -> int:
    for i in range(page + 1, len(form.pages)):
        if state.page_relevant(form.pages[i]):
            return i
    return page


def previous_page(form: FormDefinition, state: validation.State, page: int) -> int:
    for i in range(page - 1, -1, -1):
        if state.page_relevant(form.pages[i]):
            return i
    return page


def first_page_with(form: FormDefinition, errors: dict[str, str], default: int) -> int:
    keys = {k.split(".")[0] for k in errors}
    for i, p in enumerate(form.pages):
        if any(f.name in keys for f in p.fields):
            return i
    return default


def last_relevant(form: FormDefinition, state: validation.State) -> int:
    last = 0
    for i, p in enumerate(form.pages):
        if state.page_relevant(p):
            last = i
    return last


def display_value(form: FormDefinition, name: str, value: Any, lang: str) -> str:
    """An answer as a person reads it (choice labels in ``lang``)."""
    f = form.fields.get(name)
    if f is None or value is None:
        return "" if value is None else str(value)
    if isinstance(value, list):
        return ", ".join(_choice_text(f, v, lang) for v in value)
    if f.choices and isinstance(value, str):
        return _choice_text(f, value, lang)
    if f.type == "date" and isinstance(value, str):
        try:
            return i18n.format_date(date.fromisoformat(value))
        except ValueError:
            return value
    return str(value)


def _choice_text(f: Field, value: str, lang: str) -> str:
    choice = f.choice(value)
    return str(choice.text(lang)) if choice else value
