"""Coordinators' view of form data: the dashboard and the exports (CSV, XLSX, FHIR JSON and
NDJSON)."""

from __future__ import annotations

import json
from datetime import date
from functools import partial
from typing import Annotated, Any
from urllib.parse import urlencode

from babel.dates import format_skeleton
from babel.numbers import format_percent
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import func
from sqlmodel import col, select

from assistant import audit, periods
from assistant.clock import to_local, utcnow
from assistant.deps import SessionDep, SettingsDep, require_roles
from assistant.enrolment import report as funnel_report
from assistant.enrolment.models import Stage
from assistant.errors import NotFound
from assistant.forms.engine.definition import FormDefinition, FormNotFound, all_forms, load_form
from assistant.forms.interop import fhir
from assistant.forms.models import FormSubmission
from assistant.forms.reporting import charts, exports
from assistant.forms.reporting.dashboard import (
    PERIODS,
    Count,
    build_dashboard,
    filter_options,
    parse_filters,
)
from assistant.htmx import is_htmx
from assistant.i18n import (
    LANGUAGE_NAMES,
    _,
    babel_locale,
    current_locale,
    format_date,
    format_number,
    ngettext,
    text_direction,
)
from assistant.people.models import Agency, Role, User
from assistant.templating import render

router = APIRouter()

Oversight = Annotated[User, Depends(require_roles(Role.coordinator, Role.admin))]


RECENT_LIMIT = 20


def _form_or_404(form_id: str) -> FormDefinition:
    try:
        return load_form(form_id)
    except FormNotFound:
        raise NotFound(_("We could not find that form.")) from None


def _week_label(monday: str) -> str:
    return format_skeleton("MMMd", date.fromisoformat(monday), locale=babel_locale())


def _data(counts: list[Count]) -> list[charts.Datum]:
    return [charts.Datum(c.label, c.value) for c in counts]


@router.get("/dashboard")
def dashboard(
    request: Request,
    user: Oversight,
    session: SessionDep,
    weeks: str | None = None,
    agency: str | None = None,
    language: str | None = None,
    worker: str | None = None,
) -> Response:
    lang = current_locale()
    filters = parse_filters(weeks=weeks, agency=agency, language=language, worker=worker)
    board = build_dashboard(session, filters=filters, lang=lang, no_agency_label=_("No agency"))
    rtl = text_direction(lang) == "rtl"
    weekly = [charts.Datum(_week_label(c.key), c.value) for c in board.by_week]
    start, end = _date(board.start), _date(board.end)
    nothing = _("No assessments in this period.")
    bar = partial(charts.bar_chart, rtl=rtl, formatter=format_number, empty_text=nothing)
    figures = {
        "weekly": charts.line_chart(
            weekly,
            chart_id="chart-weekly",
            title=_("Assessments per week"),
            desc=ngettext(
                "%(num)s assessment from %(start)s to %(end)s, counted by week.",
                "%(num)s assessments from %(start)s to %(end)s, counted by week.",
                board.total,
                start=start,
                end=end,
            ),
            rtl=rtl,
            formatter=format_number,
            empty_text=nothing,
        ),
        "barriers": bar(
            _data(board.barriers),
            chart_id="chart-barriers",
            title=_("Barriers found"),
            desc=_("How many assessments found each barrier, largest first."),
        ),
        "agencies": bar(
            _data(board.agencies),
            chart_id="chart-agencies",
            title=_("Assessments by agency"),
            desc=_("How many assessments each agency made, largest first."),
        ),
        "languages": bar(
            _data(board.languages),
            chart_id="chart-languages",
            title=_("Assessments by language"),
            desc=_("The language each assessment was filled in, largest first."),
        ),
    }
    ctx = {
        "board": board,
        "figures": figures,
        "weekly": weekly,
        "periods": PERIODS,
        "filters": filters,
        "options": filter_options(session),
        "clear_url": "/dashboard?"
        + urlencode(filters.query(agency=None, language=None, worker=None)),
        "start": start,
        "end": end,
    }
    # htmx asks again for a page it has no copy of (back button) with HX-Request set too.
    restoring = request.headers.get("hx-history-restore-request") == "true"
    response = render(
        request, "forms_data/dashboard.html", ctx, block=None if restoring else "board"
    )
    response.headers["Vary"] = "HX-Request"
    return response


def _date(day: date) -> str:
    return format_date(day)


# --- the enrolment funnel ---------------------------------------------------------------------

