"""Reading ``knowledge/*.md``: YAML header + English Markdown body, other languages in the header.

A file looks like::

    ---
    id: claims-submission
    audience: practice            # practice | patient | both
    owning_team: mso              # liaison | coordination | mso | pcw | none
    title: Submitting programme claims
    keywords: [claim, claims, rejected claim]
    synonyms: [claiming, invoice the PHO]
    examples: [how do we claim for the diabetes review?]   # questions as people write them
    reviewed: 2026-10-01
    source: PHO practice handbook
    variants:
      mi:
        title: ...
        keywords: [...]
        examples: [...]
        body: |
          ...
    ---
    English body in Markdown.

Files whose names start with ``_`` (synonyms, safety lists) are not entries.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from assistant.knowledge._model import AUDIENCES, LANGUAGES, TEAMS, Entry, KnowledgeBase, Variant
from assistant.knowledge._render import to_html, to_text, unsafe_reasons

KNOWLEDGE_DIR = Path(__file__).resolve().parent.parent.parent / "knowledge"

REQUIRED = ("id", "audience", "owning_team", "title", "keywords", "reviewed", "source")
KNOWN_KEYS = frozenset(REQUIRED) | {"synonyms", "variants", "examples"}
VARIANT_KEYS = frozenset({"title", "keywords", "body", "examples"})
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_FRONT = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*\n?(.*)\Z", re.S)


class _Problems:
    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.items: list[str] = []

    def line_of(self, key: str, *, after: int = 0) -> int:
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*:")
        for number, line in enumerate(self.lines[after:], start=after + 1):
            if pattern.match(line):
                return number
        return 1

    def add(self, line: int, message: str) -> None:
        self.items.append(f"{self.path}:{line}: {message}")


def _as_list(value: Any) -> list[str] | None:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return [str(v).strip() for v in value if str(v).strip()]
    return None


def parse_entry(
    path: Path, text: str, *, display: str | None = None
) -> tuple[Entry | None, list[str]]:
    """One entry file: the entry (None when unusable) and its problems."""
    shown = display or str(path)
    problems = _Problems(shown, text)
    found = _FRONT.match(text.replace("\r\n", "\n"))
    if not found:
        problems.add(1, "missing YAML header: the file must start with '---' and a closing '---'")
        return None, problems.items
    header_text, body = found.group(1), found.group(2)
    try:
        header = yaml.safe_load(header_text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problems.add(line, f"the YAML header does not parse: {getattr(exc, 'problem', exc)}")
        return None, problems.items
    if not isinstance(header, dict):
        problems.add(1, "the YAML header must be a mapping of fields")
        return None, problems.items

    for key in REQUIRED:
        if header.get(key) in (None, "", []):
            problems.add(problems.line_of(key), f"missing required field '{key}'")
    for key in header:
        if key not in KNOWN_KEYS:
            problems.add(problems.line_of(str(key)), f"unknown field '{key}'")

    entry_id = str(header.get("id") or "")
    if entry_id and not ID_PATTERN.match(entry_id):
        problems.add(
            problems.line_of("id"),
            f"id '{entry_id}' must be lower-case words joined by hyphens",
        )
    audience = str(header.get("audience") or "")
    if audience and audience not in AUDIENCES:
        problems.add(
            problems.line_of("audience"),
            f"unknown audience '{audience}' (use one of: {', '.join(AUDIENCES)})",
        )
    team = str(header.get("owning_team") or "")
    if team and team not in TEAMS:
        problems.add(
            problems.line_of("owning_team"),
            f"unknown team '{team}' (use one of: {', '.join(TEAMS)})",
        )
    reviewed = header.get("reviewed")
    if isinstance(reviewed, str):
        try:
            reviewed = dt.date.fromisoformat(reviewed)
        except ValueError:
            reviewed = None
            problems.add(problems.line_of("reviewed"), "reviewed must be a date like 2026-10-01")
    elif isinstance(reviewed, dt.datetime):
        reviewed = reviewed.date()
    elif reviewed is not None and not isinstance(reviewed, dt.date):
        problems.add(problems.line_of("reviewed"), "reviewed must be a date like 2026-10-01")
        reviewed = None

    synonyms = _as_list(header.get("synonyms"))
    if synonyms is None:
        problems.add(problems.line_of("synonyms"), "synonyms must be a list of words or phrases")
        synonyms = []

    variants: dict[str, Variant] = {}
    body_line = header_text.count("\n") + 4  # the line after the closing ---
    en = _variant(
        problems,
        lang="en",
        title=header.get("title"),
        keywords=header.get("keywords"),
        body=body,
        line=body_line,
        key_line=1,
        examples=header.get("examples"),
    )
    if not body.strip():
        problems.add(body_line, "missing required field 'body': the English text after the header")
    if en is not None:
        variants["en"] = en

    raw_variants = header.get("variants") or {}
    if not isinstance(raw_variants, dict):
        problems.add(problems.line_of("variants"), "variants must map a language code to fields")
        raw_variants = {}
    variants_line = problems.line_of("variants")
    for lang, fields in raw_variants.items():
        lang_line = problems.line_of(str(lang), after=variants_line - 1)
        if lang not in LANGUAGES:
            problems.add(
                lang_line,
                f"unknown language '{lang}' (use one of: {', '.join(LANGUAGES)})",
            )
            continue
        if lang == "en":
            problems.add(lang_line, "English goes in the top-level title, keywords and body")
            continue
        if not isinstance(fields, dict):
            problems.add(lang_line, f"variant '{lang}' must have title, keywords and body")
            continue
        for key in fields:
            if key not in VARIANT_KEYS:
                problems.add(lang_line, f"variant '{lang}': unknown field '{key}'")
        for key in ("title", "body"):
            if not fields.get(key):
                problems.add(lang_line, f"variant '{lang}': missing required field '{key}'")
        variant = _variant(
            problems,
            lang=str(lang),
            title=fields.get("title"),
            keywords=fields.get("keywords"),
            body=fields.get("body"),
            line=lang_line,
            key_line=lang_line,
            examples=fields.get("examples"),
        )
        if variant is not None:
            variants[str(lang)] = variant

    if problems.items or "en" not in variants or not isinstance(reviewed, dt.date):
        return None, problems.items
    entry = Entry(
        id=entry_id,
        audience=audience,
        owning_team=team,
        reviewed=reviewed,
        source=str(header["source"]).strip(),
        variants=variants,
        synonyms=synonyms,
        path=shown,
    )
    return entry, []


def _variant(
    problems: _Problems,
    *,
    lang: str,
    title: Any,
    keywords: Any,
    body: Any,
    line: int,
    key_line: int,
    examples: Any = None,
) -> Variant | None:
    words = _as_list(keywords)
    if words is None:
        problems.add(key_line, f"variant '{lang}': keywords must be a list of words or phrases")
        return None
    asked: list[str] | None = [] if examples is None else None
    if isinstance(examples, list) and all(isinstance(q, str) for q in examples):
        asked = [q.strip() for q in examples if q.strip()]
    if asked is None:
        problems.add(key_line, f"variant '{lang}': examples must be a list of questions")
        return None
    if not isinstance(title, str) or not title.strip():
        return None
    if not isinstance(body, str) or not body.strip():
        return None
    bad = unsafe_reasons(body) + unsafe_reasons(title)
    for reason in bad:
        problems.add(line, f"unsafe Markdown in '{lang}': {reason}")
    if bad:
        return None
    source = body.strip()
    return Variant(
        lang=lang,
        title=title.strip(),
        keywords=words,
        body_markdown=source,
        body_html=to_html(source),
        body_text=to_text(source),
        examples=tuple(asked),
    )


def load_knowledge_base(directory: Path | None = None) -> KnowledgeBase:
    """Every entry file in ``directory``; bad files are left out and listed in ``problems``."""
    folder = directory or KNOWLEDGE_DIR
    entries: list[Entry] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    root = folder.parent
    for path in sorted(folder.glob("*.md")):
        if path.name.startswith("_"):
            continue
        display = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
        text = path.read_text(encoding="utf-8")
        entry, found = parse_entry(path, text, display=display)
        problems += found
        if entry is None:
            continue
        if entry.id in seen:
            line = _Problems(display, text).line_of("id")
            problems.append(
                f"{display}:{line}: duplicate id '{entry.id}' (also in {seen[entry.id]})"
            )
            continue
        seen[entry.id] = display
        entries.append(entry)
    return KnowledgeBase(entries=entries, problems=problems)


@cache
def get_knowledge_base() -> KnowledgeBase:
    """The knowledge base in ``knowledge/``, loaded once per process."""
    return load_knowledge_base()
