"""FHIR R4: a Questionnaire made from a form definition, a QuestionnaireResponse per submission.

Type mapping: text/phone -> string, integer, decimal, date, select_one -> choice (answerOption),
select_multiple -> choice with ``repeats``, yes_no -> boolean, note -> display, calculate ->
read-only decimal, pages -> group, repeat groups -> group with ``repeats``.

Many submissions at once are NDJSON as FHIR Bulk Data writes them: one resource per line.

Skip logic becomes ``enableWhen`` when it is a simple comparison (or an all-"and" / all-"or"
list of them); otherwise the expression is kept in the SDC ``enableWhenExpression`` extension,
marked with our expression language. Translations go in the standard translation extension.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from assistant.forms.engine import values
from assistant.forms.engine.definition import Choice, Field, FormDefinition, Page
from assistant.forms.engine.expressions import (
    Binary,
    Call,
    Expr,
    ExpressionError,
    FieldRef,
    Literal,
    Unary,
    compile_expression,
    scope,
)
from assistant.forms.models import FormSubmission
from assistant.i18n import LANGUAGES, html_lang

FHIR_VERSION = "4.0.1"
NDJSON_MEDIA_TYPE = "application/fhir+ndjson"
TRANSLATION_EXT = "http://hl7.org/fhir/StructureDefinition/translation"
SDC = "http://hl7.org/fhir/uv/sdc/StructureDefinition/"
ENABLE_WHEN_EXPRESSION_EXT = SDC + "sdc-questionnaire-enableWhenExpression"
CALCULATED_EXPRESSION_EXT = SDC + "sdc-questionnaire-calculatedExpression"
EXPRESSION_LANGUAGE = "text/x-form-expression"

ITEM_TYPES: dict[str, str] = {
    "text": "string",
    "phone": "string",
    "integer": "integer",
    "decimal": "decimal",
    "date": "date",
    "select_one": "choice",
    "select_multiple": "choice",
    "yes_no": "boolean",
    "note": "display",
    "calculate": "decimal",
    "repeat": "group",
}


def _fhir_integer(value: Any) -> int | None:
    """``value`` as a FHIR integer, which is 32-bit: None when it is not a whole number in range."""
    number = values.as_int(value)
    if number is None or not -(2**31) <= number < 2**31:
        return None
    return number


def _base(base_url: str) -> str:
    return base_url.rstrip("/") + "/fhir"


def fhir_id(text: str) -> str:
    """A FHIR resource id ([A-Za-z0-9-.]{1,64}) made from our ids."""
    out = re.sub(r"[^A-Za-z0-9.-]", "-", text)[:64]
    return out or "x"


def questionnaire_url(form: FormDefinition, base_url: str) -> str:
    return f"{_base(base_url)}/Questionnaire/{fhir_id(form.id)}"


def questionnaire_canonical(form: FormDefinition, base_url: str) -> str:
    """The canonical reference with its version, as a QuestionnaireResponse cites it."""
    return f"{questionnaire_url(form, base_url)}|{form.version}"


def _choice_system(form: FormDefinition, f: Field, base_url: str) -> str:
    return f"{_base(base_url)}/CodeSystem/{fhir_id(form.id)}-{fhir_id(f.name)}"


def _translations(text: dict[str, str]) -> dict[str, Any] | None:
    """The ``_text``/``_display`` element carrying every non-English translation."""
    exts = [
        {
            "url": TRANSLATION_EXT,
            "extension": [
                {"url": "lang", "valueCode": html_lang(lang)},
                {"url": "content", "valueString": text[lang]},
            ],
        }
        for lang in LANGUAGES
        if lang != "en" and text.get(lang)
    ]
    return {"extension": exts} if exts else None


def _with_text(item: dict[str, Any], text: dict[str, str], fallback: str) -> None:
    item["text"] = text.get("en") or next(iter(text.values()), "") or fallback
    translated = _translations(text)
    if translated:
        item["_text"] = translated


def _expression_ext(url: str, expression: str) -> dict[str, Any]:
    return {
        "url": url,
        "valueExpression": {"language": EXPRESSION_LANGUAGE, "expression": expression},
    }


# --- enableWhen ---------------------------------------------------------------------------------

_OPERATORS = {"=": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_FLIPPED = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _answer_for(
    form: FormDefinition, f: Field, op: str, literal: Any, base_url: str
) -> tuple[str, Any] | None:
    if f.type == "yes_no":
        flag = values.as_bool(literal)
        return None if flag is None or op not in ("=", "!=") else ("answerBoolean", flag)
    if f.type in ("select_one", "select_multiple"):
        if op not in ("=", "!=") or literal is None or isinstance(literal, bool):
            return None
        return "answerCoding", _coding(form, f, str(literal), base_url)
    if f.type == "integer":
        number = _fhir_integer(literal)
        return None if number is None else ("answerInteger", number)
    if f.type in ("decimal", "calculate"):
        dec = values.as_decimal(literal)
        return None if dec is None else ("answerDecimal", dec)
    if f.type == "date":
        day = values.as_date(literal)
        return None if day is None else ("answerDate", day.isoformat())
    if f.type in ("text", "phone") and op in ("=", "!=") and isinstance(literal, str):
        return "answerString", literal
    return None


def _condition(
    form: FormDefinition, node: Expr, base_url: str, negate: bool = False
) -> dict[str, Any] | None:
    if isinstance(node, Unary) and node.op == "not":
        return _condition(form, node.operand, base_url, not negate)
    if isinstance(node, Call) and node.name == "selected":
        ref, lit = node.args
        if not isinstance(ref, FieldRef) or not isinstance(lit, Literal):
            return None
        f = form.fields.get(ref.name)
        if f is None or f.type not in ("select_one", "select_multiple"):
            return None
        return {
            "question": f.name,
            "operator": "!=" if negate else "=",
            "answerCoding": _coding(form, f, str(lit.value), base_url),
        }
    if not isinstance(node, Binary) or node.op not in _OPERATORS:
        return None
    op = node.op
    left, right = node.left, node.right
    if isinstance(left, Literal) and isinstance(right, FieldRef):
        left, right, op = right, left, _FLIPPED[op]
    if not isinstance(left, FieldRef) or not isinstance(right, Literal):
        return None
    f = form.fields.get(left.name)
    if f is None or f.type in ("note", "repeat"):
        return None
    if negate:
        if op not in ("=", "!="):
            return None
        op = "!=" if op == "=" else "="
    if right.value is None or right.value == "":
        if op not in ("=", "!="):
            return None
        return {"question": f.name, "operator": "exists", "answerBoolean": op == "!="}
    answer = _answer_for(form, f, op, right.value, base_url)
    if answer is None:
        return None
    return {"question": f.name, "operator": _OPERATORS[op], answer[0]: answer[1]}


def _flatten(node: Expr, op: str) -> list[Expr]:
    if isinstance(node, Binary) and node.op == op:
        return _flatten(node.left, op) + _flatten(node.right, op)
    return [node]


def enable_when(
    form: FormDefinition, relevant: str, base_url: str
) -> tuple[list[dict[str, Any]], str | None] | None:
    """``relevant`` as (enableWhen list, enableBehavior), or None when FHIR cannot say it."""
    try:
        tree = compile_expression(relevant)
    except ExpressionError:
        return None
    for op, behaviour in (("and", "all"), ("or", "any")):
        parts = _flatten(tree, op)
        if len(parts) > 1:
            conditions = [_condition(form, p, base_url) for p in parts]
            if any(c is None for c in conditions):
                return None
            return [c for c in conditions if c is not None], behaviour
    single = _condition(form, tree, base_url)
    return ([single], None) if single is not None else None


def _apply_relevance(
    item: dict[str, Any], form: FormDefinition, relevant: str | None, base_url: str
) -> None:
    if not relevant:
        return
    converted = enable_when(form, relevant, base_url)
    if converted is None:
        item.setdefault("extension", []).append(
            _expression_ext(ENABLE_WHEN_EXPRESSION_EXT, relevant)
        )
        return
    conditions, behaviour = converted
    item["enableWhen"] = conditions
    if behaviour:
        item["enableBehavior"] = behaviour


# --- Questionnaire ----------------------------------------------------------------------------


def _coding(form: FormDefinition, f: Field, code: str, base_url: str) -> dict[str, Any]:
    choice = f.choice(code)
    coding: dict[str, Any] = {"system": _choice_system(form, f, base_url), "code": code}
    if choice is not None:
        coding["display"] = choice.label.get("en") or choice.value
    return coding


def _answer_option(form: FormDefinition, f: Field, c: Choice, base_url: str) -> dict[str, Any]:
    coding = _coding(form, f, c.value, base_url)
    translated = _translations(c.label)
    if translated:
        coding["_display"] = translated
    return {"valueCoding": coding}


def _question_item(form: FormDefinition, f: Field, base_url: str) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": f.name}
    _with_text(item, f.label, f.name)
    item["type"] = ITEM_TYPES[f.type]
    _apply_relevance(item, form, f.relevant, base_url)
    if f.type == "note":
        return item
    if f.required is True:
        item["required"] = True
    if f.type == "select_multiple" or f.is_repeat:
        item["repeats"] = True
    if f.type == "calculate":
        item["readOnly"] = True
        if f.calculation:
            item.setdefault("extension", []).append(
                _expression_ext(CALCULATED_EXPRESSION_EXT, f.calculation)
            )
    if f.type in ("select_one", "select_multiple"):
        item["answerOption"] = [_answer_option(form, f, c, base_url) for c in f.choices]
    if f.is_repeat:
        item["item"] = [_question_item(form, kid, base_url) for kid in f.children]
    return item


def page_link_id(page: Page) -> str:
    return f"page-{page.name}"


def questionnaire(form: FormDefinition, *, base_url: str) -> dict[str, Any]:
    """The form as a FHIR R4 Questionnaire (JSON-ready dict)."""
    items = []
    for page in form.pages:
        group: dict[str, Any] = {"linkId": page_link_id(page)}
        _with_text(group, page.title, page.name)
        group["type"] = "group"
        _apply_relevance(group, form, page.relevant, base_url)
        group["item"] = [_question_item(form, f, base_url) for f in page.fields]
        items.append(group)
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": fhir_id(form.id),
        "meta": {"profile": ["http://hl7.org/fhir/StructureDefinition/Questionnaire"]},
        "language": "en",
        "url": questionnaire_url(form, base_url),
        "version": form.version,
        "name": _computable_name(form.id),
        "status": "active",
        "subjectType": ["Patient"],
    }
    _with_text(resource, form.title, form.id)
    resource["title"] = resource.pop("text")
    if "_text" in resource:
        resource["_title"] = resource.pop("_text")
    if form.description.get("en"):
        resource["description"] = form.description["en"]
    resource["item"] = items
    return resource


def _computable_name(form_id: str) -> str:
    name = "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", form_id) if part)
    if not name or not name[0].isalpha():
        name = "Form" + name
    return name[:255]


# --- QuestionnaireResponse -----------------------------------------------------------------------


def _answers_for(form: FormDefinition, f: Field, value: Any, base_url: str) -> list[dict[str, Any]]:
    if values.is_blank(value):
        return []
    if f.type in ("text", "phone"):
        return [{"valueString": str(value)}]
    if f.type == "integer":
        number = _fhir_integer(value)
        return [] if number is None else [{"valueInteger": number}]
    if f.type in ("decimal", "calculate"):
        dec = values.as_decimal(value)
        return [] if dec is None else [{"valueDecimal": dec}]
    if f.type == "date":
        day = values.as_date(value)
        return [] if day is None else [{"valueDate": day.isoformat()}]
    if f.type == "yes_no":
        flag = values.as_bool(value)
        return [] if flag is None else [{"valueBoolean": flag}]
    if f.type == "select_one":
        return [{"valueCoding": _coding(form, f, str(value), base_url)}]
    if f.type == "select_multiple":
        return [{"valueCoding": _coding(form, f, v, base_url)} for v in values.as_list(value)]
    return []


def _field_items(
    form: FormDefinition, fields: list[Field], env: Any, base_url: str
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for f in fields:
        if f.type == "note" or not values.is_relevant(f.relevant, env):
            continue
        if f.is_repeat:
            for row in values.rows(env.get(f.name)):
                kids = _field_items(form, f.children, scope(env, row), base_url)
                if kids:
                    items.append(
                        {"linkId": f.name, "text": f.label_text("en") or f.name, "item": kids}
                    )
            continue
        answers = _answers_for(form, f, env.get(f.name), base_url)
        if answers:
            items.append(
                {"linkId": f.name, "text": f.label_text("en") or f.name, "answer": answers}
            )
    return items


def _fhir_datetime(ts: datetime) -> str:
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def questionnaire_response(
    submission: FormSubmission, form: FormDefinition, *, base_url: str
) -> dict[str, Any]:
    """One submission as a FHIR R4 QuestionnaireResponse (JSON-ready dict)."""
    env = values.with_calculations(form, values.load_answers(submission))
    items = []
    for page in form.pages:
        if not values.is_relevant(page.relevant, env):
            continue
        kids = _field_items(form, page.fields, env, base_url)
        if kids:
            items.append(
                {
                    "linkId": page_link_id(page),
                    "text": page.title_text("en") or page.name,
                    "item": kids,
                }
            )
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": fhir_id(submission.instance_id),
        "meta": {"profile": ["http://hl7.org/fhir/StructureDefinition/QuestionnaireResponse"]},
        "language": html_lang(submission.lang),
        "identifier": {
            "system": "urn:ietf:rfc:3986",
            "value": f"urn:uuid:{submission.instance_id}",
        },
        "questionnaire": questionnaire_canonical(form, base_url),
        "status": "completed",
        "authored": _fhir_datetime(submission.created_at),
    }
    if items:  # FHIR JSON has no empty arrays
        resource["item"] = items
    if form.version != submission.form_version:
        resource["questionnaire"] = f"{questionnaire_url(form, base_url)}|{submission.form_version}"
    return resource


def ndjson(resources: Iterable[dict[str, Any]]) -> bytes:
    """Resources as FHIR Bulk Data NDJSON: each one compact JSON object on its own line (UTF-8,
    every line ended by a newline, no blank lines)."""
    return b"".join(
        json.dumps(r, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
        for r in resources
    )


__all__ = [
    "FHIR_VERSION",
    "NDJSON_MEDIA_TYPE",
    "enable_when",
    "fhir_id",
    "ndjson",
    "page_link_id",
    "questionnaire",
    "questionnaire_canonical",
    "questionnaire_response",
    "questionnaire_url",
]
