"""``python -m assistant check`` for forms/: every problem as "path:line: message".

Rejects what would break filling a form (unknown field references, cycles between
relevance and calculations, bad expressions, duplicate names, unknown types or keys, a page or
a repeat group with no questions: the loader refuses those too) and lists
what falls back (a label, hint, choice or message missing in one of the seven languages is
shown in English).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from assistant.forms.engine import expressions as ex
from assistant.forms.engine.definition import (
    FORMS_DIR,
    ROOT,
    DefinitionError,
    Field,
    FormDefinition,
    parse_definition,
    read_yaml,
)
from assistant.i18n import LANGUAGES
from assistant.people.models import Role

NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
FIELD_KEYS = frozenset(
    {
        "name",
        "type",
        "label",
        "hint",
        "choices",
        "required",
        "relevant",
        "constraint",
        "constraint_message",
        "calculation",
        "other",
        "other_label",
        "fields",
        "min",
        "max",
        "personal",
    }
)
PAGE_KEYS = frozenset({"name", "title", "relevant", "fields"})
FORM_KEYS = frozenset(
    {
        "id",
        "version",
        "title",
        "description",
        "roles",
        "consent_field",
        "strings",
        "choice_lists",
        "pages",
    }
)


def check_forms(forms_dir: Path = FORMS_DIR) -> list[str]:
    problems: list[str] = []
    seen: dict[str, str] = {}
    for path in sorted(forms_dir.glob("*.yaml")):
        found, form = check_file(path)
        problems += found
        if form is not None:
            where = _rel(path)
            if form.id in seen:
                problems.append(f"{where}:1: form id {form.id!r} is also used by {seen[form.id]}")
            seen[form.id] = where
    return problems


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def check_file(path: Path) -> tuple[list[str], FormDefinition | None]:
    where = _rel(path)
    try:
        raw = read_yaml(path)
        form = parse_definition(raw, path)
    except DefinitionError as exc:
        return [f"{where}:{exc.line}: {exc.message}"], None
    problems: list[str] = []

    def add(line: int, message: str) -> None:
        problems.append(f"{where}:{line}: {message}")

    _check_raw(raw, add)
    for name, line in form.duplicates:
        add(line, f"duplicate name {name!r}")
    if form.consent_field and form.consent_field not in form.fields:
        add(raw.get("__lines__", {}).get("consent_field", 1), "consent_field is not a field")
    for role in form.roles:
        if role not in {r.value for r in Role}:
            add(raw.get("__lines__", {}).get("roles", 1), f"unknown role {role!r}")
    _check_expressions(form, add)
    _check_cycles(form, add)
    _check_translations(form, raw, add)
    return problems, form


def _check_raw(raw: dict[str, Any], add: Any) -> None:
    lines = raw.get("__lines__", {})
    for key in lines:
        if key not in FORM_KEYS:
            add(lines[key], f"unknown key {key!r}")

    def check_fields(items: Any) -> None:
        for item in items or []:
            if not isinstance(item, dict):
                continue
            for key, line in item.get("__lines__", {}).items():
                if key not in FIELD_KEYS:
                    add(line, f"field {item.get('name')!r}: unknown key {key!r}")
            name = item.get("name")
            if isinstance(name, str) and not NAME_RE.match(name):
                add(item.get("__line__", 1), f"field name {name!r}: use letters, digits and _")
            choices = item.get("choices")
            if isinstance(choices, list):
                check_choices(choices, item.get("__line__", 1))
            check_fields(item.get("fields"))

    def check_choices(items: list[Any], line: int) -> None:
        values: set[str] = set()
        for choice in items:
            if not isinstance(choice, dict):
                continue
            value = choice.get("value")
            cline = choice.get("__line__", line)
            if isinstance(value, bool):
                add(cline, "choice value reads as true/false: put quotes around yes and no")
            elif str(value) in values:
                add(cline, f"duplicate choice value {value!r}")
            values.add(str(value))

    for name, items in (raw.get("choice_lists") or {}).items():
        if not name.startswith("__") and isinstance(items, list):
            check_choices(items, raw["choice_lists"]["__lines__"].get(name, 1))
    for page in raw.get("pages") or []:
        if isinstance(page, dict):
            for key, line in page.get("__lines__", {}).items():
                if key not in PAGE_KEYS:
                    add(line, f"page {page.get('name')!r}: unknown key {key!r}")
            check_fields(page.get("fields"))


def _expressions(f: Field) -> list[tuple[str, str]]:
    out = [(k, getattr(f, k)) for k in ("relevant", "constraint", "calculation") if getattr(f, k)]
    if isinstance(f.required, str):
        out.append(("required", f.required))
    return out


def _check_expressions(form: FormDefinition, add: Any) -> None:
    known = set(form.fields)
    for page in form.pages:
        if page.relevant:
            _check_one(page.relevant, "relevant", known, page.line, f"page {page.name!r}", add)
    for f in form.fields.values():
        if f.type in ("select_one", "select_multiple") and not f.choices:
            add(f.line, f"field {f.name!r} needs choices")
        if f.type == "calculate" and not f.calculation:
            add(f.line, f"field {f.name!r} needs a calculation")
        for key, src in _expressions(f):
            expr = _check_one(src, key, known, f.line_of(key), f"field {f.name!r}", add)
            if expr is not None and key != "constraint" and ex.uses_current(expr):
                add(f.line_of(key), f"field {f.name!r}: '.' only means something in a constraint")


def _check_one(src: str, key: str, known: set[str], line: int, what: str, add: Any) -> Any:
    try:
        expr = ex.parse(src)
    except ex.ExpressionError as exc:
        add(line, f"{what}: bad expression in {key}: {exc}")
        return None
    for ref in sorted(ex.references(expr) - known):
        add(line, f"{what}: {key} refers to unknown field ${{{ref}}}")
    return expr


def _check_cycles(form: FormDefinition, add: Any) -> None:
    """A field's relevance or value may not depend, through others, on itself."""
    deps: dict[str, set[str]] = {}
    page_refs: dict[str, set[str]] = {}
    for page in form.pages:
        page_refs[page.name] = _refs(page.relevant)
    for f in form.fields.values():
        refs = set(page_refs.get(f.page, set()))
        for key in ("relevant", "calculation"):
            refs |= _refs(getattr(f, key))
        if isinstance(f.required, str):
            refs |= _refs(f.required)
        if f.parent is not None:
            refs |= _refs(form.fields[f.parent].relevant) if f.parent in form.fields else set()
        deps[f.name] = {r for r in refs if r in form.fields}
    # A repeat's value is its rows: it depends on its children's calculations.
    for f in form.fields.values():
        if f.is_repeat:
            deps[f.name] |= {c.name for c in f.children if c.calculation}
    reported: set[frozenset[str]] = set()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        stack.append(name)
        for dep in sorted(deps.get(name, ())):
            if state.get(dep) == 1:
                cycle = stack[stack.index(dep) :] + [dep]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    first = form.fields[cycle[0]]
                    add(first.line, "cycle: " + " -> ".join(cycle))
            elif state.get(dep) is None:
                visit(dep)
        stack.pop()
        state[name] = 2

    for name in deps:
        if state.get(name) is None:
            visit(name)


