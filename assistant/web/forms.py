"""Filling forms page by page (htmx or plain HTML), drafts, submissions and the forms API."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from pydantic import Field as PydanticField
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from assistant import audit, i18n
from assistant.deps import (
    CurrentUser,
    SessionDep,
    SignIn,
    in_request_thread,
    require_roles,
    sign_in_later,
)
from assistant.enrolment import on_behalf
from assistant.errors import Forbidden, NotFound
from assistant.forms.capture import actions, drafts, filling, hooks, submissions
from assistant.forms.engine import validation
from assistant.forms.engine.definition import (
    FormDefinition,
    FormNotFound,
    all_forms,
    load_form,
)
from assistant.htmx import is_htmx
from assistant.htmx import redirect as hx_redirect
from assistant.i18n import _
from assistant.people.models import Role, User
from assistant.templating import render

router = APIRouter()

FORM_USERS = (Role.pcw, Role.practice_staff, Role.coordinator, Role.admin)
FILLERS = (Role.pcw, Role.practice_staff)
MAX_BODY_BYTES = 256 * 1024
MAX_INSTANCE_ID = 64  # a UUID fits, with room; as the stored column
STATIC_FORMS = Path(__file__).resolve().parent.parent / "static" / "forms"

FormUser = Annotated[User, Depends(require_roles(*FORM_USERS))]
Filler = Annotated[User, Depends(require_roles(*FILLERS))]
# For the submissions API (phones sending their queues): the sign-in is read in the thread that
# stores the submission.
FillerSignIn = Annotated[SignIn, Depends(sign_in_later(*FILLERS))]


def _form(form_id: str) -> FormDefinition:
    try:
        return load_form(form_id)
    except FormNotFound:
        raise NotFound(_("We could not find that form.")) from None


def _fillable(form: FormDefinition, user: User) -> FormDefinition:
    if not submissions.can_fill(form, user):
        raise Forbidden()
    return form


# --- the submissions API -------------------------------------------------------------------------
# First in this module: the forms' busiest route (phones sending their queues) is matched before
# the pages.


class SubmissionBody(BaseModel):
    """The body of a submission (contract 4), as the offline queue sends it. Checked by hand
    from the raw bytes (see ``api_submit``), so its problems are answered per field in the
    form's language."""

    model_config = ConfigDict(strict=True)

    instance_id: str = PydanticField(min_length=1, max_length=MAX_INSTANCE_ID)
    form_version: str = PydanticField(min_length=1)
    lang: str = PydanticField(
        default="en", description="The language answered in; another value counts as en."
    )
    answers: dict[str, Any]

    @field_validator("lang", mode="before")
    @classmethod
    def _known_language(cls, value: object) -> str:
        return _language(value)


def _language(value: object) -> str:
    return value if isinstance(value, str) and value in i18n.LANGUAGES else "en"


@router.post(
    "/api/forms/{form_id}/submissions",
    # The body is read by hand (its size first, then JSON); the description still shows it.
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": SubmissionBody.model_json_schema()}},
        }
    },
)
async def api_submit(request: Request, form_id: str, sign_in: FillerSignIn) -> Response:
    raw = await request.body()
    # Signing in, parsing, checking and storing block: off the event loop, in one thread (with
    # the request's session, opened and closed there), so other requests go on.
    return await in_request_thread(
        request, lambda session: _store_submission(session, sign_in, form_id, raw)
    )


def _store_submission(session: Session, sign_in: SignIn, form_id: str, raw: bytes) -> Response:
    user = sign_in.user(session)
    try:
        form = load_form(form_id)
    except FormNotFound:
        return JSONResponse({"detail": "unknown form"}, status_code=404)
    if len(raw) > MAX_BODY_BYTES:
        return JSONResponse({"detail": "too large"}, status_code=413)
    # json.loads, not Pydantic's parser: JSON nested too deep raises RecursionError, which the
    # app answers with a 400.
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    lang = _language(data.get("lang")) if isinstance(data, dict) else "en"
    try:
        body = SubmissionBody.model_validate(data)
    except ValidationError as invalid:
        return JSONResponse({"errors": _body_problems(invalid, lang)}, status_code=422)
    try:
        outcome = submissions.submit(
            session,
            form=form,
            user=user,
            instance_id=body.instance_id,
            form_version=body.form_version,
            lang=body.lang,
            answers=body.answers,
            after_submit=hooks.AFTER_SUBMIT.get(form.id),
        )
    except submissions.NotAllowed:
        return JSONResponse({"detail": "not allowed"}, status_code=403)
    except submissions.InstanceConflict:
        with i18n.use_locale(body.lang):
            message = _("This form was already sent with different answers.")
        return JSONResponse({"detail": message}, status_code=409)
    except submissions.InvalidSubmission as invalid:
        return JSONResponse({"errors": invalid.errors}, status_code=422)
    s = outcome.submission
    answer = {
        "id": s.id,
        "instance_id": s.instance_id,
        "status": "stored" if outcome.created else "already stored",
        "url": f"/forms/submissions/{s.id}",
    }
    session.commit()  # the submission and what it sets off (tickets, emails), together
    return JSONResponse(answer, status_code=201 if outcome.created else 200)


