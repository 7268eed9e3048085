"""A small validator for the parts of FHIR R4 Questionnaire and QuestionnaireResponse we emit.

It checks required elements and cardinalities, value types, and the invariants that apply
(que-0..que-12 as far as we use them, qrs-1, qrs-2, ext-1), and a response against its
Questionnaire (known linkIds, nesting, answer types, repeats, answer options). Each problem
is one string ``"<path>: <message>"``; an empty list means valid.
"""

from __future__ import annotations

import re
from typing import Any

ID_RE = re.compile(r"[A-Za-z0-9\-.]{1,64}")
NAME_RE = re.compile(r"[A-Z]([A-Za-z0-9_]){0,254}")
DATE_RE = re.compile(r"([0-9]{4})(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?")
DATETIME_RE = re.compile(
    r"([0-9]{4})(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01])"
    r"(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)"
    r"((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?"
)
URI_RE = re.compile(r"\S+")
CODE_RE = re.compile(r"[^\s]+( [^\s]+)*")

Q_STATUS = {"draft", "active", "retired", "unknown"}
QR_STATUS = {"in-progress", "completed", "amended", "entered-in-error", "stopped"}
ITEM_TYPES = {
    "group",
    "display",
    "boolean",
    "decimal",
    "integer",
    "date",
    "dateTime",
    "time",
    "string",
    "text",
    "url",
    "choice",
    "open-choice",
    "attachment",
    "reference",
    "quantity",
}
OPERATORS = {"exists", "=", "!=", ">", "<", ">=", "<="}
ENABLE_ANSWER_KEYS = {
    "answerBoolean",
    "answerDecimal",
    "answerInteger",
    "answerDate",
    "answerDateTime",
    "answerTime",
    "answerString",
    "answerCoding",
    "answerQuantity",
    "answerReference",
}
OPTION_KEYS = {"valueInteger", "valueDate", "valueTime", "valueString", "valueCoding"}
ANSWER_KEYS = {
    "valueBoolean",
    "valueDecimal",
    "valueInteger",
    "valueDate",
    "valueDateTime",
    "valueTime",
    "valueString",
    "valueUri",
    "valueAttachment",
    "valueCoding",
    "valueQuantity",
    "valueReference",
}
# Which answer value an item type takes.
ANSWER_FOR_TYPE = {
    "boolean": {"valueBoolean"},
    "decimal": {"valueDecimal"},
    "integer": {"valueInteger"},
    "date": {"valueDate"},
    "dateTime": {"valueDateTime"},
    "time": {"valueTime"},
    "string": {"valueString"},
    "text": {"valueString"},
    "url": {"valueUri"},
    "choice": {"valueCoding"},
    "open-choice": {"valueCoding", "valueString"},
    "attachment": {"valueAttachment"},
    "reference": {"valueReference"},
    "quantity": {"valueQuantity"},
}


class _Report:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")