FUNNEL_PRESETS = (4, 12, 52)  # weeks, offered as links beside the date fields


def _percent(share: float | None) -> str:
    return "—" if share is None else format_percent(share, locale=babel_locale())


def _period_label(row: funnel_report.Breakdown, grain: str) -> str:
    assert row.start is not None
    skeleton = "MMMd" if grain == "week" else "yMMM"
    return format_skeleton(skeleton, row.start, locale=babel_locale())


def _funnel_figures(board: funnel_report.Funnel, labels: dict[Stage, str]) -> dict[str, Any]:
    rtl = text_direction(current_locale()) == "rtl"
    start, end = _date(board.filters.since), _date(board.filters.until)
    by_week = board.grain == "week"
    enrolled = [
        charts.Datum(_period_label(row, board.grain), row.counts.get(Stage.enrolled, 0))
        for row in board.over_time
    ]
    nobody = _("No one in this period.")
    return {
        "stages": charts.bar_chart(
            [charts.Datum(labels[t.stage], t.people) for t in board.totals],
            chart_id="chart-funnel",
            title=_("People at each stage"),
            desc=_(
                "How many people reached each stage of enrolment from %(start)s to %(end)s, "
                "in the order of the stages.",
                start=start,
                end=end,
            ),
            rtl=rtl,
            formatter=format_number,
            empty_text=nobody,
        ),
        "enrolled": charts.line_chart(
            enrolled,
            chart_id="chart-enrolled",
            title=_("People enrolled per week") if by_week else _("People enrolled per month"),
            desc=(
                _(
                    "People enrolled from %(start)s to %(end)s, counted by week.",
                    start=start,
                    end=end,
                )
                if by_week
                else _(
                    "People enrolled from %(start)s to %(end)s, counted by month.",
                    start=start,
                    end=end,
                )
            ),
            rtl=rtl,
            formatter=format_number,
            empty_text=nobody,
        ),
        "periods": [_period_label(row, board.grain) for row in board.over_time],
    }


@router.get("/dashboard/enrolment")
def enrolment_funnel(
    request: Request,
    user: Oversight,
    session: SessionDep,
    since: str | None = None,
    until: str | None = None,
    language: str | None = None,
    practice: str | None = None,
) -> Response:
    """The enrolment funnel: people at each stage, by language, by practice and over time."""
    today = to_local(utcnow()).date()
    error = ""
    try:
        filters = funnel_report.parse_filters(
            today=today, since=since, until=until, language=language, practice=practice
        )
    except periods.BadPeriod as exc:
        error = exc.message
        # The form keeps what was typed; the language and practice chosen stay chosen.
        filters = funnel_report.parse_filters(today=today, language=language, practice=practice)
    labels = {stage: str(label) for stage, label in funnel_report.STAGE_LABELS.items()}
    board = (
        None
        if error
        else funnel_report.funnel(session, filters=filters, no_practice_label=_("No practice"))
    )
    query = urlencode(filters.query())
    ctx: dict[str, Any] = {
        "board": board,
        "error": error,
        "filters": filters,
        "since": (since or "").strip() if error else filters.since.isoformat(),
        "until": (until or "").strip() if error else filters.until.isoformat(),
        "labels": labels,
        "practice_stages": funnel_report.PRACTICE_STAGES,
        "figures": _funnel_figures(board, labels) if board else {},
        "percent": _percent,
        "language_choices": [(code, name) for code, name in LANGUAGE_NAMES.items()],
        "practices": funnel_report.practice_options(session),
        "start": _date(filters.since),
        "end": _date(filters.until),
        "clear_url": "/dashboard/enrolment?"
        + urlencode(filters.query(language=None, practice=None)),
        "presets": [
            (
                weeks,
                "/dashboard/enrolment?"
                + urlencode(
                    filters.query(
                        since=funnel_report.default_period(today, weeks=weeks)[0].isoformat(),
                        until=today.isoformat(),
                    )
                ),
            )
            for weeks in FUNNEL_PRESETS
        ],
        "query": query,
    }
    restoring = request.headers.get("hx-history-restore-request") == "true"
    response = render(
        request,
        "forms_data/enrolment.html",
        ctx,
        block=None if restoring else "board",
        status_code=422 if error and not is_htmx(request) else 200,
    )
    response.headers["Vary"] = "HX-Request"
    return response


