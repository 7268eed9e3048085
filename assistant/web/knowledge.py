"""The knowledge base pages: every entry, its review date and how often it helped."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from assistant.clock import NZ, utcnow
from assistant.deps import SessionDep, require_roles
from assistant.errors import NotFound
from assistant.i18n import LANGUAGES, current_locale, lazy_gettext
from assistant.knowledge import AUDIENCES, get_knowledge_base
from assistant.knowledge.overview import knowledge_overview
from assistant.knowledge.usage import usage_counts
from assistant.matcher import match
from assistant.people.models import Role, User
from assistant.templating import render

router = APIRouter(prefix="/knowledge")


KnowledgeManager = Annotated[User, Depends(require_roles(Role.coordinator, Role.admin))]

AUDIENCE_LABELS = {
    "practice": lazy_gettext("Practice staff"),
    "patient": lazy_gettext("Patients"),
    "both": lazy_gettext("Everyone"),
}
TEAM_LABELS = {
    "liaison": lazy_gettext("Practice support liaison"),
    "coordination": lazy_gettext("Practice coordination"),
    "mso": lazy_gettext("MSO"),
    "pcw": lazy_gettext("Partnership community workers"),
    "none": lazy_gettext("No team"),
}


@router.get("")
def knowledge_list(
    request: Request,
    user: KnowledgeManager,
    session: SessionDep,
    audience: str = "",
    q: str = "",
) -> Response:
    chosen = audience if audience in AUDIENCES else ""
    summaries = knowledge_overview(
        session,
        kb=get_knowledge_base(),
        today=utcnow().astimezone(NZ).date(),
        audience=chosen or None,
        search=q,
    )
    context = {
        "summaries": summaries,
        "audience": chosen,
        "q": q,
        "audiences": AUDIENCES,
        "audience_labels": AUDIENCE_LABELS,
        "team_labels": TEAM_LABELS,
    }
    return render(request, "knowledge/index.html", context, block="results")


STATUS_LABELS = {
    "answer": lazy_gettext("Answers with this entry"),
    "choose": lazy_gettext("Offers a choice between these two"),
    "abstain": lazy_gettext("Hands the question to a person"),
    "safety": lazy_gettext("Gives the safety answer straight away"),
}


@router.get("/try")
def knowledge_try(
    request: Request,
    user: KnowledgeManager,
    q: str = "",
    audience: str = "practice",
) -> Response:
    """Try a question on the matcher: what would the chat or SMS answer?"""
    chosen = audience if audience in ("practice", "patient") else "practice"
    result = match(q, audience=chosen, lang=current_locale()) if q.strip() else None  # type: ignore[arg-type]
    context = {
        "q": q,
        "audience": chosen,
        "result": result,
        "status_labels": STATUS_LABELS,
        "audience_labels": AUDIENCE_LABELS,
    }
    return render(request, "knowledge/try.html", context, block="result")


@router.get("/{entry_id}")
def knowledge_entry(
    request: Request,
    entry_id: str,
    user: KnowledgeManager,
    session: SessionDep,
    lang: str = "",
) -> Response:
    entry = get_knowledge_base().get(entry_id)
    if entry is None:
        raise NotFound()
    shown = lang if lang in entry.variants else current_locale()
    variant = entry.variant(shown)
    counts = usage_counts(session).get(entry.id, {})
    context = {
        "entry": entry,
        "variant": variant,
        "entry_languages": [code for code in LANGUAGES if code in entry.variants],
        "counts": counts,
        "audience_labels": AUDIENCE_LABELS,
        "team_labels": TEAM_LABELS,
    }
    return render(request, "knowledge/entry.html", context, block="variant")