def _is_string(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _check_primitive(rep: _Report, path: str, key: str, value: Any) -> None:
    """A value[x]/answer[x] element of the type its name says."""
    kind = key.removeprefix("value").removeprefix("answer")
    if kind == "Boolean":
        ok = isinstance(value, bool)
    elif kind == "Integer":
        ok = isinstance(value, int) and not isinstance(value, bool) and -(2**31) <= value < 2**31
    elif kind == "Decimal":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif kind == "Date":
        ok = isinstance(value, str) and DATE_RE.fullmatch(value) is not None
    elif kind == "DateTime":
        ok = isinstance(value, str) and DATETIME_RE.fullmatch(value) is not None
    elif kind in ("String", "Uri", "Time"):
        ok = _is_string(value)
    elif kind == "Coding":
        ok = isinstance(value, dict) and _check_coding(rep, f"{path}.{key}", value)
        return
    else:
        ok = isinstance(value, dict)
    if not ok:
        rep.add(f"{path}.{key}", f"not a valid {kind[:1].lower() + kind[1:]}")


def _check_coding(rep: _Report, path: str, coding: dict[str, Any]) -> bool:
    ok = True
    for key in ("system", "code", "display", "version"):
        if key in coding and not _is_string(coding[key]):
            rep.add(f"{path}.{key}", "must be a non-empty string")
            ok = False
    if "code" in coding and not CODE_RE.fullmatch(str(coding["code"])):
        rep.add(f"{path}.code", "not a valid code")
        ok = False
    if "code" not in coding and "display" not in coding:
        rep.add(path, "a Coding needs a code or a display")
        ok = False
    return ok


def _check_extensions(rep: _Report, path: str, element: dict[str, Any]) -> None:
    for key in ("extension", "modifierExtension"):
        if key not in element:
            continue
        exts = element[key]
        if not isinstance(exts, list) or not exts:
            rep.add(f"{path}.{key}", "must be a non-empty array")
            continue
        for i, ext in enumerate(exts):
            epath = f"{path}.{key}[{i}]"
            if not isinstance(ext, dict) or not _is_string(ext.get("url")):
                rep.add(epath, "an extension needs a url (1..1)")
                continue
            value_keys = [k for k in ext if k.startswith("value")]
            nested = "extension" in ext
            if len(value_keys) > 1 or (value_keys and nested) or not (value_keys or nested):
                rep.add(epath, "ext-1: an extension has either nested extensions or one value[x]")
            if nested:
                _check_extensions(rep, epath, ext)
            for vk in value_keys:
                if vk == "valueExpression":
                    expr = ext[vk]
                    if not isinstance(expr, dict) or not _is_string(expr.get("language")):
                        rep.add(f"{epath}.valueExpression", "language is required (1..1)")
                    elif "expression" in expr and not _is_string(expr["expression"]):
                        rep.add(f"{epath}.valueExpression.expression", "must be a string")
                elif vk == "valueCode":
                    if not isinstance(ext[vk], str) or not CODE_RE.fullmatch(ext[vk]):
                        rep.add(f"{epath}.valueCode", "not a valid code")
                else:
                    _check_primitive(rep, epath, vk, ext[vk])
    for key, value in element.items():
        if key.startswith("_") and isinstance(value, dict):
            _check_extensions(rep, f"{path}.{key}", value)


def _check_resource_basics(rep: _Report, res: Any, resource_type: str) -> bool:
    if not isinstance(res, dict):
        rep.add(resource_type, "must be a JSON object")
        return False
    if res.get("resourceType") != resource_type:
        rep.add(resource_type, f"resourceType must be {resource_type!r}")
        return False
    if "id" in res and (not isinstance(res["id"], str) or not ID_RE.fullmatch(res["id"])):
        rep.add(f"{resource_type}.id", "not a valid id")
    _check_extensions(rep, resource_type, res)
    return True


# --- Questionnaire ----------------------------------------------------------------------------


def validate_questionnaire(res: Any) -> list[str]:
    rep = _Report()
    if not _check_resource_basics(rep, res, "Questionnaire"):
        return rep.problems
    status = res.get("status")
    if status is None:
        rep.add("Questionnaire.status", "is required (1..1)")
    elif status not in Q_STATUS:
        rep.add("Questionnaire.status", f"{status!r} is not one of {sorted(Q_STATUS)}")
    for key in ("url", "version", "title", "description"):
        if key in res and not _is_string(res[key]):
            rep.add(f"Questionnaire.{key}", "must be a non-empty string")
    if "name" in res and (not isinstance(res["name"], str) or not NAME_RE.fullmatch(res["name"])):
        rep.add("Questionnaire.name", "que-0: name must be computer-friendly")
    if "subjectType" in res and (
        not isinstance(res["subjectType"], list)
        or not all(isinstance(s, str) and CODE_RE.fullmatch(s) for s in res["subjectType"])
    ):
        rep.add("Questionnaire.subjectType", "must be an array of codes")
    items = res.get("item", [])
    link_ids: dict[str, dict[str, Any]] = {}
    if not isinstance(items, list):
        rep.add("Questionnaire.item", "must be an array")
        return rep.problems
    for i, item in enumerate(items):
        _check_q_item(rep, f"Questionnaire.item[{i}]", item, link_ids)
    # enableWhen.question must name an item of this Questionnaire
    for path, question in _enable_when_questions(items, "Questionnaire"):
        if question not in link_ids:
            rep.add(path, f"enableWhen.question {question!r} is not an item's linkId")
        elif link_ids[question].get("type") in ("group", "display"):
            rep.add(path, f"enableWhen.question {question!r} is not a question")
    return rep.problems


def _enable_when_questions(items: list[Any], path: str) -> list[tuple[str, str]]:
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        ipath = f"{path}.item[{i}]"
        for j, cond in enumerate(item.get("enableWhen") or []):
            if isinstance(cond, dict) and isinstance(cond.get("question"), str):
                out.append((f"{ipath}.enableWhen[{j}]", cond["question"]))
        out.extend(_enable_when_questions(item.get("item") or [], ipath))
    return out


def _check_q_item(rep: _Report, path: str, item: Any, link_ids: dict[str, dict[str, Any]]) -> None:
    if not isinstance(item, dict):
        rep.add(path, "an item must be an object")
        return
    _check_extensions(rep, path, item)
    link_id = item.get("linkId")
    if not _is_string(link_id) or len(str(link_id)) > 255:
        rep.add(f"{path}.linkId", "is required (1..1), a string of at most 255 characters")
    elif link_id in link_ids:
        rep.add(f"{path}.linkId", f"que-2: linkId {link_id!r} is not unique")
    else:
        link_ids[str(link_id)] = item
    item_type = item.get("type")
    if item_type is None:
        rep.add(f"{path}.type", "is required (1..1)")
    elif item_type not in ITEM_TYPES:
        rep.add(f"{path}.type", f"{item_type!r} is not a Questionnaire item type")
    if "text" in item and not _is_string(item["text"]):
        rep.add(f"{path}.text", "must be a non-empty string")
    for key in ("required", "repeats", "readOnly"):
        if key in item and not isinstance(item[key], bool):
            rep.add(f"{path}.{key}", "must be a boolean")
    children = item.get("item")
    if children is not None and (not isinstance(children, list) or not children):
        rep.add(f"{path}.item", "must be a non-empty array when present")
        children = None
    if item_type == "group" and not children:
        rep.add(path, "que-1: a group item must have nested items")
    if item_type == "display":
        if children:
            rep.add(path, "que-1: a display item cannot have nested items")
        if "code" in item:
            rep.add(path, "que-3: a display item cannot have a code")
        if "required" in item or "repeats" in item:
            rep.add(path, "que-6: required and repeats are not permitted for display items")
        if "readOnly" in item:
            rep.add(path, "que-9: readOnly is not permitted for display items")
    options = item.get("answerOption")
    if options is not None and "answerValueSet" in item:
        rep.add(path, "que-4: answerOption and answerValueSet cannot both be present")
    if (options is not None or "answerValueSet" in item) and item_type not in (
        "choice",
        "open-choice",
    ):
        rep.add(path, "que-5: only choice and open-choice items can have answer options")
    if options is not None:
        if not isinstance(options, list) or not options:
            rep.add(f"{path}.answerOption", "must be a non-empty array")
        else:
            for j, option in enumerate(options):
                opath = f"{path}.answerOption[{j}]"
                keys = (
                    [k for k in option if k.startswith("value")] if isinstance(option, dict) else []
                )
                if len(keys) != 1 or keys[0] not in OPTION_KEYS:
                    rep.add(opath, "value[x] is required (1..1): Integer|Date|Time|String|Coding")
                    continue
                _check_primitive(rep, opath, keys[0], option[keys[0]])
                _check_extensions(rep, opath, option)
            if any(k.startswith("initial") for k in item):
                rep.add(path, "que-11: initial values are not allowed with answerOption")
    conditions = item.get("enableWhen")
    if conditions is not None:
        if not isinstance(conditions, list) or not conditions:
            rep.add(f"{path}.enableWhen", "must be a non-empty array")
        else:
            for j, cond in enumerate(conditions):
                _check_enable_when(rep, f"{path}.enableWhen[{j}]", cond)
            if len(conditions) > 1 and item.get("enableBehavior") not in ("all", "any"):
                rep.add(path, "que-12: enableBehavior (all|any) is required with 2+ enableWhen")
    if "enableBehavior" in item and item["enableBehavior"] not in ("all", "any"):
        rep.add(f"{path}.enableBehavior", "must be 'all' or 'any'")
    for j, child in enumerate(children or []):
        _check_q_item(rep, f"{path}.item[{j}]", child, link_ids)


def _check_enable_when(rep: _Report, path: str, cond: Any) -> None:
    if not isinstance(cond, dict):
        rep.add(path, "must be an object")
        return
    if not _is_string(cond.get("question")):
        rep.add(f"{path}.question", "is required (1..1)")
    operator = cond.get("operator")
    if operator not in OPERATORS:
        rep.add(f"{path}.operator", f"is required (1..1), one of {sorted(OPERATORS)}")
    answers = [k for k in cond if k.startswith("answer")]
    if len(answers) != 1 or answers[0] not in ENABLE_ANSWER_KEYS:
        rep.add(path, "answer[x] is required (1..1)")
        return
    if operator == "exists" and answers[0] != "answerBoolean":
        rep.add(path, "que-7: operator 'exists' needs answerBoolean")
    _check_primitive(rep, path, answers[0], cond[answers[0]])


# --- QuestionnaireResponse ----------------------------------------------------------------------


def _q_index(
    items: list[Any], parent: str | None, out: dict[str, tuple[dict[str, Any], Any]]
) -> None:
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("linkId"), str):
            out[item["linkId"]] = (item, parent)
            _q_index(item.get("item") or [], item["linkId"], out)