@router.get("/dashboard/exports")
def exports_page(
    request: Request,
    user: Oversight,
    session: SessionDep,
    since: str | None = None,
    until: str | None = None,
) -> Response:
    error = ""
    try:
        start, end = periods.parse_period(since=since, until=until)
        dates = {
            "since": start.isoformat() if start else "",
            "until": end.isoformat() if end else "",
        }
    except periods.BadPeriod as exc:
        error = exc.message
        # The form keeps what was typed, and so do the links: they refuse it too, rather than
        # download every date.
        dates = {"since": (since or "").strip(), "until": (until or "").strip()}
    counts = dict(
        session.exec(
            select(FormSubmission.form_id, func.count()).group_by(col(FormSubmission.form_id))
        ).all()
    )
    recent = session.exec(
        select(FormSubmission).order_by(col(FormSubmission.created_at).desc()).limit(RECENT_LIMIT)
    ).all()
    agency_ids = {s.agency_id for s in recent if s.agency_id}
    agencies = {
        a.id: a.name
        for a in session.exec(select(Agency).where(col(Agency.id).in_(agency_ids))).all()
    }
    forms = all_forms()
    titles = {f.id: f.title_text(current_locale()) for f in forms}
    query = urlencode({k: v for k, v in dates.items() if v})
    ctx: dict[str, Any] = {
        "forms": forms,
        "counts": counts,
        "titles": titles,
        "recent": recent,
        "agencies": agencies,
        "error": error,
        "since": dates["since"],
        "until": dates["until"],
        "query": f"?{query}" if query else "",
        "tables": {f.id: [t.name for t in exports.build_tables(f, [])[1:]] for f in forms},
        "funnel_weeks": funnel_report.DEFAULT_WEEKS,
    }
    return render(request, "forms_data/exports.html", ctx, status_code=422 if error else 200)


