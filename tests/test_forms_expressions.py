"""The form expression language: parsing, evaluation (ODK semantics) and errors."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from assistant.forms.engine.expressions import (
    ExpressionError,
    compile_expression,
    evaluate,
    parse,
    references,
    scope,
    to_bool,
    uses_current,
)

TODAY = date(2026, 11, 22)


def ev(src: str, env: dict[str, Any] | None = None, **kw: Any) -> Any:
    return evaluate(src, env or {}, today=TODAY, **kw)


# --- relevance (skip logic) ------------------------------------------------------------------

ANSWERS: dict[str, Any] = {
    "consent": "yes",
    "enrolled": "no",
    "barriers": ["cost", "transport"],
    "odk_barriers": "cost transport",
    "interpreter": "",
    "household_size": 4,
    "income_text": "250",
    "language": "sm",
    "dob": "1990-05-17",
    "unanswered": None,
    "flag": True,
}


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("${consent} = 'yes'", True),
        ("${consent} != 'yes'", False),
        ("${enrolled} = 'no' and ${consent} = 'yes'", True),
        ("${enrolled} = 'yes' or ${language} = 'sm'", True),
        ("not(${enrolled} = 'yes')", True),
        ("not ${enrolled} = 'yes'", True),
        ("selected(${barriers}, 'transport')", True),
        ("selected(${barriers}, 'housing')", False),
        ("selected(${odk_barriers}, 'transport')", True),
        ("selected(${unanswered}, 'cost')", False),
        ("count_selected(${barriers}) >= 2", True),
        ("count-selected(${odk_barriers}) = 2", True),
        ("count_selected(${interpreter}) = 0", True),
        ("${interpreter} = ''", True),
        ("${unanswered} = ''", True),
        ("${unanswered} = null", True),
        ("${missing_entirely} = ''", True),
        ("${unanswered} != ''", False),
        ("${household_size} > 3", True),
        ("${household_size} > '3'", True),
        ("${income_text} > 100", True),
        ("${income_text} = 250", True),
        ("${unanswered} > 0", False),
        ("${unanswered} < 0", False),
        ("${unanswered} <= 0", False),
        ("${language} < 5", False),
        ("${flag} = 'yes'", True),
        ("${flag} = true", True),
        ("${flag} = 'no'", False),
        ("${dob} < '2000-01-01'", True),
        ("${dob} = '1990-05-17'", True),
        ("age(${dob}) >= 18", True),
        ("${language} = 'sm' and not(selected(${barriers}, 'language'))", True),
        ("(${household_size} > 3 or false) and true", True),
        ("${enrolled} = 'no' or 1 div 0 > 0", True),
        ("'b' > 'a'", True),
        ("${enrolled} == 'no'", True),
    ],
)
def test_relevance(src: str, expected: bool) -> None:
    assert to_bool(ev(src, ANSWERS)) is expected


# --- constraints (. is the value being checked) ------------------------------------------------


@pytest.mark.parametrize(
    ("src", "value", "ok"),
    [
        (". >= 0 and . <= 120", 35, True),
        (". >= 0 and . <= 120", 121, False),
        (". >= 0 and . <= 120", "-1", False),
        (". <= today()", "2026-11-22", True),
        (". <= today()", "2026-11-23", False),
        (". > ${dob}", "2000-01-01", True),
        ("string-length(.) >= 10", "short", False),
        ("string-length(.) >= 10", "long enough text", True),
        ("regex(., '^[A-Za-z]{3}[0-9]{2}[0-9A-Za-z]{2}$')", "ABC1234", True),
        ("regex(., '^[A-Za-z]{3}[0-9]{2}[0-9A-Za-z]{2}$')", "AB12345", False),
        ("regex(., '^\\+?[0-9 ]{7,15}$')", "+64 21 555 0100", True),
        ("regex(., '^\\+?[0-9 ]{7,15}$')", "call me", False),
        ("regex(., '^([0-9]{2})+$')", "1234", True),
        ("regex(., '^([0-9]{2})+$')", "123", False),
        ("count_selected(.) <= 3", ["a", "b", "c"], True),
        ("count_selected(.) <= 3", ["a", "b", "c", "d"], False),
        ("not(selected(., 'none') and count_selected(.) > 1)", ["none", "cost"], False),
        ("not(selected(., 'none') and count_selected(.) > 1)", ["none"], True),
        (". mod 2 = 0", 6, True),
        (". % 2 = 0", 7, False),
        ("int(.) = .", "4", True),
        ("int(.) = .", "4.5", False),
        (". >= ${household_size}", 4, True),
    ],
)
def test_constraints(src: str, value: Any, ok: bool) -> None:
    assert to_bool(ev(src, ANSWERS, current=value)) is ok


def test_current_value_also_given_in_env() -> None:
    assert ev(". > 3", {".": 5}) is True


# --- calculations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "env", "expected"),
    [
        ("1 + 2 * 3", {}, 7),
        ("(1 + 2) * 3", {}, 9),
        ("10 / 4", {}, 2.5),
        ("10 / 5", {}, 2),
        ("7 % 3", {}, 1),
        ("-7 mod 3", {}, -1),
        ("2 - 3 - 4", {}, -5),
        ("-(2 + 3)", {}, -5),
        ("0.1 + 0.2 = 0.3", {}, True),
        ("0.1 + 0.2", {}, 0.3),
        ("1 / 0", {}, None),
        ("${a} + 1", {"a": None}, None),
        ("${a} + 1", {"a": "2"}, 3),
        ("${a} * 2", {"a": 1.5}, 3),
        ("${a} + 1", {"a": "two"}, None),
        ("if(${a} > 1, 'big', 'small')", {"a": 5}, "big"),
        ("if(${a} > 1, 'big', 'small')", {"a": None}, "small"),
        ("if(true, 1, 1 div 0)", {}, 1),
        ("coalesce(${a}, ${b}, 'none')", {"a": "", "b": None}, "none"),
        ("coalesce(${a}, 'x')", {"a": "given"}, "given"),
        ("string-length(${name})", {"name": "Sione"}, 5),
        ("string-length(${name})", {"name": None}, 0),
        ("string-length(${name})", {"name": "Āperahama"}, 9),
        ("int(7.9)", {}, 7),
        ("int(-7.9)", {}, -7),
        ("int(${a})", {"a": ""}, None),
        ("round(2.345, 2)", {}, 2.35),
        ("round(2.5)", {}, 3),
        ("round(-2.5)", {}, -3),
        ("round(1234, -2)", {}, 1200),
        ("round(${a}, 1)", {"a": None}, None),
        ("age(${dob})", {"dob": "2000-11-22"}, 26),
        ("age(${dob})", {"dob": "2000-11-23"}, 25),
        ("age(${dob})", {"dob": date(2024, 2, 29)}, 2),
        ("age(${dob})", {"dob": ""}, None),
        ("today()", {}, TODAY),
        ("concat(${first}, ' ', ${last})", {"first": "Mele", "last": "Taufa"}, "Mele Taufa"),
        ("number('12.50') + 1", {}, 13.5),
        ("string(3) = '3'", {}, True),
        ("max(${a}, ${b}, 3)", {"a": 7, "b": None}, 7),
        ("min(${a}, ${b})", {"a": None, "b": None}, None),
        ("abs(-4)", {}, 4),
        ("count_selected(${b})", {"b": ["x", "y", "z"]}, 3),
        ("true()", {}, True),
        # absurd numbers are "not a number" (empty), never a crash or a hang
        ("${a} + 1", {"a": "9" * 200}, None),
        ("${a} * 2", {"a": Decimal("1E+999999")}, None),
        ("${a}", {"a": Decimal("1E+999999")}, None),
        ("round(${a}, 12)", {"a": "1" * 60}, None),
        ("${a} > 1", {"a": 10**5000}, False),
        ("int(${a})", {"a": float("nan")}, None),
    ],
)
def test_calculations(src: str, env: dict[str, Any], expected: Any) -> None:
    result = ev(src, env)
    assert result == expected
    assert type(result) is type(expected)


# --- repeats -------------------------------------------------------------------------------

HOUSEHOLD: dict[str, Any] = {
    "members": [
        {"member_name": "Ana", "member_age": 42, "member_enrolled": "yes"},
        {"member_name": "Tavita", "member_age": "9", "member_enrolled": "no"},
        {"member_name": "Losa", "member_age": None, "member_enrolled": "no"},
    ],
    "empty_repeat": [],
    "weekly_cost": "30.50",
}


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("count(${members})", 3),
        ("count(${empty_repeat})", 0),
        ("count(${never_answered})", 0),
        ("sum(${member_age})", 51),
        ("sum(${empty_repeat})", 0),
        ("max(${member_age})", 42),
        ("count(${members}) > 2 and sum(${member_age}) > 50", True),
        ("sum(${member_age}) + ${weekly_cost}", 81.5),
        ("selected(${member_enrolled}, 'no')", True),
    ],
)
def test_repeats(src: str, expected: Any) -> None:
    assert ev(src, HOUSEHOLD) == expected


@pytest.mark.parametrize(
    ("index", "src", "expected"),
    [
        (0, "${member_age} >= 18", True),
        (1, "${member_age} >= 18", False),
        (2, "${member_age} >= 18", False),
        (1, "${member_enrolled} = 'no' and ${weekly_cost} > 20", True),
        (0, "count(${members})", 3),
    ],
)
def test_expressions_inside_one_repeat_instance(index: int, src: str, expected: Any) -> None:
    env = scope(HOUSEHOLD, HOUSEHOLD["members"][index])
    assert ev(src, dict(env)) == expected


# --- errors, with their position --------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "message", "position"),
    [
        ("", "The expression is empty", 0),
        ("1 +", "The expression ends too early", 3),
        ("${a} = ", "The expression ends too early", 7),
        ("(1 + 2", "Expected ')'", 6),
        ("1 + 2)", "Unexpected ')'", 5),
        ("${a", "Field reference is not closed", 0),
        ("$a", "Expected '{' after '$'", 0),
        ("${}", "Invalid field name", 0),
        ("${a b}", "Invalid field name", 0),
        ("'open text", "Text is not closed", 0),
        ("name = 'x'", "Unknown name 'name'; write field references as ${name}", 0),
        ("frobnicate(1)", "Unknown function frobnicate()", 0),
        ("selected(${a})", "selected() takes 2 arguments, given 1", 0),
        ("if(1, 2)", "if() takes 3 arguments, given 2", 0),
        ("today(1)", "today() takes 0 arguments, given 1", 0),
        ("coalesce(${a})", "coalesce() takes at least 2 arguments, given 1", 0),
        ("round()", "round() takes 1 to 2 arguments, given 0", 0),
        ("regex(., '[a-')", "Invalid regular expression", 9),
        ("regex(., '^(a+)+$')", "repeats a group that itself repeats", 9),
        ("regex(., '([a-z]{1,5})*')", "repeats a group that itself repeats", 9),
        ("count('x')", "count() needs a field reference", 6),
        ("1 < 2 < 3", "Comparisons cannot be chained", 6),
        ("${a} ${b}", "Missing operator before ${b}", 5),
        ("1 ; 2", "Unexpected character ';'", 2),
        ("__import__('os')", "Unknown function __import__()", 0),
        ("${a}.__class__", "Missing operator", 4),
        ("(" * 100 + "1" + ")" * 100, "nested too deeply", 60),
    ],
)
def test_errors_carry_message_and_position(src: str, message: str, position: int) -> None:
    with pytest.raises(ExpressionError) as info:
        parse(src)
    assert message in info.value.message
    assert info.value.position == position
    assert f"at character {position + 1}" in str(info.value)


def test_round_with_bad_places_is_an_error_at_evaluation() -> None:
    with pytest.raises(ExpressionError, match="whole number of places"):
        ev("round(1.5, 0.5)")


def test_too_long_source_is_refused() -> None:
    with pytest.raises(ExpressionError, match="too long"):
        parse("1 + " * 2000 + "1")


def test_non_text_source_is_refused() -> None:
    with pytest.raises(ExpressionError):
        parse(42)  # type: ignore[arg-type]


# --- references and caching -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "refs"),
    [
        ("1 + 2", set()),
        (". > 0", set()),
        ("${a} = 'x'", {"a"}),
        ("if(${a} > 1, ${b}, coalesce(${c}, ${a}))", {"a", "b", "c"}),
        ("not(selected(${barriers}, 'cost')) and count(${members}) > 0", {"barriers", "members"}),
        ("-${x} * sum(${member_age})", {"x", "member_age"}),
        ("${other_field.with-dash} = 1", {"other_field.with-dash"}),
    ],
)
def test_references(src: str, refs: set[str]) -> None:
    assert references(parse(src)) == refs
    assert references(src) == refs


def test_uses_current() -> None:
    assert uses_current(". > 1")
    assert uses_current("string-length(.) < 5 or ${a}")
    assert not uses_current("${a} > 1")
    assert not uses_current("0.5 > .25")


def test_compile_expression_is_cached_and_equal_to_parse() -> None:
    first = compile_expression("${a} + 1")
    assert compile_expression("${a} + 1") is first
    assert first == parse("${a} + 1")


def test_never_uses_python_eval() -> None:
    # Python syntax is not this language: attribute access, subscripts, lambdas all fail.
    for src in ("().__class__", "[1][0]", "lambda: 1", "a if b else c", "x**2"):
        with pytest.raises(ExpressionError):
            parse(src)