def _body_problems(invalid: ValidationError, lang: str) -> dict[str, str]:
    """One message per field of the body (``body`` when it is no JSON object)."""
    problems: dict[str, str] = {}
    with i18n.use_locale(lang):
        for error in invalid.errors():
            if not error["loc"]:
                return {"body": _("Send a JSON object.")}
            name = str(error["loc"][0])
            if name == "instance_id" and error["type"] == "string_too_long":
                problems[name] = _("This form has no valid instance id.")
            else:
                problems.setdefault(name, _("This is needed."))
    return problems


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
    submitted = submissions.visible_submissions(session, user=user)
    return render(
        request,
        "forms/index.html",
        {
            "fillable": fillable,
            "titles": titles,
            "drafts": drafts.drafts_for(session, user=user),
            "submitted": submitted,
            "people": {s.id: actions.person_of(s) for s in submitted},
            # The page script writes times on the phone: in this CLDR locale (BCP 47).
            "date_locale": str(i18n.babel_locale()).replace("_", "-"),
        },
    )


@router.get("/forms/{form_id}/fill")
def new_form(
    request: Request,
    form_id: str,
    user: FormUser,
    lang: str | None = None,
) -> Response:
    """A blank copy of the form. Open to every form user, so an unknown form is 404 for each;
    the form's own roles decide who fills it in (403 for the rest)."""
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
    page: str | None = None,
) -> Response:
    try:
        draft = drafts.get_draft(session, instance_id=instance_id, user=user)
    except drafts.DraftNotYours:
        raise Forbidden() from None
    if draft is None:
        raise NotFound(_("We could not find that draft. It may have been sent already."))
    form = _fillable(_form(draft.form_id), user)
    answers = submissions.answers_of(draft)
    index = filling.page_to_show(form, answers, draft.lang, requested=page, saved=draft.page)
    if page is not None and page != str(index):
        # The address says which page is on screen: a page that is not there, or does not
        # apply to these answers, moves to the nearest one that does.
        return RedirectResponse(_draft_url(instance_id, index), status_code=303)
    audit.record(
        session, actor_id=user.id, action="viewed", entity="form_draft", entity_id=draft.id
    )
    session.commit()
    return _render_fill(
        request,
        form,
        instance_id=draft.instance_id,
        lang=draft.lang,
        answers=answers,
        page=index,
    )


@router.post("/forms/{form_id}/fill")
async def post_page(
    request: Request,
    session: SessionDep,
    form_id: str,
    user: FormUser,
) -> Response:
    """Every button of the fill page: next, back, language, add/remove a row, send."""
    form = _fillable(_form(form_id), user)
    data = await request.form()
    return await run_in_threadpool(_post_page, request, session, form, user, data)


def _post_page(
    request: Request, session: Session, form: Any, user: User, data: FormData
) -> Response:
    """The blocking part of ``post_page`` (database work), run off the event loop."""
    instance_id = str(data.get("instance_id") or "")
    if not submissions.valid_instance_id(instance_id):
        raise NotFound(_("We could not find that draft. It may have been sent already."))
    lang = str(data.get("form_lang") or data.get("lang") or "en")
    lang = lang if lang in i18n.LANGUAGES else "en"
    action = str(data.get("action") or "save")
    page = filling.to_int(data.get("page"), 0, len(form.pages) - 1)
    raw = filling.answers_from_post(form, data)
    if action.startswith(("add:", "remove:")):
        raw = filling.change_rows(form, raw, action)
    shown = data.get("shown")
    try:
        result = filling.step(
            session,
            form=form,
            user=user,
            instance_id=instance_id,
            lang=lang,
            action=action,
            page=page,
            raw=raw,
            shown=None if shown is None else str(shown).split(),
        )
    except drafts.DraftNotYours:
        raise Forbidden() from None
    session.commit()  # the draft as saved on this page
    if result.redirect:
        return _go(request, result.redirect)
    # The address names the page on screen: a plain post that turns the page redirects there
    # (so reloading or bookmarking shows that page); htmx swaps the page and replaces the
    # address. Errors and new questions are shown where they were posted.
    url = _draft_url(instance_id, result.page)
    if not is_htmx(request) and result.page != page and not result.errors and not result.added:
        return RedirectResponse(url, status_code=303)
    return _render_fill(
        request,
        form,
        instance_id=instance_id,
        lang=lang,
        answers=raw,
        page=result.page,
        errors=result.errors,
        added=result.added,
        headers={"HX-Replace-Url": url} if is_htmx(request) else None,
    )


def _draft_url(instance_id: str, page: int) -> str:
    return f"/forms/drafts/{instance_id}?page={page}"


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
    session.commit()
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
        session.commit()  # the view's audit record
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
            "person": actions.person_of(submission),
            "tasks": actions.tasks_of(session, submission),
            "answers": submissions.answers_of(submission),
            "sent": bool(sent),
            "display": filling.display_value,
            "can_ask_practice": on_behalf.can_ask_from(form, user),
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


def _render_fill(
    request: Request,
    form: FormDefinition,
    *,
    instance_id: str,
    lang: str,
    answers: dict[str, Any],
    page: int,
    errors: dict[str, str] | None = None,
    added: list[str] | None = None,
    new: bool = False,
    headers: dict[str, str] | None = None,
) -> Response:
    # The whole fill page speaks the form's language (buttons too), and turns for Arabic.
    i18n.set_locale(lang)
    request.state.locale = lang
    typed, _type_errors = validation.normalise(form, answers, lang)
    state = validation.evaluate_state(form, typed)
    page = filling.nearest_page(form, state, page)
    return render(
        request,
        "forms/fill.html",
        {
            "form": form,
            "form_lang": lang,
            "instance_id": instance_id,
            "answers": answers,
            "errors": errors or {},
            "added": added or [],
            "shown": " ".join(filling.shown_paths(form, state)),
            "page": page,
            "last_page": filling.last_relevant(form, state),
            "state": state,
            "new": new,
            "action_url": f"/forms/{form.id}/fill",
        },
        block="form_area",
        headers=headers,
    )
