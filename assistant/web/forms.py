"""Filling forms page by page (htmx or plain HTML), drafts, submissions and the forms API."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from assistant import audit, i18n
from assistant.deps import CurrentUser, SessionDep, require_roles
from assistant.errors import Forbidden, NotFound
from assistant.forms import drafts, submissions, validation
from assistant.forms.definition import (
    FormDefinition,
    FormNotFound,
    all_forms,
    load_form,
)
from assistant.htmx import is_htmx
from assistant.htmx import redirect as hx_redirect
from assistant.i18n import _, lazy_gettext
from assistant.people.models import Role, User
from assistant.templating import render
from assistant.web.nav import register

router = APIRouter()

FORM_USERS = (Role.pcw, Role.practice_staff, Role.coordinator, Role.admin)
FILLERS = (Role.pcw, Role.practice_staff)
MAX_BODY_BYTES = 256 * 1024
STATIC_FORMS = Path(__file__).resolve().parent.parent / "static" / "forms"

FormUser = Annotated[User, Depends(require_roles(*FORM_USERS))]
Filler = Annotated[User, Depends(require_roles(*FILLERS))]

register("/forms", lazy_gettext("Forms"), *FORM_USERS)


def _form(form_id: str) -> FormDefinition:
    try:
        return load_form(form_id)
    except FormNotFound:
        raise NotFound(_("We could not find that form.")) from None


def _fillable(form: FormDefinition, user: User) -> FormDefinition:
    if not submissions.can_fill(form, user):
        raise Forbidden()
    return form


# --- the service worker, at the root so it can look after every page ---------------------------


@router.get("/sw.js", include_in_schema=False)
def service_worker() -> Response:
    return FileResponse(
        STATIC_FORMS / "sw.js",
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )


# --- pages ------------------------------------------------------------------------------------


@router.get("/forms")
def forms_home(request: Request, session: SessionDep, user: FormUser) -> Response:
    fillable = [f for f in all_forms() if submissions.can_fill(f, user)]
    titles = {f.id: f.title_text(i18n.current_locale()) for f in all_forms()}
    return render(
        request,
        "forms/index.html",
        {
            "fillable": fillable,
            "titles": titles,
            "drafts": drafts.drafts_for(session, user=user),
            "submitted": submissions.visible_submissions(session, user=user),
        },
    )


@router.get("/forms/{form_id}/fill")
def new_form(
    request: Request,
    form_id: str,
    user: Filler,
    lang: str | None = None,
) -> Response:
    form = _fillable(_form(form_id), user)
    form_lang = lang if lang in i18n.LANGUAGES else i18n.current_locale()
    return _render_fill(
        request, form, instance_id=str(uuid.uuid4()), lang=form_lang, answers={}, page=0, new=True
    )


@router.get("/forms/drafts/{instance_id}")
def resume_draft(
    request: Request,
    session: SessionDep,
    instance_id: str,
    user: Filler,
    page: int | None = None,
) -> Response:
    try:
        draft = drafts.get_draft(session, instance_id=instance_id, user=user)
    except drafts.DraftNotYours:
        raise Forbidden() from None
    if draft is None:
        raise NotFound(_("We could not find that draft. It may have been sent already."))
    form = _fillable(_form(draft.form_id), user)
    audit.record(
        session, actor_id=user.id, action="viewed", entity="form_draft", entity_id=draft.id
    )
    answers = submissions.answers_of(draft)
    index = draft.page if page is None else page
    return _render_fill(
        request,
        form,
        instance_id=draft.instance_id,
        lang=draft.lang,
        answers=answers,
        page=max(0, min(index, len(form.pages) - 1)),
    )


@router.post("/forms/{form_id}/fill")
async def post_page(
    request: Request,
    session: SessionDep,
    form_id: str,
    user: Filler,
) -> Response:
    """Every button of the fill page: next, back, language, add/remove a row, send."""
    form = _fillable(_form(form_id), user)
    data = await request.form()
    instance_id = str(data.get("instance_id") or "")
    if not submissions.valid_instance_id(instance_id):
        raise NotFound(_("We could not find that draft. It may have been sent already."))
    lang = str(data.get("form_lang") or data.get("lang") or "en")
    lang = lang if lang in i18n.LANGUAGES else "en"
    action = str(data.get("action") or "save")
    page = _int(data.get("page"), 0, len(form.pages) - 1)
    raw = answers_from_post(form, data)
    if action.startswith("add:") or action.startswith("remove:"):
        raw = _change_rows(form, raw, action)
    typed, type_errors = validation.normalise(form, raw, lang)
    state = validation.evaluate_state(form, typed)
    errors: dict[str, str] = {}
    if action == "next":
        errors = _page_errors(form, page, typed, type_errors, lang)
        if not errors:
            page = _next_page(form, state, page)
    elif action == "back":
        page = _previous_page(form, state, page)
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
    except drafts.DraftNotYours:
        raise Forbidden() from None
    except drafts.AlreadySubmitted as done:
        return _go(request, f"/forms/submissions/{done.submission.id}")
    if action == "lang":
        return _go(request, f"/forms/drafts/{instance_id}?page={page}")
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
            )
        except submissions.InvalidSubmission as invalid:
            errors = invalid.errors
            page = _first_page_with(form, errors, page)
        except submissions.InstanceConflict:
            errors = {"instance_id": _("This form was already sent with different answers.")}
        else:
            return _go(request, f"/forms/submissions/{outcome.submission.id}?sent=1")
    return _render_fill(
        request, form, instance_id=instance_id, lang=lang, answers=raw, page=page, errors=errors
    )


def _go(request: Request, url: str) -> Response:
    if is_htmx(request):
        return hx_redirect(Response(status_code=204), url)
    return RedirectResponse(url, status_code=303)


@router.post("/forms/drafts/{instance_id}/discard")
def discard(
    request: Request,
    session: SessionDep,
    instance_id: str,
    user: Filler,
) -> Response:
    try:
        drafts.discard_draft(session, instance_id=instance_id, user=user)
    except drafts.DraftNotYours:
        raise Forbidden() from None
    return RedirectResponse("/forms", status_code=303)


@router.get("/forms/submissions/{submission_id}")
def show_submission(
    request: Request,
    session: SessionDep,
    submission_id: int,
    user: FormUser,
    sent: int = 0,
) -> Response:
    try:
        submission = submissions.view_submission(session, submission_id=submission_id, user=user)
    except LookupError:
        raise NotFound() from None
    except submissions.NotAllowed:
        raise Forbidden() from None
    form = _form(submission.form_id)
    return render(
        request,
        "forms/submission.html",
        {
            "form": form,
            "submission": submission,
            "submitter": session.get(User, submission.submitted_by_id),
            "answers": submissions.answers_of(submission),
            "sent": bool(sent),
            "display": display_value,
        },
    )


# --- the API (contract 4) ---------------------------------------------------------------------


@router.get("/api/forms/{form_id}")
def api_definition(form_id: str, user: CurrentUser) -> Response:
    try:
        form = load_form(form_id)
    except FormNotFound:
        return JSONResponse({"detail": "unknown form"}, status_code=404)
    return JSONResponse(form.to_json(), headers={"Cache-Control": "private, no-cache"})


@router.post("/api/forms/{form_id}/submissions")
async def api_submit(
    request: Request,
    session: SessionDep,
    form_id: str,
    user: Filler,
) -> Response:
    try:
        form = load_form(form_id)
    except FormNotFound:
        return JSONResponse({"detail": "unknown form"}, status_code=404)
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        return JSONResponse({"detail": "too large"}, status_code=413)
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    lang = body.get("lang") if isinstance(body, dict) else None
    lang = lang if lang in i18n.LANGUAGES else "en"
    problems = _body_problems(body, lang)
    if problems:
        return JSONResponse({"errors": problems}, status_code=422)
    assert isinstance(body, dict)
    try:
        outcome = submissions.submit(
            session,
            form=form,
            user=user,
            instance_id=body["instance_id"],
            form_version=body["form_version"],
            lang=lang,
            answers=body["answers"],
        )
    except submissions.NotAllowed:
        return JSONResponse({"detail": "not allowed"}, status_code=403)
    except submissions.InstanceConflict:
        with i18n.use_locale(lang):
            message = _("This form was already sent with different answers.")
        return JSONResponse({"detail": message}, status_code=409)
    except submissions.InvalidSubmission as invalid:
        return JSONResponse({"errors": invalid.errors}, status_code=422)
    s = outcome.submission
    return JSONResponse(
        {
            "id": s.id,
            "instance_id": s.instance_id,
            "status": "stored" if outcome.created else "already stored",
            "url": f"/forms/submissions/{s.id}",
        },
        status_code=201 if outcome.created else 200,
    )


def _body_problems(body: Any, lang: str) -> dict[str, str]:
    with i18n.use_locale(lang):
        if not isinstance(body, dict):
            return {"body": _("Send a JSON object.")}
        problems = {}
        for key in ("instance_id", "form_version"):
            if not isinstance(body.get(key), str) or not body.get(key):
                problems[key] = _("This is needed.")
        if not isinstance(body.get("answers"), dict):
            problems["answers"] = _("This is needed.")
        return problems


# --- helpers ----------------------------------------------------------------------------------


def _int(value: Any, low: int, high: int) -> int:
    try:
        number = int(str(value))
    except ValueError:
        return low
    return max(low, min(high, number))


def answers_from_post(form: FormDefinition, data: FormData) -> dict[str, Any]:
    """Every answer on the fill page (all pages are in the one HTML form)."""
    raw: dict[str, Any] = {}
    for f in form.top_fields():
        if f.is_repeat:
            count = _int(data.get(f"{f.name}.rows"), 0, f.max_count)
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


def _read(data: FormData, key: str, ftype: str) -> Any:
    if ftype == "select_multiple":
        return [str(v) for v in data.getlist(key) if v]
    value = data.get(key)
    return str(value) if isinstance(value, str) and value != "" else None


def _change_rows(form: FormDefinition, raw: dict[str, Any], action: str) -> dict[str, Any]:
    parts = action.split(":")
    f = form.fields.get(parts[1]) if len(parts) > 1 else None
    if f is None or not f.is_repeat:
        return raw
    rows = list(raw.get(f.name) or [])
    if parts[0] == "add" and len(rows) < f.max_count:
        rows.append({c.name: None for c in f.children if c.is_input})
    elif parts[0] == "remove" and len(parts) == 3:
        index = _int(parts[2], 0, max(0, len(rows) - 1))
        if rows:
            rows.pop(index)
    return raw | {f.name: rows}


def _page_errors(
    form: FormDefinition,
    page: int,
    typed: dict[str, Any],
    type_errors: dict[str, str],
    lang: str,
) -> dict[str, str]:
    the_page = form.pages[page]
    names = {f.name for f in the_page.fields}
    errors = {k: v for k, v in type_errors.items() if k.split(".")[0] in names}
    return validation.validate_page(form, the_page, typed, lang) | errors


def _next_page(form: FormDefinition, state: validation.State, page: int) -> int:
    for i in range(page + 1, len(form.pages)):
        if state.page_relevant(form.pages[i]):
            return i
    return page


def _previous_page(form: FormDefinition, state: validation.State, page: int) -> int:
    for i in range(page - 1, -1, -1):
        if state.page_relevant(form.pages[i]):
            return i
    return page


def _first_page_with(form: FormDefinition, errors: dict[str, str], default: int) -> int:
    keys = {k.split(".")[0] for k in errors}
    for i, p in enumerate(form.pages):
        if any(f.name in keys for f in p.fields):
            return i
    return default


def _last_relevant(form: FormDefinition, state: validation.State) -> int:
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
        from datetime import date

        try:
            return i18n.format_date(date.fromisoformat(value))
        except ValueError:
            return value
    return str(value)


def _choice_text(f: Any, value: str, lang: str) -> str:
    choice = f.choice(value)
    return str(choice.text(lang)) if choice else value


def _render_fill(
    request: Request,
    form: FormDefinition,
    *,
    instance_id: str,
    lang: str,
    answers: dict[str, Any],
    page: int,
    errors: dict[str, str] | None = None,
    new: bool = False,
) -> Response:
    # The whole fill page speaks the form's language (buttons too), and turns for Arabic.
    i18n.set_locale(lang)
    request.state.locale = lang
    typed, _type_errors = validation.normalise(form, answers, lang)
    state = validation.evaluate_state(form, typed)
    if not state.page_relevant(form.pages[page]):
        page = _next_page(form, state, page) if page else 0
    return render(
        request,
        "forms/fill.html",
        {
            "form": form,
            "form_lang": lang,
            "instance_id": instance_id,
            "answers": answers,
            "errors": errors or {},
            "page": page,
            "last_page": _last_relevant(form, state),
            "state": state,
            "new": new,
            "action_url": f"/forms/{form.id}/fill",
        },
        block="form_area",
    )
