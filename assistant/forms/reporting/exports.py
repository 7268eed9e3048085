"""Exports of a form's submissions: CSV (a zip with one file per table), XLSX and FHIR NDJSON.

One row per submission in the main table; each repeat group gets its own table with one row
per instance, linked to its submission by ``instance_id``. Who sent it, and from which agency
and practice, is given by name beside each id. The consent answer is the ``consent`` column
only (not a second time among the form's columns). Fields marked ``personal`` (names, phone
numbers, dates of birth) are left out unless asked for. Text that a spreadsheet would run as a
formula is neutralised with a leading apostrophe.

Column names are unique in each table, ignoring case. A question is exported under its own
name, except where that name is one of the built-in columns (``practice_name``, say, which
always means the practice the form was sent for): then it is ``<name>_answer`` (numbered on
if that is a question's name too). The built-in columns keep their names and meaning in every
form, so scripts that read several forms' exports keep working; the renaming depends on the
form definition only, never on the data, so a form's columns are the same in every download.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from openpyxl import Workbook
from sqlmodel import Session, col, select

from assistant.forms.engine import values
from assistant.forms.engine.definition import Field, FormDefinition
from assistant.forms.engine.expressions import scope
from assistant.forms.interop import fhir
from assistant.forms.models import FormSubmission
from assistant.i18n import LANGUAGE_NAMES, gettext, use_locale
from assistant.people.models import Agency, Practice, User

META_COLUMNS = (
    "instance_id",
    "submitted_at",
    "form_version",
    "lang",
    "submitted_by_id",
    "submitted_by_name",
    "agency_id",
    "agency_name",
    "practice_id",
    "practice_name",
    "consent",
)
ROW_META = ("instance_id", "row")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


@dataclass
class Table:
    name: str
    headers: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    # The question behind each column of answers, by column name (see the module docstring).
    questions: dict[str, Field] = field(default_factory=dict)


@dataclass(frozen=True)
class Names:
    """Names of the people, agencies and practices that submissions point at, by id."""

    users: dict[int, str] = field(default_factory=dict)
    agencies: dict[int, str] = field(default_factory=dict)
    practices: dict[int, str] = field(default_factory=dict)


def names_for(session: Session, submissions: Sequence[FormSubmission]) -> Names:
    """The names behind ``submitted_by_id``, ``agency_id`` and ``practice_id``, in three reads."""
    user_ids = {s.submitted_by_id for s in submissions}
    agency_ids = {s.agency_id for s in submissions if s.agency_id is not None}
    practice_ids = {s.practice_id for s in submissions if s.practice_id is not None}
    users = session.exec(select(User.id, User.name).where(col(User.id).in_(user_ids))).all()
    agencies = session.exec(
        select(Agency.id, Agency.name).where(col(Agency.id).in_(agency_ids))
    ).all()
    practices = session.exec(
        select(Practice.id, Practice.name).where(col(Practice.id).in_(practice_ids))
    ).all()
    return Names(
        users={i: n for i, n in users if i is not None},
        agencies={i: n for i, n in agencies if i is not None},
        practices={i: n for i, n in practices if i is not None},
    )


def submissions_for(
    session: Session,
    *,
    form_id: str,
    since: date | None = None,
    until: date | None = None,
) -> list[FormSubmission]:
    """A form's submissions, oldest first, optionally from ``since`` up to ``until`` (UTC days)."""
    stmt = select(FormSubmission).where(FormSubmission.form_id == form_id)
    if since is not None:
        stmt = stmt.where(
            col(FormSubmission.created_at) >= datetime.combine(since, datetime.min.time(), UTC)
        )
    if until is not None:
        stmt = stmt.where(
            col(FormSubmission.created_at) < datetime.combine(until, datetime.max.time(), UTC)
        )
    return list(session.exec(stmt.order_by(col(FormSubmission.created_at), col(FormSubmission.id))))


def _columns(
    fields: Iterable[Field], include_personal: bool, *, leave_out: str | None = None
) -> list[Field]:
    return [
        f
        for f in fields
        if f.type not in ("note", "repeat")
        and (include_personal or not f.personal)
        and f.name != leave_out
    ]


def column_names(fields: Sequence[Field], *, built_in: Sequence[str]) -> list[str]:
    """Each question's column name beside the ``built_in`` columns, in the order of ``fields``:
    its own name where that is free (ignoring case), else ``<name>_answer`` (``_answer_2``...)."""
    taken = {c.lower() for c in built_in}
    names: dict[str, str] = {}
    for f in fields:
        if f.name.lower() not in taken:
            taken.add(f.name.lower())
            names[f.name] = f.name
    for f in fields:
        if f.name in names:
            continue
        column, n = f"{f.name}_answer", 2
        while column.lower() in taken:
            column, n = f"{f.name}_answer_{n}", n + 1
        taken.add(column.lower())
        names[f.name] = column
    return [names[f.name] for f in fields]