def validate_questionnaire_response(res: Any, questionnaire: Any = None) -> list[str]:
    """Check a QuestionnaireResponse; with its Questionnaire, check it matches that too."""
    rep = _Report()
    if not _check_resource_basics(rep, res, "QuestionnaireResponse"):
        return rep.problems
    status = res.get("status")
    if status is None:
        rep.add("QuestionnaireResponse.status", "is required (1..1)")
    elif status not in QR_STATUS:
        rep.add("QuestionnaireResponse.status", f"{status!r} is not one of {sorted(QR_STATUS)}")
    if "questionnaire" in res and not (
        isinstance(res["questionnaire"], str) and URI_RE.fullmatch(res["questionnaire"])
    ):
        rep.add("QuestionnaireResponse.questionnaire", "must be a canonical URL")
    if "authored" in res and not (
        isinstance(res["authored"], str) and DATETIME_RE.fullmatch(res["authored"])
    ):
        rep.add("QuestionnaireResponse.authored", "not a valid dateTime")
    identifier = res.get("identifier")
    if identifier is not None and (
        not isinstance(identifier, dict)
        or any(k in identifier and not _is_string(identifier[k]) for k in ("system", "value"))
    ):
        rep.add("QuestionnaireResponse.identifier", "must be one Identifier (0..1)")
    index: dict[str, tuple[dict[str, Any], Any]] | None = None
    if questionnaire is not None:
        index = {}
        _q_index(questionnaire.get("item") or [], None, index)
        url = questionnaire.get("url")
        cited = str(res.get("questionnaire", "")).split("|")[0]
        if url and cited != url:
            rep.add("QuestionnaireResponse.questionnaire", f"does not cite {url}")
    items = res.get("item", [])
    if not isinstance(items, list):
        rep.add("QuestionnaireResponse.item", "must be an array")
        return rep.problems
    _check_qr_items(rep, "QuestionnaireResponse", items, index, None)
    return rep.problems


