"""Checks of our FHIR output made by fhir.resources (its pydantic models of the FHIR spec).

Our resources say FHIR R4 (4.0.1). fhir.resources ships no R4 models that work with pydantic 2;
its R4B (4.3.0) models are used, whose Questionnaire and QuestionnaireResponse have the same
elements, types, cardinalities and value[x] choices as R4's.

A resource passes when:
- its model parses it: the resourceType, required elements, primitive formats (id, code, date,
  dateTime, non-empty strings, 32-bit integers), one value[x] at most, no unknown elements;
- every coded element holds one of the codes the package lists for it (where that list is whole:
  lists ending in "+" or "etc." are cut short in the package, and are not used);
- the model writes back exactly the JSON it read: nothing coerced (such as "3" for 3), nothing
  dropped.

fhir.resources reads one resource at a time; that a response and its Questionnaire agree (the
cited url, linkIds and their nesting) is checked here as our two outputs agreeing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from pydantic import ValidationError


def fhir_problems(resource: Any, resource_type: str) -> list[str]:
    """What fhir.resources finds wrong with ``resource`` as a ``resource_type``; [] if nothing."""
    model = get_fhir_model_class(resource_type)
    try:
        parsed = model.model_validate(resource)
    except ValidationError as error:
        return [f"{_path(resource_type, e['loc'])}: {e['msg']}" for e in error.errors()]
    problems = list(_codes_not_allowed(parsed, resource_type))
    written = json.loads(parsed.model_dump_json())
    problems += [
        f"{path}: read as {theirs}, not {ours}"
        for path, ours, theirs in _differences(resource, written, resource_type)
    ]
    return problems


def questionnaire_problems(resource: Any) -> list[str]:
    return fhir_problems(resource, "Questionnaire")


def response_problems(resource: Any, questionnaire: dict[str, Any] | None = None) -> list[str]:
    """fhir.resources' findings; with the Questionnaire, also where the two disagree."""
    problems = fhir_problems(resource, "QuestionnaireResponse")
    if questionnaire is not None and not problems:
        problems += _disagreements(resource, questionnaire)
    return problems


def _path(resource_type: str, loc: tuple[int | str, ...]) -> str:
    return resource_type + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)


def _codes_not_allowed(model: FHIRAbstractModel, path: str) -> Iterator[str]:
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if value is None:
            continue
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        allowed = extra.get("enum_values")
        whole = isinstance(allowed, list) and not {"+", "etc."} & set(allowed)
        where = f"{path}.{field.alias or name}"
        many = isinstance(value, list)
        for i, item in enumerate(value if many else [value]):
            here = f"{where}[{i}]" if many else where
            if whole and isinstance(allowed, list) and item not in allowed:
                yield f"{here}: {item!r} is not one of {allowed}"
            if isinstance(item, FHIRAbstractModel):
                yield from _codes_not_allowed(item, here)


def _differences(ours: Any, theirs: Any, path: str) -> Iterator[tuple[str, str, str]]:
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key in sorted(ours.keys() | theirs.keys()):
            yield from _differences(ours.get(key), theirs.get(key), f"{path}.{key}")
    elif isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            yield from _differences(a, b, f"{path}[{i}]")
    elif json.dumps(ours) != json.dumps(theirs):
        yield path, json.dumps(ours), json.dumps(theirs)


def _disagreements(response: dict[str, Any], questionnaire: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    cited = str(response.get("questionnaire", "")).split("|")[0]
    if cited != questionnaire.get("url"):
        problems.append(f"QuestionnaireResponse.questionnaire: {cited!r} does not cite the form")
    parents: dict[str, str | None] = {}

    def index(items: list[dict[str, Any]], parent: str | None) -> None:
        for item in items:
            parents[item["linkId"]] = parent
            index(item.get("item", []), item["linkId"])

    def walk(items: list[dict[str, Any]], parent: str | None) -> None:
        for item in items:
            link_id = item["linkId"]
            if link_id not in parents:
                problems.append(f"{link_id!r} is not in the Questionnaire")
            elif parents[link_id] != parent:
                problems.append(f"{link_id!r} is not nested as in the Questionnaire")
            walk(item.get("item", []), link_id)
            for answer in item.get("answer", []):
                walk(answer.get("item", []), link_id)

    index(questionnaire.get("item", []), None)
    walk(response.get("item", []), None)
    return problems