def _table(name: str, built_in: Sequence[str], fields: Sequence[Field]) -> Table:
    columns = column_names(fields, built_in=built_in)
    return Table(
        name,
        [*built_in, *columns],
        questions=dict(zip(columns, fields, strict=True)),
    )


def _cell(f: Field, value: Any) -> Any:
    """A typed cell value: numbers as numbers, dates as ISO text, choices as their codes."""
    if values.is_blank(value):
        return None
    if f.type == "integer":
        return values.as_int(value)
    if f.type in ("decimal", "calculate"):
        number = values.as_decimal(value)
        return number if number is not None else _text(value)
    if f.type == "date":
        day = values.as_date(value)
        return day.isoformat() if day else None
    if f.type == "yes_no":
        flag = values.as_bool(value)
        return None if flag is None else ("yes" if flag else "no")
    if f.type == "select_multiple":
        return " ".join(values.as_list(value))
    return _text(value)


def _text(value: Any) -> str:
    text = _ILLEGAL_XML.sub("", str(value))
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def _timestamp(ts: datetime) -> str:
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _name(names: dict[int, str], key: int | None) -> str | None:
    return None if key is None or key not in names else _text(names[key])


def build_tables(
    form: FormDefinition,
    submissions: Sequence[FormSubmission],
    *,
    names: Names | None = None,
    include_personal: bool = False,
) -> list[Table]:
    """The main table, then one table per repeat group (in form order).

    The form's consent question is the ``consent`` column; ``names`` fills the name columns
    (left blank without it)."""
    names = names or Names()
    top = form.top_fields()
    main_fields = _columns(top, include_personal, leave_out=form.consent_field)
    repeats = [f for f in top if f.is_repeat]
    main = _table(form.id, META_COLUMNS, main_fields)
    repeat_tables: list[tuple[Field, list[Field], Table]] = []
    for rep in repeats:
        kids = _columns(rep.children, include_personal)
        repeat_tables.append((rep, kids, _table(rep.name, ROW_META, kids)))
    pages = {f.name: page for page in form.pages for f in page.fields}
    for sub in submissions:
        env = values.with_calculations(form, values.load_answers(sub))

        def shown(f: Field, env: Any = env) -> bool:
            page = pages.get(f.name)
            if page is not None and not values.is_relevant(page.relevant, env):
                return False
            return values.is_relevant(f.relevant, env)

        main.rows.append(
            [
                sub.instance_id,
                _timestamp(sub.created_at),
                sub.form_version,
                sub.lang,
                sub.submitted_by_id,
                _name(names.users, sub.submitted_by_id),
                sub.agency_id,
                _name(names.agencies, sub.agency_id),
                sub.practice_id,
                _name(names.practices, sub.practice_id),
                "yes" if sub.consent else "no",
                *(_cell(f, env.get(f.name)) if shown(f) else None for f in main_fields),
            ]
        )
        for rep, kids, table in repeat_tables:
            if not shown(rep):
                continue
            for index, row in enumerate(values.rows(env.get(rep.name)), start=1):
                row_env = scope(env, row)
                cells = [
                    _cell(k, row.get(k.name)) if values.is_relevant(k.relevant, row_env) else None
                    for k in kids
                ]
                if all(c is None for c in cells):
                    continue
                table.rows.append([sub.instance_id, index, *cells])
    return [main, *(t for _r, _k, t in repeat_tables)]


def _meta_columns(form: FormDefinition, lang: str) -> dict[str, tuple[str, str, str]]:
    """The columns every export has, as (type, label, choices) in ``lang``."""
    consent = form.fields.get(form.consent_field or "")
    with use_locale(lang):
        consent_label = (
            consent.label_text(lang)
            if consent is not None
            else gettext("This form asks no consent question, so this is always yes.")
        )
        return {
            "instance_id": (
                "text",
                gettext("The submission's id; rows in the other tables link to it."),
                "",
            ),
            "row": ("integer", gettext("The row's number within its submission."), ""),
            "submitted_at": ("datetime", gettext("When the form was sent (UTC)."), ""),
            "form_version": ("text", gettext("The version of the form that was filled in."), ""),
            "lang": (
                "text",
                gettext("The language the form was filled in."),
                "; ".join(f"{code} = {name}" for code, name in LANGUAGE_NAMES.items()),
            ),
            "submitted_by_id": ("integer", gettext("Who sent the form (user id)."), ""),
            "submitted_by_name": ("text", gettext("Who sent the form (name)."), ""),
            "agency_id": ("integer", gettext("The agency the form was sent for (id)."), ""),
            "agency_name": ("text", gettext("The agency the form was sent for (name)."), ""),
            "practice_id": ("integer", gettext("The practice the form was sent for (id)."), ""),
            "practice_name": (
                "text",
                gettext("The practice the form was sent for (name)."),
                "",
            ),
            "consent": ("yes_no", consent_label, ""),
        }


