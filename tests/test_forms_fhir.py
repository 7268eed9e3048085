"""FHIR R4 output: a Questionnaire per form definition, a QuestionnaireResponse per submission."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from assistant.forms.engine.definition import FormDefinition, load_form, load_path
from assistant.forms.interop.fhir import (
    CALCULATED_EXPRESSION_EXT,
    ENABLE_WHEN_EXPRESSION_EXT,
    TRANSLATION_EXT,
    enable_when,
    ndjson,
    questionnaire,
    questionnaire_canonical,
    questionnaire_response,
)
from assistant.forms.models import FormSubmission
from tests.fhir_oracle import questionnaire_problems, response_problems

BASE = "https://pho.example.nz"

SMALL_FORM = """
id: small_form
version: "3"
title: {en: Small form, sm: Pepa laiti}
strings:
  other: {en: Other}
choice_lists:
  colours:
    - value: red
      label: {en: Red, mi: Whero}
    - value: blue
      label: {en: Blue}
pages:
  - name: first
    title: {en: First page}
    fields:
      - {name: intro, type: note, label: {en: Read this first}}
      - {name: name, type: text, required: true, label: {en: Name, ar: الاسم}}
      - {name: mobile, type: phone, label: {en: Mobile}}
      - {name: kids, type: integer, label: {en: Children}}
      - {name: rent, type: decimal, label: {en: Weekly rent}}
      - {name: born, type: date, label: {en: Born}}
      - {name: colour, type: select_one, choices: colours, other: true, label: {en: Colour}}
      - {name: colours, type: select_multiple, choices: colours, label: {en: Colours}}
      - {name: agree, type: yes_no, label: {en: "Agree?"}}
      - name: why_not
        type: text
        relevant: "${agree} = 'no'"
        label: {en: "Why not?"}
      - name: big_family
        type: note
        relevant: "${kids} >= 3 and selected(${colours}, 'red')"
        label: {en: Big family}
      - name: tricky
        type: text
        relevant: "${kids} + 1 > 2"
        label: {en: Tricky}
  - name: second
    title: {en: Household}
    relevant: "${agree} = 'yes'"
    fields:
      - name: people
        type: repeat
        label: {en: People}
        fields:
          - {name: person_age, type: integer, label: {en: Age}}
          - {name: person_colour, type: select_one, choices: colours, label: {en: Colour}}
      - {name: total_age, type: calculate, calculation: "sum(${person_age})"}
