"""``python -m assistant check`` for forms: problems with file and line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from assistant.content_check import run_all
from assistant.forms.engine.check import check_file, check_forms
from assistant.forms.engine.definition import DefinitionError, load_path

HEADER = """\
id: sample
version: "1"
title: {en: Sample, mi: a, sm: a, to: a, zh_Hans: a, hi: a, ar: a}
pages:
  - name: one
    title: {en: One, mi: a, sm: a, to: a, zh_Hans: a, hi: a, ar: a}
    fields:
"""


def problems(tmp_path: Path, fields: str) -> list[str]:
    path = tmp_path / "sample.yaml"
    path.write_text(HEADER + textwrap.indent(textwrap.dedent(fields), "      "))
    found, _form = check_file(path)
    return [p.replace(str(tmp_path) + "/", "") for p in found]


T = "{en: x, mi: x, sm: x, to: x, zh_Hans: x, hi: x, ar: x}"


def test_a_clean_form_has_no_problems(tmp_path: Path) -> None:
    assert problems(tmp_path, f"- name: a\n  type: text\n  label: {T}\n") == []


def test_unknown_field_reference_is_reported_with_its_line(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        f"""\
        - name: a
          type: text
          label: {T}
          relevant: "${{nope}} = 'x'"
        """,
    )
    assert found == ["sample.yaml:11: field 'a': relevant refers to unknown field ${nope}"]


def test_bad_expression_is_reported(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        f"""\
        - name: a
          type: integer
          label: {T}
          constraint: ". >= "
          constraint_message: {T}
        """,
    )
    assert len(found) == 1
    assert found[0].startswith("sample.yaml:11: field 'a': bad expression in constraint")


def test_cycle_between_calculations_is_reported(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        f"""\
        - name: a
          type: calculate
          calculation: "${{b}} + 1"
        - name: b
          type: calculate
          calculation: "${{a}} + 1"
        - name: c
          type: text
          label: {T}
        """,
    )
    assert found == ["sample.yaml:8: cycle: a -> b -> a"]


def test_relevance_that_depends_on_itself_is_a_cycle(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        f"""\
        - name: a
          type: text
          label: {T}
          relevant: "${{a}} = 'x'"
        """,
    )
    assert found == ["sample.yaml:8: cycle: a -> a"]


def test_duplicate_names_are_reported(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        f"""\
        - name: a
          type: text
          label: {T}
        - name: a
          type: integer
          label: {T}
        """,
    )
    assert found == ["sample.yaml:11: duplicate name 'a'"]


def test_missing_translations_are_listed_and_fall_back(tmp_path: Path) -> None:
    found = problems(tmp_path, "- name: a\n  type: text\n  label: {en: Name, sm: Igoa}\n")
    assert found == [
        "sample.yaml:10: field 'a' label: missing translation mi, to, zh_Hans, hi, ar "
        "(shows English)"
    ]


def test_unquoted_yes_in_a_choice_list_is_caught(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        f"""\
        - name: a
          type: select_one
          label: {T}
          choices:
            - value: yes
              label: {T}
        """,
    )
    assert any("put quotes around yes and no" in p for p in found)


def test_unknown_type_and_misspelt_key(tmp_path: Path) -> None:
    found = problems(tmp_path, f"- name: a\n  type: text\n  label: {T}\n  relevent: x\n")
    assert found == ["sample.yaml:11: field 'a': unknown key 'relevent'"]
    found = problems(tmp_path, f"- name: a\n  type: texty\n  label: {T}\n")
    assert found == ["sample.yaml:9: field 'a': unknown type 'texty'"]


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    found = problems(tmp_path, "- name: a\n  type: [text\n")
    assert len(found) == 1 and found[0].startswith("sample.yaml:")
    assert "not valid YAML" in found[0]


def test_shipped_forms_have_no_errors_or_missing_translations() -> None:
    assert check_forms() == []


def test_forms_checker_is_registered_with_the_content_check() -> None:
    assert run_all()["forms"] == []


TWO_PAGES = f"""\
id: sample
version: "1"
title: {T}
pages:
  - name: one
    title: {T}
    fields:
      - name: a
        type: text
        label: {T}
  - name: two
    title: {T}
"""


def check_text(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "sample.yaml"
    path.write_text(text)
    found, _form = check_file(path)
    return [p.replace(str(tmp_path) + "/", "") for p in found]


@pytest.mark.parametrize(
    "second_page",
    [
        "",
        "    fields: []\n",
        "    fields:\n      - {name: b, type: calculate, calculation: '1 + 1'}\n",
    ],
)
def test_a_page_with_no_questions_is_refused_naming_the_form_and_page(
    tmp_path: Path, second_page: str
) -> None:
    text = TWO_PAGES + second_page
    assert check_text(tmp_path, text) == [
        "sample.yaml:11: form 'sample': page 'two' has no questions"
    ]
    with pytest.raises(DefinitionError, match="form 'sample': page 'two' has no questions"):
        load_path(tmp_path / "sample.yaml")


def test_a_page_with_only_a_note_is_kept(tmp_path: Path) -> None:
    text = TWO_PAGES + f"    fields:\n      - {{name: b, type: note, label: {T}}}\n"
    assert check_text(tmp_path, text) == []


@pytest.mark.parametrize(
    "rows",
    [
        "",
        "        fields: []\n",
        f"        fields:\n          - {{name: c, type: note, label: {T}}}\n",
    ],
)
def test_a_repeat_group_with_no_questions_is_refused_naming_the_form_and_group(
    tmp_path: Path, rows: str
) -> None:
    text = TWO_PAGES + "    fields:\n      - name: people\n        type: repeat\n" + rows
    assert check_text(tmp_path, text) == [
        "sample.yaml:14: form 'sample': repeat group 'people' has no questions"
    ]
    with pytest.raises(DefinitionError, match="repeat group 'people' has no questions"):
        load_path(tmp_path / "sample.yaml")