def codebook(form: FormDefinition, tables: Sequence[Table], *, lang: str = "en") -> Table:
    """What each column holds: its table, type, question and choice codes (in ``lang``)."""
    book = Table("codebook", ["table", "column", "type", "label", "choices"])
    meta = _meta_columns(form, lang)
    for i, table in enumerate(tables):
        own = META_COLUMNS if i == 0 else ROW_META
        for name in table.headers:
            f = table.questions.get(name)
            if f is not None:
                kind, label = f.type, f.label_text(lang) or f.name
                choices = "; ".join(f"{c.value} = {c.text(lang)}" for c in f.choices)
            elif name in own:
                kind, label, choices = meta[name]
            else:
                continue
            book.rows.append([table.name, name, kind, _text(label), _text(choices)])
    return book


def table_csv(table: Table) -> bytes:
    """One table as CSV (UTF-8 with a byte-order mark, so spreadsheets read macrons and Arabic)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow(["" if v is None else v for v in row])
    return buf.getvalue().encode("utf-8-sig")


def csv_zip(tables: Sequence[Table], *, form: FormDefinition, extra: Sequence[Table] = ()) -> bytes:
    """Every table as its own CSV file in one zip: ``<form>.csv``, ``<form>-<repeat>.csv``
    (and ``<form>-codebook.csv`` when given in ``extra``)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for i, table in enumerate([*tables, *extra]):
            zf.writestr(csv_filename(form, table, main=i == 0), table_csv(table))
    return buf.getvalue()


def csv_filename(form: FormDefinition, table: Table, *, main: bool) -> str:
    return f"{form.id}.csv" if main else f"{form.id}-{table.name}.csv"


def _sheet_title(name: str, used: set[str]) -> str:
    base = _SHEET_BAD.sub("_", name).strip("'")[:31] or "sheet"
    title, n = base, 2
    while title.lower() in used:
        suffix = f"_{n}"
        title = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(title.lower())
    return title


def workbook_bytes(tables: Sequence[Table], *, extra: Sequence[Table] = ()) -> bytes:
    """A workbook: the main sheet first, then one sheet per repeat group (then ``extra``)."""
    wb = Workbook(write_only=True)
    used: set[str] = set()
    for table in [*tables, *extra]:
        ws = wb.create_sheet(_sheet_title(table.name, used))
        ws.append(table.headers)
        for row in table.rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def export_tables(
    session: Session,
    *,
    form: FormDefinition,
    since: date | None = None,
    until: date | None = None,
) -> tuple[list[Table], int]:
    """The tables for a form's submissions in the period (names filled in), and how many
    submissions they hold."""
    subs = submissions_for(session, form_id=form.id, since=since, until=until)
    return build_tables(form, subs, names=names_for(session, subs)), len(subs)


def export_csv(
    session: Session,
    *,
    form: FormDefinition,
    since: date | None = None,
    until: date | None = None,
    lang: str = "en",
) -> bytes:
    """The zip of CSV files for a form's submissions, with its codebook."""
    tables, _n = export_tables(session, form=form, since=since, until=until)
    return csv_zip(tables, form=form, extra=[codebook(form, tables, lang=lang)])


def export_xlsx(
    session: Session,
    *,
    form: FormDefinition,
    since: date | None = None,
    until: date | None = None,
    lang: str = "en",
) -> bytes:
    """The workbook for a form's submissions, with its codebook as the last sheet."""
    tables, _n = export_tables(session, form=form, since=since, until=until)
    return workbook_bytes(tables, extra=[codebook(form, tables, lang=lang)])


def export_fhir_ndjson(
    session: Session,
    *,
    form: FormDefinition,
    base_url: str,
    since: date | None = None,
    until: date | None = None,
) -> tuple[bytes, int]:
    """Every submission in the period as a QuestionnaireResponse, one per line (FHIR Bulk
    Data's NDJSON), oldest first; and how many there are."""
    subs = submissions_for(session, form_id=form.id, since=since, until=until)
    body = fhir.ndjson(fhir.questionnaire_response(s, form, base_url=base_url) for s in subs)
    return body, len(subs)
