"""Form definitions: the YAML files in forms/, loaded into plain dataclasses.

A form has pages; a page has fields; a ``repeat`` field holds child fields answered once per
row (household members). Labels, hints, choices and messages are dicts ``{lang: text}``; a
missing language falls back to English. Every node remembers its line for ``check``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from assistant.forms.engine._yaml import DefinitionError as DefinitionError
from assistant.forms.engine._yaml import read_yaml as read_yaml
from assistant.i18n import LANGUAGES

ROOT = Path(__file__).resolve().parents[3]  # the project: assistant/forms/engine/ is three down
FORMS_DIR = ROOT / "forms"

FIELD_TYPES = frozenset(
    {
        "text",
        "integer",
        "decimal",
        "date",
        "select_one",
        "select_multiple",
        "yes_no",
        "phone",
        "note",
        "calculate",
        "repeat",
    }
)
# Types that take no answer from the person filling the form.
NO_INPUT_TYPES = frozenset({"note", "calculate", "repeat"})
YES, NO = "yes", "no"
OTHER = "other"

Text = dict[str, str]


def translate(text: Text | None, lang: str) -> str:
    """``text`` in ``lang``, else English, else any language given."""
    if not text:
        return ""
    return text.get(lang) or text.get("en") or next(iter(text.values()), "")


@dataclass(eq=False)
class Choice:
    value: str
    label: Text
    line: int = 0

    def text(self, lang: str) -> str:
        return translate(self.label, lang) or self.value


@dataclass(eq=False)
class Field:
    name: str
    type: str
    label: Text = field(default_factory=dict)
    hint: Text = field(default_factory=dict)
    choices: list[Choice] = field(default_factory=list)
    # ``required``: True/False, or an expression making it required when true.
    required: bool | str = False
    relevant: str | None = None
    constraint: str | None = None
    constraint_message: Text = field(default_factory=dict)
    calculation: str | None = None
    other: bool = False  # select with "other, please say": a companion ``<name>_other`` text
    children: list[Field] = field(default_factory=list)  # repeat rows' fields
    min_count: int = 0  # repeat rows
    max_count: int = 20
    parent: str | None = None  # the repeat this field belongs to
    page: str = ""
    line: int = 0
    lines: dict[str, int] = field(default_factory=dict)  # key -> line, for check messages
    personal: bool = False  # names, phone numbers, dates of birth: never logged, never exported raw

    def label_text(self, lang: str) -> str:
        return translate(self.label, lang)

    label_for = label_text

    def hint_text(self, lang: str) -> str:
        return translate(self.hint, lang)

    def message_text(self, lang: str) -> str:
        return translate(self.constraint_message, lang)

    def choice(self, value: str) -> Choice | None:
        return next((c for c in self.choices if c.value == value), None)

    def choice_values(self) -> list[str]:
        return [c.value for c in self.choices]

    @property
    def is_input(self) -> bool:
        return self.type not in NO_INPUT_TYPES

    @property
    def is_repeat(self) -> bool:
        return self.type == "repeat"

    def line_of(self, key: str) -> int:
        return self.lines.get(key, self.line)


@dataclass(eq=False)
class Page:
    name: str
    title: Text
    fields: list[Field]
    relevant: str | None = None
    line: int = 0

    def title_text(self, lang: str) -> str:
        return translate(self.title, lang)


@dataclass(eq=False)
class FormDefinition:
    id: str
    version: str
    title: Text
    pages: list[Page]
    fields: dict[str, Field]  # every field by name, repeat children included
    description: Text = field(default_factory=dict)
    roles: tuple[str, ...] = ()  # roles that may fill it in
    consent_field: str | None = None
    strings: dict[str, Text] = field(default_factory=dict)  # shared phrases (e.g. "other")
    path: Path | None = None
    line: int = 1
    duplicates: list[tuple[str, int]] = field(default_factory=list)  # (name, line)

    def title_text(self, lang: str) -> str:
        return translate(self.title, lang)

    def description_text(self, lang: str) -> str:
        return translate(self.description, lang)

    def string(self, key: str, lang: str) -> str:
        return translate(self.strings.get(key), lang)

    def top_fields(self) -> list[Field]:
        """Fields outside repeats, in page order."""
        return [f for page in self.pages for f in page.fields]

    def input_fields(self) -> list[Field]:
        return [f for f in self.fields.values() if f.is_input]

    def page_index(self, name: str) -> int:
        return next(i for i, p in enumerate(self.pages) if p.name == name)

    @property
    def source(self) -> str:
        return str(self.path.relative_to(ROOT)) if self.path else self.id

    def to_json(self) -> dict[str, Any]:
        """The whole definition, every translation included (offline use, exports)."""

        def field_json(f: Field) -> dict[str, Any]:
            out: dict[str, Any] = {"name": f.name, "type": f.type, "label": f.label}
            if f.hint:
                out["hint"] = f.hint
            if f.choices:
                out["choices"] = [{"value": c.value, "label": c.label} for c in f.choices]
            if f.required:
                out["required"] = f.required
            for key in ("relevant", "constraint", "calculation"):
                if getattr(f, key):
                    out[key] = getattr(f, key)
            if f.constraint_message:
                out["constraint_message"] = f.constraint_message
            if f.other:
                out["other"] = True
            if f.is_repeat:
                out["children"] = [field_json(c) for c in f.children]
                out["min"] = f.min_count
                out["max"] = f.max_count
            return out

        return {
            "id": self.id,
            "version": self.version,
            "title": self.title,
            "description": self.description,
            "languages": list(LANGUAGES),
            "pages": [
                {
                    "name": p.name,
                    "title": p.title,
                    **({"relevant": p.relevant} if p.relevant else {}),
                    "fields": [field_json(f) for f in p.fields],
                }
                for p in self.pages
            ],
        }


# --- loading ---------------------------------------------------------------------------------


def _text(value: Any, path: Path, line: int, what: str) -> Text:
    if value is None:
        return {}
    if isinstance(value, str):
        return {"en": value}
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k.startswith("__"):
                continue
            if not isinstance(v, str | int | float):
                raise DefinitionError(path, line, f"{what}: translation {k!r} must be text")
            out[str(k)] = str(v)
        return out
    raise DefinitionError(path, line, f"{what} must be text or a mapping of language to text")


def _line(node: dict[str, Any]) -> int:
    return int(node.get("__line__", 1))


def _choices(
    raw: Any, lists: dict[str, list[Choice]], path: Path, line: int, name: str
) -> list[Choice]:
    if isinstance(raw, str):
        if raw not in lists:
            raise DefinitionError(path, line, f"field {name!r}: unknown choice list {raw!r}")
        return list(lists[raw])
    if not isinstance(raw, list):
        raise DefinitionError(path, line, f"field {name!r}: choices must be a list or a name")
    out = []
    for item in raw:
        if isinstance(item, dict):
            value = item.get("value")
            if value is None:
                raise DefinitionError(path, _line(item), "a choice needs a value")
            out.append(
                Choice(
                    str(value),
                    _text(item.get("label"), path, _line(item), "label"),
                    _line(item),
                )
            )
        else:
            out.append(Choice(str(item), {"en": str(item)}, line))
    return out


def _field(
    raw: Any,
    *,
    path: Path,
    lists: dict[str, list[Choice]],
    strings: dict[str, Text],
    page: str,
    parent: str | None,
) -> list[Field]:
    """One YAML field -> the Field (plus its "other, please say" companion)."""
    if not isinstance(raw, dict):
        raise DefinitionError(path, 1, f"page {page!r}: each field must be a mapping")
    line = _line(raw)
    lines = dict(raw.get("__lines__", {}))
    name = raw.get("name")
    ftype = raw.get("type")
    if not isinstance(name, str) or not name:
        raise DefinitionError(path, line, "a field needs a name")
    if ftype not in FIELD_TYPES:
        raise DefinitionError(
            path, lines.get("type", line), f"field {name!r}: unknown type {ftype!r}"
        )
    required = raw.get("required", False)
    if not isinstance(required, bool | str):
        raise DefinitionError(path, lines.get("required", line), "required must be true/false")
    f = Field(
        name=name,
        type=str(ftype),
        label=_text(raw.get("label"), path, lines.get("label", line), "label"),
        hint=_text(raw.get("hint"), path, lines.get("hint", line), "hint"),
        required=required,
        relevant=_expr(raw.get("relevant")),
        constraint=_expr(raw.get("constraint")),
        constraint_message=_text(
            raw.get("constraint_message"), path, lines.get("constraint_message", line), "message"
        ),
        calculation=_expr(raw.get("calculation")),
        other=bool(raw.get("other", False)),
        min_count=int(raw.get("min", 0)),
        max_count=int(raw.get("max", 20)),
        parent=parent,
        page=page,
        line=line,
        lines=lines,
        personal=bool(raw.get("personal", False)),
    )
    if f.type == "yes_no":
        f.choices = [
            Choice(YES, strings.get("answer_yes", {"en": "Yes"}), line),
            Choice(NO, strings.get("answer_no", {"en": "No"}), line),
        ]
    elif f.type in ("select_one", "select_multiple"):
        f.choices = _choices(raw.get("choices"), lists, path, lines.get("choices", line), name)
        if f.other and f.choice(OTHER) is None:
            f.choices.append(Choice(OTHER, strings.get("other", {"en": "Other"}), line))
    if f.is_repeat:
        kids = raw.get("fields") or []
        if not isinstance(kids, list):
            raise DefinitionError(path, line, f"repeat {name!r}: fields must be a list")
        for kid in kids:
            f.children.extend(
                _field(kid, path=path, lists=lists, strings=strings, page=page, parent=name)
            )
    out = [f]
    if f.other:
        out.append(
            Field(
                name=f"{name}_{OTHER}",
                type="text",
                label=_text(raw.get("other_label"), path, line, "other_label")
                or strings.get("other_label", {"en": "Please say what"}),
                required=True,
                relevant=f"selected(${{{name}}}, '{OTHER}')",
                parent=parent,
                page=page,
                line=line,
                personal=f.personal,
            )
        )
    return out


def _expr(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def parse_definition(data: dict[str, Any], path: Path) -> FormDefinition:
    strings = {
        k: _text(v, path, _line(data), k)
        for k, v in (data.get("strings") or {}).items()
        if not k.startswith("__")
    }
    lists: dict[str, list[Choice]] = {}
    raw_lists = data.get("choice_lists") or {}
    for list_name, items in raw_lists.items():
        if list_name.startswith("__"):
            continue
        line = raw_lists.get("__lines__", {}).get(list_name, 1)
        lists[list_name] = _choices(items, {}, path, line, list_name)
    pages: list[Page] = []
    fields: dict[str, Field] = {}
    duplicates: list[tuple[str, int]] = []

    def add(f: Field) -> None:
        if f.name in fields:
            duplicates.append((f.name, f.line))
        else:
            fields[f.name] = f
        for kid in f.children:
            add(kid)

    raw_pages = data.get("pages")
    if not isinstance(raw_pages, list) or not raw_pages:
        raise DefinitionError(path, _line(data), "a form needs a list of pages")
    seen_pages: set[str] = set()
    for raw_page in raw_pages:
        if not isinstance(raw_page, dict) or not isinstance(raw_page.get("name"), str):
            raise DefinitionError(path, 1, "each page needs a name")
        pname = raw_page["name"]
        if pname in seen_pages:
            duplicates.append((pname, _line(raw_page)))
        seen_pages.add(pname)
        page_fields: list[Field] = []
        for raw_field in raw_page.get("fields") or []:
            page_fields.extend(
                _field(raw_field, path=path, lists=lists, strings=strings, page=pname, parent=None)
            )
        for f in page_fields:
            add(f)
        pages.append(
            Page(
                name=pname,
                title=_text(raw_page.get("title"), path, _line(raw_page), "title"),
                fields=page_fields,
                relevant=_expr(raw_page.get("relevant")),
                line=_line(raw_page),
            )
        )
    form_id = data.get("id")
    if not isinstance(form_id, str) or not form_id:
        raise DefinitionError(path, _line(data), "a form needs an id")
    version = data.get("version")
    if version is None:
        raise DefinitionError(path, _line(data), "a form needs a version")
    _refuse_empty(form_id, pages, path)
    roles = data.get("roles") or []
    return FormDefinition(
        id=form_id,
        version=str(version),
        title=_text(data.get("title"), path, _line(data), "title"),
        description=_text(data.get("description"), path, _line(data), "description"),
        pages=pages,
        fields=fields,
        roles=tuple(str(r) for r in roles),
        consent_field=data.get("consent_field"),
        strings=strings,
        path=path,
        duplicates=duplicates,
    )


def _refuse_empty(form_id: str, pages: list[Page], path: Path) -> None:
    """A page shows at least one question or note (calculations are not shown), and a repeat
    group asks at least one question in each row: otherwise the person meets an empty page or
    adds empty rows."""
    for page in pages:
        if all(f.type == "calculate" for f in page.fields):
            raise DefinitionError(
                path, page.line, f"form {form_id!r}: page {page.name!r} has no questions"
            )
        for f in page.fields:
            if f.is_repeat and not any(c.is_input for c in f.children):
                raise DefinitionError(
                    path, f.line, f"form {form_id!r}: repeat group {f.name!r} has no questions"
                )


def load_path(path: Path) -> FormDefinition:
    return parse_definition(read_yaml(path), path)


class FormNotFound(KeyError):
    pass


@cache
def _load_all(forms_dir: Path) -> dict[str, FormDefinition]:
    forms: dict[str, FormDefinition] = {}
    for path in sorted(forms_dir.glob("*.yaml")):
        form = load_path(path)
        forms[form.id] = form
    return forms


def all_forms() -> list[FormDefinition]:
    return list(_load_all(FORMS_DIR).values())


def load_form(form_id: str) -> FormDefinition:
    try:
        return _load_all(FORMS_DIR)[form_id]
    except KeyError:
        raise FormNotFound(form_id) from None


def reload() -> None:
    """Forget the cached definitions (tests, after editing files)."""
    _load_all.cache_clear()