def _refs(src: str | None) -> set[str]:
    if not src:
        return set()
    try:
        return ex.references(src)
    except ex.ExpressionError:
        return set()


def _check_translations(form: FormDefinition, raw: dict[str, Any], add: Any) -> None:
    done: set[int] = set()  # shared texts (choice lists, strings) are listed once

    def need(text: dict[str, str], line: int, what: str) -> None:
        if not text or id(text) in done:
            return
        done.add(id(text))
        unknown = sorted(set(text) - set(LANGUAGES))
        if unknown:
            add(line, f"{what}: unknown language {', '.join(unknown)}")
        if "en" not in text:
            add(line, f"{what}: needs English")
        missing = [lang for lang in LANGUAGES if lang not in text]
        if missing:
            add(line, f"{what}: missing translation {', '.join(missing)} (shows English)")

    lines = raw.get("__lines__", {})
    need(form.title, lines.get("title", 1), "title")
    if not form.title:
        add(1, "a form needs a title")
    need(form.description, lines.get("description", 1), "description")
    string_lines = (raw.get("strings") or {}).get("__lines__", {})
    for key, text in form.strings.items():
        need(text, string_lines.get(key, 1), f"strings.{key}")
    for page in form.pages:
        need(page.title, page.line, f"page {page.name!r} title")
    for f in form.fields.values():
        if f.type != "calculate" and not f.label and f.type != "repeat":
            add(f.line, f"field {f.name!r} needs a label")
        need(f.label, f.line_of("label"), f"field {f.name!r} label")
        need(f.hint, f.line_of("hint"), f"field {f.name!r} hint")
        need(f.constraint_message, f.line_of("constraint_message"), f"field {f.name!r} message")
        if f.constraint and not f.constraint_message:
            add(f.line_of("constraint"), f"field {f.name!r}: a constraint needs a message")
        if f.type == "yes_no":
            continue  # its choices are the form's strings, checked above
        for choice in f.choices:
            need(choice.label, choice.line, f"choice {choice.value!r}")