"""


@pytest.fixture
def small(tmp_path: Path) -> FormDefinition:
    path = tmp_path / "small_form.yaml"
    path.write_text(SMALL_FORM, encoding="utf-8")
    return load_path(path)


def submission(answers: dict[str, Any], **kw: Any) -> FormSubmission:
    fields: dict[str, Any] = {
        "instance_id": "7d3c1f0e-5b2a-4c1d-9e8f-0a1b2c3d4e5f",
        "form_id": "small_form",
        "form_version": "3",
        "lang": "sm",
        "answers": json.dumps(answers),
        "content_hash": "0" * 64,
        "submitted_by_id": 1,
        "consent": True,
        "created_at": datetime(2026, 11, 20, 21, 30, tzinfo=UTC),
    }
    return FormSubmission(**(fields | kw))


def items_by_link(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        out.setdefault(item["linkId"], item)
        out.update({k: v for k, v in items_by_link(item.get("item", [])).items() if k not in out})
    return out


# --- Questionnaire ----------------------------------------------------------------------------


@pytest.mark.parametrize("form_id", ["barrier_assessment", "flag_problem"])
def test_shipped_forms_make_valid_questionnaires(form_id: str) -> None:
    form = load_form(form_id)
    resource = questionnaire(form, base_url=BASE)
    assert questionnaire_problems(resource) == []
    assert resource["resourceType"] == "Questionnaire"
    assert resource["status"] == "active"
    assert resource["version"] == form.version
    # every field of the form is an item, once
    link_ids = set(items_by_link(resource["item"]))
    assert set(form.fields) <= link_ids
    json.dumps(resource)  # serialisable as is


def test_questionnaire_header(small: FormDefinition) -> None:
    q = questionnaire(small, base_url=BASE)
    assert q["url"] == f"{BASE}/fhir/Questionnaire/small-form"
    assert q["id"] == "small-form"
    assert q["name"] == "SmallForm"
    assert q["title"] == "Small form"
    assert q["_title"]["extension"][0]["extension"][1] == {
        "url": "content",
        "valueString": "Pepa laiti",
    }


@pytest.mark.parametrize(
    ("link_id", "item_type", "extra"),
    [
        ("page-first", "group", {}),
        ("intro", "display", {}),
        ("name", "string", {"required": True}),
        ("mobile", "string", {}),
        ("kids", "integer", {}),
        ("rent", "decimal", {}),
        ("born", "date", {}),
        ("colour", "choice", {}),
        ("colour_other", "string", {"required": True}),
        ("colours", "choice", {"repeats": True}),
        ("agree", "boolean", {}),
        ("people", "group", {"repeats": True}),
        ("person_age", "integer", {}),
        ("total_age", "decimal", {"readOnly": True}),
    ],
)
def test_item_type_mapping(
    small: FormDefinition, link_id: str, item_type: str, extra: dict[str, Any]
) -> None:
    item = items_by_link(questionnaire(small, base_url=BASE)["item"])[link_id]
    assert item["type"] == item_type
    for key, value in extra.items():
        assert item[key] == value
    if item_type not in ("choice",):
        assert "answerOption" not in item


def test_choices_become_answer_options_with_translations(small: FormDefinition) -> None:
    item = items_by_link(questionnaire(small, base_url=BASE)["item"])["colour"]
    codes = [o["valueCoding"]["code"] for o in item["answerOption"]]
    assert codes == ["red", "blue", "other"]
    red = item["answerOption"][0]["valueCoding"]
    assert red["display"] == "Red"
    assert red["system"] == f"{BASE}/fhir/CodeSystem/small-form-colour"
    translation = red["_display"]["extension"][0]
    assert translation["url"] == TRANSLATION_EXT
    assert {"url": "lang", "valueCode": "mi"} in translation["extension"]


def test_repeat_children_are_nested_in_the_repeating_group(small: FormDefinition) -> None:
    people = items_by_link(questionnaire(small, base_url=BASE)["item"])["people"]
    assert [i["linkId"] for i in people["item"]] == ["person_age", "person_colour"]


def test_calculation_is_kept_as_an_extension(small: FormDefinition) -> None:
    item = items_by_link(questionnaire(small, base_url=BASE)["item"])["total_age"]
    assert item["extension"] == [
        {
            "url": CALCULATED_EXPRESSION_EXT,
            "valueExpression": {
                "language": "text/x-form-expression",
                "expression": "sum(${person_age})",
            },
        }
    ]


def test_skip_logic_becomes_enable_when(small: FormDefinition) -> None:
    items = items_by_link(questionnaire(small, base_url=BASE)["item"])
    assert items["why_not"]["enableWhen"] == [
        {"question": "agree", "operator": "=", "answerBoolean": False}
    ]
    assert items["page-second"]["enableWhen"] == [
        {"question": "agree", "operator": "=", "answerBoolean": True}
    ]
    big = items["big_family"]
    assert big["enableBehavior"] == "all"
    assert big["enableWhen"][0] == {"question": "kids", "operator": ">=", "answerInteger": 3}
    assert big["enableWhen"][1]["answerCoding"]["code"] == "red"
    assert items["colour_other"]["enableWhen"][0]["answerCoding"]["code"] == "other"


def test_inexpressible_skip_logic_is_kept_as_an_expression(small: FormDefinition) -> None:
    item = items_by_link(questionnaire(small, base_url=BASE)["item"])["tricky"]
    assert "enableWhen" not in item
    assert item["extension"][0]["url"] == ENABLE_WHEN_EXPRESSION_EXT
    assert item["extension"][0]["valueExpression"]["expression"] == "${kids} + 1 > 2"


@pytest.mark.parametrize(
    ("relevant", "expected"),
    [
        (
            "${agree} = 'yes'",
            ([{"question": "agree", "operator": "=", "answerBoolean": True}], None),
        ),
        (
            "${agree} != 'no'",
            ([{"question": "agree", "operator": "!=", "answerBoolean": False}], None),
        ),
        ("${kids} > 2", ([{"question": "kids", "operator": ">", "answerInteger": 2}], None)),
        ("2 < ${kids}", ([{"question": "kids", "operator": ">", "answerInteger": 2}], None)),
        (
            "${rent} <= 350.5",
            ([{"question": "rent", "operator": "<=", "answerDecimal": 350.5}], None),
        ),
        (
            "${born} < '2000-01-01'",
            ([{"question": "born", "operator": "<", "answerDate": "2000-01-01"}], None),
        ),
        (
            "${name} != ''",
            ([{"question": "name", "operator": "exists", "answerBoolean": True}], None),
        ),
        (
            "${name} = ''",
            ([{"question": "name", "operator": "exists", "answerBoolean": False}], None),
        ),
        ("${name} = 'Ana'", ([{"question": "name", "operator": "=", "answerString": "Ana"}], None)),
        ("not(${kids} = 1)", ([{"question": "kids", "operator": "!=", "answerInteger": 1}], None)),
        (
            "${kids} = 1 or ${kids} = 2",
            (
                [
                    {"question": "kids", "operator": "=", "answerInteger": 1},
                    {"question": "kids", "operator": "=", "answerInteger": 2},
                ],
                "any",
            ),
        ),
        ("${name} > 'b'", None),
        ("${kids} = 1 and (${kids} = 2 or ${agree} = 'yes')", None),
        ("count(${people}) > 1", None),
        ("${kids} = ${rent}", None),
        ("${unknown_field} = 1", None),
        ("${agree} = 'maybe'", None),
        (
            "not(not(${kids} < 3))",
            ([{"question": "kids", "operator": "<", "answerInteger": 3}], None),
        ),
        ("not(${kids} < 3)", None),
    ],
)
def test_enable_when_conversion(small: FormDefinition, relevant: str, expected: Any) -> None:
    got = enable_when(small, relevant, BASE)
    if expected is None:
        assert got is None
        return
    assert got is not None
    conditions, behaviour = got
    stripped = [{k: v for k, v in c.items() if k != "answerCoding"} for c in conditions]
    assert (stripped, behaviour) == expected


def test_selected_is_an_equals_on_the_coding(small: FormDefinition) -> None:
    got = enable_when(small, "not(selected(${colours}, 'blue'))", BASE)
    assert got is not None
    assert got[0][0]["operator"] == "!="
    assert got[0][0]["answerCoding"]["code"] == "blue"


# --- QuestionnaireResponse --------------------------------------------------------------------

FULL_ANSWERS: dict[str, Any] = {
    "name": "Mele Taufa",
    "mobile": "+64211234567",
    "kids": "3",
    "rent": 350.5,
    "born": "1988-02-14",
    "colour": "other",
    "colour_other": "Green",
    "colours": ["red", "blue"],
    "agree": "yes",
    "why_not": "left over from an earlier answer",
    "people": [
        {"person_age": 40, "person_colour": "red"},
        {"person_age": "7", "person_colour": None},
        {},
    ],
}


def test_response_has_required_elements_and_validates(small: FormDefinition) -> None:
    sub = submission(FULL_ANSWERS)
    q = questionnaire(small, base_url=BASE)
    qr = questionnaire_response(sub, small, base_url=BASE)
    assert questionnaire_problems(q) == []
    assert response_problems(qr) == []
    assert response_problems(qr, q) == []
    assert qr["resourceType"] == "QuestionnaireResponse"
    assert qr["status"] == "completed"
    assert qr["questionnaire"] == questionnaire_canonical(small, BASE) == f"{q['url']}|3"
    assert qr["authored"] == "2026-11-20T21:30:00Z"
    assert qr["identifier"]["value"] == "urn:uuid:7d3c1f0e-5b2a-4c1d-9e8f-0a1b2c3d4e5f"
    assert qr["language"] == "sm"


def test_response_answers_are_typed(small: FormDefinition) -> None:
    qr = questionnaire_response(submission(FULL_ANSWERS), small, base_url=BASE)
    items = items_by_link(qr["item"])
    assert items["name"]["answer"] == [{"valueString": "Mele Taufa"}]
    assert items["kids"]["answer"] == [{"valueInteger": 3}]
    assert items["rent"]["answer"] == [{"valueDecimal": 350.5}]
    assert items["born"]["answer"] == [{"valueDate": "1988-02-14"}]
    assert items["agree"]["answer"] == [{"valueBoolean": True}]
    assert [a["valueCoding"]["code"] for a in items["colours"]["answer"]] == ["red", "blue"]
    assert items["colour"]["answer"][0]["valueCoding"]["code"] == "other"
    assert items["colour_other"]["answer"] == [{"valueString": "Green"}]
    assert items["total_age"]["answer"] == [{"valueDecimal": 47}]


def test_repeat_instances_are_repeated_items(small: FormDefinition) -> None:
    qr = questionnaire_response(submission(FULL_ANSWERS), small, base_url=BASE)
    page = next(i for i in qr["item"] if i["linkId"] == "page-second")
    people = [i for i in page["item"] if i["linkId"] == "people"]
    assert len(people) == 2  # the empty third row carries nothing
    assert people[0]["item"][0] == {
        "linkId": "person_age",
        "text": "Age",
        "answer": [{"valueInteger": 40}],
    }
    assert people[1]["item"] == [
        {"linkId": "person_age", "text": "Age", "answer": [{"valueInteger": 7}]}
    ]


def test_irrelevant_and_blank_answers_are_left_out(small: FormDefinition) -> None:
    qr = questionnaire_response(submission(FULL_ANSWERS), small, base_url=BASE)
    items = items_by_link(qr["item"])
    assert "why_not" not in items  # agree is yes, so why_not is not relevant
    assert "intro" not in items  # notes carry no answer
    no = questionnaire_response(
        submission({"agree": "no", "why_not": "Busy", "people": [{"person_age": 3}]}),
        small,
        base_url=BASE,
    )
    items = items_by_link(no["item"])
    assert items["why_not"]["answer"] == [{"valueString": "Busy"}]
    assert "page-second" not in items  # the household page is skipped without agreement
    assert response_problems(no, questionnaire(small, base_url=BASE)) == []


def test_barrier_assessment_response_validates() -> None:
    form = load_form("barrier_assessment")
    answers = {
        "consent": "yes",
        "person_name": "Sione",
        "date_of_birth": "1975-06-30",
        "interpreter_needed": "yes",
        "main_language": "samoan",
        "enrolment_status": "not_enrolled",
        "cost_difficulty": "very_hard",
        "transport_barrier": "yes",
        "housing": ["cold_damp", "overcrowded"],
        "household_members": [
            {"member_name": "Losa", "member_age": 8, "member_relationship": "child"},
            {"member_name": "Ioane", "member_age": 12, "member_relationship": "child"},
        ],
        "barriers": ["cost", "transport"],
        "actions": ["transport_referral", "find_practice"],
        "follow_up_date": "2026-12-01",
    }
    sub = submission(answers, form_id=form.id, form_version=form.version)
    q = questionnaire(form, base_url=BASE)
    qr = questionnaire_response(sub, form, base_url=BASE)
    assert response_problems(qr, q) == []
    items = items_by_link(qr["item"])
    assert items["household_size"]["answer"] == [{"valueDecimal": 3}]
    assert items["children_13_and_under"]["answer"] == [{"valueDecimal": 2}]


def test_without_consent_only_the_consent_answer_is_sent() -> None:
    form = load_form("barrier_assessment")
    sub = submission(
        {"consent": "no", "person_name": "should not travel"},
        form_id=form.id,
        form_version=form.version,
    )
    qr = questionnaire_response(sub, form, base_url=BASE)
    assert list(items_by_link(qr["item"])) == ["page-consent", "consent"]


def test_ndjson_is_one_resource_per_line(small: FormDefinition) -> None:
    first = submission(FULL_ANSWERS | {"name": "Mele\nTaufa, ʻOfa"})
    second = submission({"agree": "no"}, instance_id="0f0e0d0c-0b0a-4900-8800-000000000002")
    body = ndjson(questionnaire_response(s, small, base_url=BASE) for s in (first, second))
    assert body.endswith(b"\n") and b"\n\n" not in body
    lines = body.decode("utf-8").splitlines()
    assert len(lines) == 2  # a newline inside an answer stays escaped within its line
    resources = [json.loads(line) for line in lines]
    assert [r["id"] for r in resources] == [first.instance_id, second.instance_id]
    assert items_by_link(resources[0]["item"])["name"]["answer"] == [
        {"valueString": "Mele\nTaufa, ʻOfa"}
    ]
    assert "ʻOfa" in lines[0]  # UTF-8 as written, not \u escapes
    q = questionnaire(small, base_url=BASE)
    assert [response_problems(r, q) for r in resources] == [[], []]
    assert ndjson([]) == b""


UNTITLED_FORM = """
id: untitled
version: "1"
title: {en: Untitled parts}
pages:
  - name: only
    fields:
      - {name: count, type: integer, label: {en: "How many?"}}
      - {name: big, type: note, relevant: "${count} > 5000000000", label: {en: Very many}}
      - name: rows
        type: repeat
        fields:
          - {name: age, type: integer}