def _download(body: bytes, media_type: str, filename: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def _stamp() -> str:
    return to_local(utcnow()).date().isoformat()


def _audit_export(session: SessionDep, user: User, form: FormDefinition, fmt: str, n: int) -> None:
    audit.record(
        session,
        actor_id=user.id,
        action="exported",
        entity="form_submission",
        entity_id=form.id,
        format=fmt,
        rows=n,
    )
    session.commit()


def _tables(
    session: SessionDep, form: FormDefinition, since: str | None, until: str | None
) -> tuple[list[exports.Table], int]:
    """The form's tables for the period (a bad period is a 422)."""
    start, end = periods.parse_period(since=since, until=until)
    return exports.export_tables(session, form=form, since=start, until=end)


@router.get("/dashboard/exports/{form_id}/csv.zip")
def export_csv_zip(
    form_id: str,
    user: Oversight,
    session: SessionDep,
    since: str | None = None,
    until: str | None = None,
) -> Response:
    form = _form_or_404(form_id)
    tables, n = _tables(session, form, since, until)
    _audit_export(session, user, form, "csv", n)
    book = exports.codebook(form, tables, lang=current_locale())
    return _download(
        exports.csv_zip(tables, form=form, extra=[book]),
        "application/zip",
        f"{form.id}-{_stamp()}.zip",
    )


@router.get("/dashboard/exports/{form_id}/tables/{table}.csv")
def export_csv_table(
    form_id: str,
    table: str,
    user: Oversight,
    session: SessionDep,
    since: str | None = None,
    until: str | None = None,
) -> Response:
    form = _form_or_404(form_id)
    tables, n = _tables(session, form, since, until)
    named = {"main": tables[0]} | {t.name: t for t in tables[1:]}
    named["codebook"] = exports.codebook(form, tables, lang=current_locale())
    chosen = named.get(table)
    if chosen is None:
        raise NotFound(_("We could not find that table."))
    _audit_export(session, user, form, f"csv:{table}", n)
    filename = exports.csv_filename(form, chosen, main=chosen is tables[0])
    return _download(
        exports.table_csv(chosen),
        "text/csv; charset=utf-8",
        filename.replace(".csv", f"-{_stamp()}.csv"),
    )


@router.get("/dashboard/exports/{form_id}/xlsx")
def export_xlsx(
    form_id: str,
    user: Oversight,
    session: SessionDep,
    since: str | None = None,
    until: str | None = None,
) -> Response:
    form = _form_or_404(form_id)
    tables, n = _tables(session, form, since, until)
    _audit_export(session, user, form, "xlsx", n)
    book = exports.codebook(form, tables, lang=current_locale())
    return _download(
        exports.workbook_bytes(tables, extra=[book]),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        f"{form.id}-{_stamp()}.xlsx",
    )


def _funnel_export(
    session: SessionDep,
    user: User,
    fmt: str,
    since: str | None,
    until: str | None,
    language: str | None,
    practice: str | None,
) -> tuple[exports.Table, funnel_report.FunnelFilters]:
    """The funnel's counts for the filters (a bad period is a 422), the download recorded."""
    filters = funnel_report.parse_filters(
        today=to_local(utcnow()).date(),
        since=since,
        until=until,
        language=language,
        practice=practice,
    )
    rows = funnel_report.export_rows(session, filters=filters)
    audit.record(
        session,
        actor_id=user.id,
        action="exported",
        entity="funnel_mark",
        entity_id="enrolment_funnel",
        format=fmt,
        rows=len(rows),
        since=filters.since.isoformat(),
        until=filters.until.isoformat(),
        language=filters.language,
        practice_id=filters.practice_id,
    )
    session.commit()
    return exports.Table("funnel", list(funnel_report.EXPORT_HEADERS), rows), filters


def _funnel_filename(filters: funnel_report.FunnelFilters, ext: str) -> str:
    return f"enrolment-funnel-{filters.since.isoformat()}-{filters.until.isoformat()}.{ext}"


@router.get("/dashboard/exports/enrolment/funnel.csv")
def export_funnel_csv(
    user: Oversight,
    session: SessionDep,
    since: str | None = None,
    until: str | None = None,
    language: str | None = None,
    practice: str | None = None,
) -> Response:
    """People at each stage per period, language and practice (counts only), with the median."""
    table, filters = _funnel_export(session, user, "csv", since, until, language, practice)
    return _download(
        exports.table_csv(table), "text/csv; charset=utf-8", _funnel_filename(filters, "csv")
    )


@router.get("/dashboard/exports/enrolment/funnel.xlsx")
def export_funnel_xlsx(
    user: Oversight,
    session: SessionDep,
    since: str | None = None,
    until: str | None = None,
    language: str | None = None,
    practice: str | None = None,
) -> Response:
    table, filters = _funnel_export(session, user, "xlsx", since, until, language, practice)
    return _download(
        exports.workbook_bytes([table]),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _funnel_filename(filters, "xlsx"),
    )


def _fhir_json(resource: dict[str, Any], filename: str) -> Response:
    body = json.dumps(resource, ensure_ascii=False, indent=2).encode("utf-8")
    return Response(
        body,
        media_type="application/fhir+json",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/dashboard/exports/{form_id}/fhir.ndjson")
def export_fhir_bulk(
    form_id: str,
    user: Oversight,
    session: SessionDep,
    settings: SettingsDep,
    since: str | None = None,
    until: str | None = None,
) -> Response:
    """Every submission of a form in the period as QuestionnaireResponses (FHIR Bulk Data)."""
    form = _form_or_404(form_id)
    start, end = periods.parse_period(since=since, until=until)
    body, n = exports.export_fhir_ndjson(
        session, form=form, base_url=settings.public_base_url, since=start, until=end
    )
    _audit_export(session, user, form, "fhir-ndjson", n)
    return _download(
        body,
        fhir.NDJSON_MEDIA_TYPE,
        f"QuestionnaireResponse-{fhir.fhir_id(form.id)}-{_stamp()}.ndjson",
    )


@router.get("/dashboard/exports/{form_id}/questionnaire.json")
def export_questionnaire(form_id: str, user: Oversight, settings: SettingsDep) -> Response:
    form = _form_or_404(form_id)
    resource = fhir.questionnaire(form, base_url=settings.public_base_url)
    return _fhir_json(resource, f"Questionnaire-{fhir.fhir_id(form.id)}.json")


@router.get("/dashboard/submissions/{instance_id}/fhir.json")
def export_response(
    instance_id: str, user: Oversight, session: SessionDep, settings: SettingsDep
) -> Response:
    sub = session.exec(
        select(FormSubmission).where(FormSubmission.instance_id == instance_id)
    ).first()
    if sub is None:
        raise NotFound(_("We could not find that submission."))
    form = _form_or_404(sub.form_id)
    resource = fhir.questionnaire_response(sub, form, base_url=settings.public_base_url)
    audit.record(
        session,
        actor_id=user.id,
        action="viewed",
        entity="form_submission",
        entity_id=sub.id,
        format="fhir",
    )
    session.commit()
    return _fhir_json(resource, f"QuestionnaireResponse-{fhir.fhir_id(sub.instance_id)}.json")