def _check_qr_items(
    rep: _Report,
    path: str,
    items: list[Any],
    index: dict[str, tuple[dict[str, Any], Any]] | None,
    parent: str | None,
) -> None:
    seen_answered: set[str] = set()
    seen_groups: set[str] = set()
    for i, item in enumerate(items):
        ipath = f"{path}.item[{i}]"
        if not isinstance(item, dict):
            rep.add(ipath, "an item must be an object")
            continue
        _check_extensions(rep, ipath, item)
        raw_link_id = item.get("linkId")
        if not isinstance(raw_link_id, str) or not _is_string(raw_link_id):
            rep.add(f"{ipath}.linkId", "is required (1..1)")
            continue
        link_id: str = raw_link_id
        if "text" in item and not _is_string(item["text"]):
            rep.add(f"{ipath}.text", "must be a non-empty string")
        answers = item.get("answer")
        children = item.get("item")
        if answers is not None and (not isinstance(answers, list) or not answers):
            rep.add(f"{ipath}.answer", "must be a non-empty array when present")
            answers = None
        if children is not None and (not isinstance(children, list) or not children):
            rep.add(f"{ipath}.item", "must be a non-empty array when present")
            children = None
        if answers and children:
            rep.add(ipath, "qrs-1: nested items cannot be beneath both item and answer")
        if answers:
            if link_id in seen_answered:
                rep.add(ipath, f"qrs-2: answers to {link_id!r} must be combined in one item")
            seen_answered.add(link_id)
        q_item: dict[str, Any] | None = None
        if index is not None:
            entry = index.get(link_id)
            if entry is None:
                rep.add(f"{ipath}.linkId", f"{link_id!r} is not in the Questionnaire")
            else:
                q_item, q_parent = entry
                if q_parent != parent:
                    rep.add(ipath, f"{link_id!r} is not nested as in the Questionnaire")
                if q_item.get("type") == "group":
                    if answers:
                        rep.add(ipath, "a group item cannot have answers")
                    if not q_item.get("repeats"):
                        if link_id in seen_groups:
                            rep.add(ipath, f"group {link_id!r} does not repeat")
                        seen_groups.add(link_id)
                if answers and len(answers) > 1 and not q_item.get("repeats"):
                    rep.add(ipath, f"{link_id!r} does not repeat: only one answer allowed")
        for j, answer in enumerate(answers or []):
            apath = f"{ipath}.answer[{j}]"
            if not isinstance(answer, dict):
                rep.add(apath, "must be an object")
                continue
            keys = [k for k in answer if k.startswith("value")]
            if len(keys) > 1 or (keys and keys[0] not in ANSWER_KEYS):
                rep.add(apath, "value[x] is 0..1 of the answer types")
                continue
            if not keys:
                if "item" not in answer:
                    rep.add(apath, "an answer needs a value")
                continue
            _check_primitive(rep, apath, keys[0], answer[keys[0]])
            if q_item is not None:
                allowed = ANSWER_FOR_TYPE.get(str(q_item.get("type")), set())
                if keys[0] not in allowed:
                    rep.add(apath, f"{keys[0]} does not fit an item of type {q_item.get('type')}")
                elif keys[0] == "valueCoding" and q_item.get("answerOption"):
                    codes = {
                        (o["valueCoding"].get("system"), o["valueCoding"].get("code"))
                        for o in q_item["answerOption"]
                        if "valueCoding" in o
                    }
                    coding = answer["valueCoding"]
                    if (coding.get("system"), coding.get("code")) not in codes:
                        rep.add(apath, f"code {coding.get('code')!r} is not an answer option")
        if children:
            _check_qr_items(rep, ipath, children, index, link_id)