"""


def test_untitled_pages_and_repeats_are_named_in_the_response(tmp_path: Path) -> None:
    path = tmp_path / "untitled.yaml"
    path.write_text(UNTITLED_FORM, encoding="utf-8")
    form = load_path(path)
    sub = submission({"count": 2, "rows": [{"age": 4}]}, form_id=form.id, form_version=form.version)
    q = questionnaire(form, base_url=BASE)
    qr = questionnaire_response(sub, form, base_url=BASE)
    assert questionnaire_problems(q) == []
    assert response_problems(qr, q) == []  # FHIR strings are never empty
    items = items_by_link(qr["item"])
    assert items["page-only"]["text"] == "only"
    assert items["rows"]["text"] == "rows"
    assert items["age"] == {"linkId": "age", "text": "age", "answer": [{"valueInteger": 4}]}


def test_integers_beyond_what_fhir_holds_are_left_out(tmp_path: Path) -> None:
    path = tmp_path / "untitled.yaml"
    path.write_text(UNTITLED_FORM, encoding="utf-8")
    form = load_path(path)
    q = questionnaire(form, base_url=BASE)
    # FHIR's integer is 32-bit: the condition stays an expression instead of an enableWhen
    big = items_by_link(q["item"])["big"]
    assert "enableWhen" not in big
    assert big["extension"][0]["valueExpression"]["expression"] == "${count} > 5000000000"
    largest = 2**31 - 1
    fits = submission({"count": largest}, form_id=form.id, form_version=form.version)
    qr = questionnaire_response(fits, form, base_url=BASE)
    assert response_problems(qr, q) == []
    assert items_by_link(qr["item"])["count"]["answer"] == [{"valueInteger": largest}]
    too_big = submission({"count": largest + 1}, form_id=form.id, form_version=form.version)
    qr = questionnaire_response(too_big, form, base_url=BASE)
    assert response_problems(qr, q) == []
    assert "item" not in qr  # nothing else was answered, and FHIR JSON has no empty arrays


# --- the oracle (fhir.resources) rejects what is not FHIR ------------------------------------


def _q_mutations() -> list[tuple[str, Callable[[dict[str, Any]], None], str | None]]:
    def first_field(q: dict[str, Any]) -> dict[str, Any]:
        return q["item"][0]["item"][1]  # "name"

    def field(q: dict[str, Any], link_id: str) -> dict[str, Any]:
        return next(i for i in q["item"][0]["item"] if i["linkId"] == link_id)

    return [
        ("no status", lambda q: q.pop("status"), "Questionnaire.status: Value for the field"),
        ("bad status", lambda q: q.update(status="final"), "'final' is not one of"),
        ("wrong type", lambda q: q.update(resourceType="Patient"), "expects resource type"),
        ("bad id", lambda q: q.update(id="small_form"), "Questionnaire.id: String should match"),
        ("no linkId", lambda q: first_field(q).pop("linkId"), "item[1].linkId: Value for"),
        ("no item type", lambda q: first_field(q).pop("type"), "item[1].type: Value for"),
        ("empty group", lambda q: q["item"][0].update(item=[]), "item[0].item: read as null"),
        ("unknown element", lambda q: first_field(q).update(hint="x"), "item[1].hint: Extra"),
        (
            "required as text",
            lambda q: first_field(q).update(required="yes"),
            'item[1].required: read as true, not "yes"',
        ),
        (
            "option without value",
            lambda q: field(q, "colour")["answerOption"].append({}),
            "answerOption[3]: Value error",
        ),
        (
            "enableWhen without operator",
            lambda q: field(q, "why_not")["enableWhen"][0].pop("operator"),
            "enableWhen[0].operator: Value for the field",
        ),
        (
            "unknown operator",
            lambda q: field(q, "why_not")["enableWhen"][0].update(operator="=="),
            "'==' is not one of",
        ),
        (
            "unknown enableBehavior",
            lambda q: field(q, "big_family").update(enableBehavior="both"),
            "'both' is not one of",
        ),
        (
            "exists with answerBoolean",
            lambda q: field(q, "why_not")["enableWhen"][0].update(operator="exists"),
            None,
        ),
        (
            "extension without url",
            lambda q: q.update(extension=[{"valueString": "x"}]),
            "extension[0].url: Value for the field",
        ),
        (
            "expression without language",
            lambda q: field(q, "tricky")["extension"][0]["valueExpression"].pop("language"),
            "valueExpression.language: Value for the field",
        ),
        (
            "empty translation",
            lambda q: q["_title"]["extension"][0]["extension"][1].update(valueString=""),
            "valueString: String should match",
        ),
    ]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [(m, msg) for _name, m, msg in _q_mutations()],
    ids=[name for name, _m, _msg in _q_mutations()],
)
def test_the_oracle_rejects_a_broken_questionnaire(
    small: FormDefinition, mutate: Callable[[dict[str, Any]], None], message: str | None
) -> None:
    q = copy.deepcopy(questionnaire(small, base_url=BASE))
    assert questionnaire_problems(q) == []
    mutate(q)
    problems = questionnaire_problems(q)
    if message is None:
        # operator "exists" with answerBoolean is fine: the oracle must not complain
        assert problems == []
    else:
        assert any(message in p for p in problems), problems


def _page(qr: dict[str, Any], link_id: str) -> dict[str, Any]:
    return next(i for i in qr["item"] if i["linkId"] == link_id)


def _qr_mutations() -> list[tuple[str, Callable[[dict[str, Any]], None], str]]:
    def answered(qr: dict[str, Any], link_id: str) -> dict[str, Any]:
        return next(i for i in _page(qr, "page-first")["item"] if i["linkId"] == link_id)

    return [
        ("no status", lambda qr: qr.pop("status"), "QuestionnaireResponse.status: Value for"),
        ("bad status", lambda qr: qr.update(status="done"), "'done' is not one of"),
        ("bad authored", lambda qr: qr.update(authored="20 Nov 2026"), "authored: Value error"),
        (
            "two identifiers",
            lambda qr: qr.update(identifier=[qr["identifier"]] * 2),
            "QuestionnaireResponse.identifier",
        ),
        ("no linkId", lambda qr: answered(qr, "name").pop("linkId"), "linkId: Value for the"),
        (
            "integer as text",
            lambda qr: answered(qr, "kids").update(answer=[{"valueInteger": "3"}]),
            'valueInteger: read as 3, not "3"',
        ),
        (
            "integer too big",
            lambda qr: answered(qr, "kids").update(answer=[{"valueInteger": 2**31}]),
            "valueInteger: Input should be less than or equal to 2147483647",
        ),
        (
            "bad date",
            lambda qr: answered(qr, "born").update(answer=[{"valueDate": "14/02/1988"}]),
            "valueDate: Value error",
        ),
        (
            "empty string",
            lambda qr: answered(qr, "name").update(answer=[{"valueString": ""}]),
            "valueString: String should match",
        ),
        (
            "code with a space at the end",
            lambda qr: answered(qr, "colours")["answer"][0]["valueCoding"].update(code="red "),
            "valueCoding.code: String should match",
        ),
        (
            "two values in an answer",
            lambda qr: answered(qr, "name").update(
                answer=[{"valueString": "a", "valueInteger": 1}]
            ),
            "but got multiple",
        ),
        (
            "unknown value type",
            lambda qr: answered(qr, "name").update(answer=[{"valueText": "a"}]),
            "valueText: Extra inputs are not permitted",
        ),
        # where the response and its Questionnaire disagree (our two outputs, side by side)
        (
            "wrong questionnaire",
            lambda qr: qr.update(questionnaire="https://other/Q/x|1"),
            "does not cite the form",
        ),
        (
            "unknown linkId",
            lambda qr: answered(qr, "name").update(linkId="surname"),
            "'surname' is not in the Questionnaire",
        ),
        (
            "wrong nesting",
            lambda qr: _page(qr, "page-second")["item"].append(
                {"linkId": "name", "answer": [{"valueString": "x"}]}
            ),
            "'name' is not nested as in the Questionnaire",
        ),
    ]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [(m, msg) for _name, m, msg in _qr_mutations()],
    ids=[name for name, _m, _msg in _qr_mutations()],
)
def test_the_oracle_rejects_a_broken_response(
    small: FormDefinition, mutate: Callable[[dict[str, Any]], None], message: str
) -> None:
    q = questionnaire(small, base_url=BASE)
    qr = copy.deepcopy(questionnaire_response(submission(FULL_ANSWERS), small, base_url=BASE))
    assert response_problems(qr, q) == []
    mutate(qr)
    problems = response_problems(qr, q)
    assert any(message in p for p in problems), problems
