"""The fill page's script and the server mean the same by every form expression.

The server parses each expression once and sends the tree (``expressions.to_json``);
``assistant/static/forms/expr.js`` evaluates trees in the browser. These tests run that script
under Node (which ``make setup`` needs already) and compare it with the server's evaluator, value
for value: a table of expressions times answer sets (every operator and function, empty answers,
numbers written as text, choices, dates, division by zero, missing fields, precedence), every
regular expression pattern against many texts, every expression of the real forms, and whole
forms (answers typed as the server types them, calculations, what is shown and skipped).
"""

from __future__ import annotations

import json
import math
import random
import shutil
import subprocess
from collections import ChainMap
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from httpx import Client
from sqlmodel import Session

from assistant.forms.capture.filling import logic
from assistant.forms.engine import validation
from assistant.forms.engine.definition import Field, FormDefinition, all_forms, load_form, load_path
from assistant.forms.engine.expressions import (
    _FUNCTIONS_IMPL,
    ExpressionError,
    evaluate,
    scope,
    to_json,
)
from assistant.people.models import Role
from tests import factories
from tests.html import parse

ROOT = Path(__file__).resolve().parent.parent
EXPR_JS = ROOT / "assistant" / "static" / "forms" / "expr.js"
TODAY = date(2026, 11, 22)

# Reads jobs on stdin, answers each with {"value": ...}, {"error": true} (the expression is
# broken, as ExpressionError) or {"crash": "..."} (a fault in the script).
DRIVER = r"""
const X = require(process.argv[1]);
const SPECIAL = { nan: NaN, inf: Infinity, "-inf": -Infinity };
function decode(v) {
  if (Array.isArray(v)) return v.map(decode);
  if (v === null || typeof v !== "object") return v;
  if ("$int" in v) return X.number(v.$int);
  if ("$float" in v) return v.$float in SPECIAL ? SPECIAL[v.$float] : Number(v.$float);
  if ("$date" in v) return X.date(v.$date);
  const out = Object.create(null);
  for (const k of Object.keys(v)) out[k] = decode(v[k]);
  return out;
}
function encode(v) {
  if (v === null || v === undefined) return null;
  if (v instanceof X.Dec) return v.isInt ? { $int: X.text(v) } : { $dec: X.text(v) };
  if (typeof v === "number") return { $float: String(v) };
  if (v instanceof X.PyDate) return { $date: v.iso() };
  if (Array.isArray(v)) return v.map(encode);
  if (typeof v === "object") {
    const out = {};
    for (const k of Object.keys(v)) out[k] = encode(v[k]);
    return out;
  }
  return v;
}
function job(j) {
  const today = X.date(j.today);
  if (j.plan) {
    const s = X.state(j.plan, decode(j.raw), today);
    return {
      env: encode(s.env),
      pages: Object.keys(s.pages).sort(),
      irrelevant: Object.keys(s.irrelevant).sort(),
      relevant: j.paths.filter((p) => s.relevant(p)),
    };
  }
  return encode(X.evaluate(j.tree, decode(j.env), { current: decode(j.current), today }));
}
const jobs = JSON.parse(require("fs").readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(jobs.map((j) => {
  try { return { value: job(j) }; } catch (e) {
    return e instanceof X.ExprError ? { error: true } : { crash: String((e && e.stack) || e) };
  }
})));
"""


def run_node(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing: the browser's form logic cannot be checked (make setup)")
    done = subprocess.run(
        [node, "-e", DRIVER, str(EXPR_JS)],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answers: list[dict[str, Any]] = json.loads(done.stdout)
    assert len(answers) == len(jobs)
    return answers


# --- values across the border -----------------------------------------------------------------


def to_js(value: Any) -> Any:
    """A Python answer as JSON the driver turns back into the script's own values."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return {"$int": str(value)}
    if isinstance(value, float):
        special = {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(repr(value))
        return {"$float": special or repr(value)}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Mapping):
        return {k: to_js(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_js(v) for v in value]
    raise TypeError(value)


def canon(value: Any) -> Any:
    """A value with its type spelt out (1, 1.0 and True are all equal in Python)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return ["bool", value]
    if isinstance(value, int):
        return ["int", value]
    if isinstance(value, float):
        return ["float", "nan" if math.isnan(value) else value]
    if isinstance(value, Decimal):
        return ["decimal", str(value)]  # never left by the evaluator: a mismatch if it is
    if isinstance(value, str):
        return ["str", value]
    if isinstance(value, date):
        return ["date", value.isoformat()]
    if isinstance(value, Mapping):
        return ["dict", [[k, canon(v)] for k, v in value.items()]]
    if isinstance(value, list):
        return ["list", [canon(v) for v in value]]
    raise TypeError(value)


def from_js(value: Any) -> Any:
    if isinstance(value, list):
        return [from_js(v) for v in value]
    if isinstance(value, dict):
        if "$int" in value:
            return int(value["$int"])
        if "$float" in value:
            return float(value["$float"])
        if "$date" in value:
            return date.fromisoformat(value["$date"])
        if "$dec" in value:
            return Decimal(value["$dec"])
        return {k: from_js(v) for k, v in value.items()}
    return value


def js_outcome(answer: dict[str, Any]) -> Any:
    if "crash" in answer:
        return ["crash", answer["crash"]]
    if "error" in answer:
        return "error"
    return canon(from_js(answer["value"]))


Case = tuple[str, Mapping[str, Any], Any]  # expression, answers, value of "."


def py_outcome(src: str, env: Mapping[str, Any], current: Any) -> Any:
    try:
        return canon(evaluate(src, env, current=current, today=TODAY))
    except ExpressionError:
        return "error"


def compare(cases: list[Case]) -> list[str]:
    """Each case evaluated here and by the script; the ones that differ, described."""
    jobs = [
        {
            "tree": to_json(src),
            # inside a repeat's row the server reads a ChainMap; the script gets it merged
            "env": to_js(dict(env)),
            "current": to_js(current),
            "today": TODAY.isoformat(),
        }
        for src, env, current in cases
    ]
    differ = []
    for (src, env, current), answer in zip(cases, run_node(jobs), strict=True):
        server, browser = py_outcome(src, env, current), js_outcome(answer)
        if server != browser:
            differ.append(
                f"{src!r} with {dict(env)!r}, . = {current!r}: server {server!r}, "
                f"browser {browser!r}"
            )
    return differ


def assert_agree(cases: list[Case]) -> None:
    differ = compare(cases)
    assert not differ, f"{len(differ)} of {len(cases)} differ:\n" + "\n".join(differ[:40])


# --- the table --------------------------------------------------------------------------------

ROWS = [
    {"age": 3, "name": "Losa", "ok": "yes"},
    {"age": 40, "name": "Ioane", "ok": "no"},
]

ANSWER_SETS: list[dict[str, Any]] = [
    {},
    {"a": None, "b": "", "c": "   ", "m": [], "s": "", "d": None, "r": [], "t": None},
    {
        "a": 5,
        "b": "5",
        "c": 2.5,
        "m": ["x", "y"],
        "s": "x z",
        "d": "2024-02-29",
        "d2": "2023-12-31",
        "t": "yes",
        "r": ROWS,
    },
    {"a": 0, "b": 0.0, "c": "0", "m": ["0"], "t": "no", "d": "2024-01-31T10:00", "s": "0"},
    {"a": -3, "b": "-0.50", "c": " +7 ", "t": "TRUE", "m": ["y", "x"], "s": "y x"},
    {"a": "abc", "b": "ABC", "c": "abd", "t": "Ābc", "m": "x", "d": "2024-13-01"},
    {"a": True, "b": False, "c": "1", "t": "false", "m": ["x"]},
    {"a": "١٢", "b": "12", "c": "٣.٥", "t": "٣", "d": "٢٠٢٤-٠١-٠٥"},
    {"a": 0.1, "b": 0.2, "c": 1e16, "t": 0.3},
    {"a": "1" + "0" * 100, "b": "1" + "0" * 99, "c": "0." + "0" * 99 + "1", "t": "1e5"},
    {"a": float("nan"), "b": float("inf"), "c": float("-inf"), "t": "nan"},
    {"a": "2024-01-31", "b": "2023-12-31", "c": "not a date", "d": "2024-02-30", "t": "2024-1-5"},
    {"a": "😀😀x", "b": "é", "c": "e\u0301", "t": "\u00a0 padded \u3000", "m": ["😀", "é"]},
    {"a": 7, "b": 2, "c": -7, "t": 3, "d": "2000-11-22", "d2": "2000-11-23"},
    {"a": "12345678901234567890123456789012", "b": 3, "c": "0.1234567890123456789012345678901"},
    {"a": 2**53 + 1, "b": 10**30, "c": -(10**20), "t": "9" * 28},
    {"r": [{"age": 3}, {"name": "x"}], "age": None, "a": "x y", "m": ["x y"]},
    {"r": [{"age": "12"}, {"age": "x"}, {"age": None}], "m": ["a", "", "b"], "a": 1.5, "b": -0.5},
    {"a": [1, [2, 3]], "b": [{"x": 1}], "c": {"k": "v's"}, "t": "a\nb", "m": [2, 1]},
]

EXPRESSIONS = [
    # comparison, of numbers, text, numbers written as text, dates, choices, booleans
    "${a} = ${b}",
    "${a} != ${b}",
    "${a} < ${b}",
    "${a} <= ${b}",
    "${a} > ${b}",
    "${a} >= ${b}",
    "${a} = ${c}",
    "${b} < ${c}",
    "${c} >= ${t}",
    "${a} = ''",
    "${a} = null",
    "null = ''",
    "${a} != ''",
    "${a} > 0",
    "${a} < 0",
    "${a} = 0",
    "${a} = 5",
    "${a} = '5'",
    "${a} = 5.0",
    "${a} = 'abc'",
    "${a} < 'b'",
    "${t} = 'yes'",
    "${t} = true",
    "${t} = false",
    "${a} = true",
    "${b} = false",
    "true = 'yes'",
    "${a} = ${a}",
    "${c} = 'e'",
    "${m} = 'x'",
    "${m} = 'x y'",
    "${m} = 'y x'",
    "${m} != 'x'",
    "${m} = ${s}",
    "${s} = 'x z'",
    "${m} = ''",
    "${m} > 'a'",
    "${d} = '2024-02-29'",
    "${d} < ${d2}",
    "${d} > '2024-01-01'",
    "${d} = date('2024-02-29')",
    "${d} < today()",
    "${d} >= today()",
    "${d2} <= ${d}",
    "${a} = ${missing}",
    "${missing} = ''",
    "${missing} < 1",
    "${r} = ''",
    "${r} = 'x'",
    # logic and precedence
    "${a} and ${b}",
    "${a} or ${b}",
    "not ${a}",
    "not(${a})",
    "${a} and not ${b} or ${c}",
    "${a} or ${b} and ${c}",
    "(${a} or ${b}) and ${c}",
    "not ${a} = ${b}",
    "not(${a}) = ${b}",
    "${a} = 1 or 1 div 0 > 0",
    "1 + 2 * 3 = 7",
    "(1 + 2) * 3 = 9",
    "2 * 3 + 4 = 10",
    "10 - 4 - 3",
    "64 div 4 div 2",
    "7 mod 4 * 2",
    "- 2 * - 3",
    "-2 < 1 and 3 > 2",
    "1 < 2 = true()",
    # arithmetic: exact decimals, empty sides, division by zero, huge and tiny numbers
    "${a} + ${b}",
    "${a} - ${b}",
    "${a} * ${b}",
    "${a} / ${b}",
    "${a} % ${b}",
    "${a} div ${b}",
    "${a} mod ${b}",
    "${a} div ${c}",
    "${c} mod ${a}",
    "-${a}",
    "+${a}",
    "- - ${a}",
    "-${c}",
    "${a} + ${b} * ${c}",
    "(${a} + ${b}) * ${c}",
    "${a} - ${b} - ${c}",
    "${a} / ${b} / ${c}",
    "${a} + 1 > ${b}",
    "${c} * ${c}",
    "${a} + ${b} = ${c}",
    "${a} * 1",
    "${a} + 0",
    "${a} - ${a}",
    "${t} * 2",
    "1 div 0",
    "1 mod 0",
    "0 div 0",
    "0 div 5",
    "10 div 4",
    "1 div 3",
    "2 div 3",
    "2 div 3 * 3",
    "1 div 3 + 1 div 3 + 1 div 3 = 1",
    "0.1 + 0.2 = 0.3",
    "0.1 + 0.2",
    "1 - 0.9",
    "7 mod -3",
    "-7 mod 3",
    "-7.5 mod 2",
    "10 mod 2.5",
    "99999999999999999999999999999 + 1",
    "1234567890123456789012345678901234 * 1",
    "1234567890123456789012345678901234 + 0",
    "-1234567890123456789012345678901234",
    "1234567890123456789012345678901234",
    "10000000000000000000000000000 mod 3",
    "9999999999999999999999999999 mod 7",
    "1" + "0" * 101,
    "1" + "0" * 101 + " + 0",
    "0." + "0" * 60 + "1 * 0." + "0" * 60 + "1",
    "0." + "0" * 60 + "1 * 0." + "0" * 60 + "1 > 0",
    "concat(0." + "0" * 60 + "1 * 0." + "0" * 60 + "1)",
    "3.0 = 3",
    "'3.0' = '3'",
    "'abc' + 1",
    "true + true",
    "${a} + ''",
    "2.50",
    "0.000001",
    "1 div 8",
    "1e5",
    # functions
    "selected(${m}, 'x')",
    "selected(${m}, 'z')",
    "selected(${s}, 'z')",
    "selected(${a}, ${b})",
    "selected(${a}, 5)",
    "selected(${m}, '')",
    "selected(${m}, 1)",
    "selected(${r}, 'x')",
    "count_selected(${m})",
    "count-selected(${s})",
    "count_selected(${a})",
    "count_selected(${t})",
    "count(${r})",
    "count(${a})",
    "count(${m})",
    "count(${age})",
    "count(${missing})",
    "sum(${age})",
    "sum(${a})",
    "sum(${m})",
    "sum(${missing})",
    "min(${age})",
    "max(${age})",
    "min(${a}, ${b}, ${c})",
    "max(${a}, ${b}, ${c})",
    "min(${t})",
    "max(1, '2', 'x')",
    "max(${m}, ${t})",
    "today()",
    "age(${d})",
    "age(${a})",
    "age('2000-11-22')",
    "age('2000-11-23')",
    "age('2000-02-29')",
    "age(${d2})",
    "if(${a}, 'yes', 'no')",
    "if(${a} > ${b}, ${a}, ${b})",
    "if(${a}, 1 div 0, 2)",
    "if(${a}, ${m}, ${r})",
    "coalesce(${a}, ${b}, 'none')",
    "coalesce(${m}, ${s})",
    "coalesce(${missing}, ${a})",
    "coalesce(${c}, ${t}, ${d})",
    "string-length(${a})",
    "string-length(${t})",
    "string-length(${m})",
    "string-length(${c})",
    "string-length(${r})",
    "regex(${a}, '^[0-9]+$')",
    "regex(${a}, '^\\d+$')",
    "regex(${t}, '^\\w+$')",
    "regex(${a}, 'b')",
    "regex(${a}, '(?i)ABC')",
    "regex(${t}, '\\s')",
    "regex(${a}, '^$')",
    "regex(${a}, '[')",
    "regex(${a}, ${b})",
    "regex(${t}, ${c})",
    "int(${a})",
    "int(${b})",
    "int(${c})",
    "int(-2.7)",
    "int('7.9')",
    "round(${a})",
    "round(${b}, 1)",
    "round(${c}, 2)",
    "round(2.5)",
    "round(-2.5)",
    "round(0.5)",
    "round(1.005, 2)",
    "round(1234.5678, -2)",
    "round(-1250, -2)",
    "round(${a}, ${b})",
    "round(${c}, -12)",
    "round(1, 13)",
    "round(1, 0.5)",
    "round(${missing}, 99)",
    "round(1" + "0" * 30 + ", 2)",
    "concat(${a}, '-', ${b})",
    "concat(${m})",
    "concat(${r})",
    "concat(${c})",
    "concat(${d}, today())",
    "concat(1 div 3)",
    "concat(${t}, true, null)",
    "concat(${a}, ${b}, ${c}, ${t}, ${m})",
    "number(${a})",
    "number(${t})",
    "number('  12 ')",
    "number(${c})",
    "string(${a})",
    "string(${b})",
    "string(${c})",
    "string(1 div 4)",
    "string(${m})",
    "abs(${a})",
    "abs(${c})",
    "abs(-0.5)",
    "abs(-1234567890123456789012345678901234)",
    "date(${d})",
    "date(${a})",
    "date('2024-02-30')",
    "date('2024-02-29T23:59')",
    "date('2024-02-29 x')",
    "date(${d}) = ${d}",
    "true()",
    "false()",
    "not(true())",
    "true() and false()",
    # text that does not parse, or names nothing known: broken on both sides
    "${a} < ${b} < ${c}",
    "",
    "foo",
    "unknown(1)",
    "count(1)",
    "round(1, 2, 3)",
    "${a} =",
    "'unclosed",
    "${a} ${b}",
    "regex(${a}, '(a+)+')",
]

CURRENT_EXPRESSIONS = [
    ". = ''",
    ". > 5",
    ". >= 0 and . <= 120",
    "string-length(.) >= 10",
    "regex(., '^[A-Za-z]{3}[0-9]{2}[0-9A-Za-z]{2}$')",
    ". <= today()",
    ". >= today()",
    "count_selected(.) <= 2",
    "int(.) = .",
    ". + ${a}",
    ". mod 2 = 0",
    "selected(., 'b')",
]

CURRENT_VALUES: list[Any] = [
    None,
    "",
    35,
    "121",
    "-1",
    "2026-11-22",
    "2026-11-23",
    "short",
    "long enough text",
    "ABC1234",
    ["a", "b"],
    ["a", "b", "c"],
    4.5,
    "4",
    "٣",
    "ABC123",
    True,
]


def table() -> list[Case]:
    cases: list[Case] = [(src, env, None) for src in EXPRESSIONS for env in ANSWER_SETS]
    cases += [
        (src, env, current)
        for src in CURRENT_EXPRESSIONS
        for env in ANSWER_SETS[:4]
        for current in CURRENT_VALUES
    ]
    # inside a repeat's row: its own answers first, then the form's
    for row in [*ROWS, {"age": None}, {}]:
        for env in ANSWER_SETS[2:5]:
            inside = scope(env, row)
            for src in ["${age} + ${a}", "${age} <= 13", "${name} = 'Losa'", "count(${r})"]:
                cases.append((src, inside, None))
    return cases


def test_the_table_covers_every_function_and_operator() -> None:
    trees = json.dumps([to_json(src) for src in EXPRESSIONS + CURRENT_EXPRESSIONS])
    for name in [*_FUNCTIONS_IMPL, "if", "coalesce"]:
        assert f'["call", "{name}"' in trees, name
    for op in ["and", "or", "not", "neg", "pos", "=", "!=", "<", "<=", ">", ">="]:
        assert f'["{op}"' in trees, op
    for op in ["+", "-", "*", "/", "%", "cur", "error", "null", "bool"]:
        assert f'["{op}"' in trees, op


def test_every_operator_and_function_means_the_same_in_the_browser() -> None:
    cases = table()
    assert len(cases) > 5000
    assert_agree(cases)


# --- regular expressions: Python's syntax, run by the browser's engine ---------------------------

PATTERNS = [
    r"^[A-Za-z]{3}[0-9]{2}[0-9A-Za-z]{2}$",
    r"^\d+$",
    r"\d{1,9}",
    r"\w+",
    r"^\w+$",
    r"^\s*$",
    r"\s",
    r"\S+",
    r"\D",
    r"\W",
    r"\bcat\b",
    r"\Bat",
    r"^a.c$",
    r"(?s)^a.c$",
    r"(?i)^abc$",
    r"(?i)straße",
    r"(?i)k",
    r"(?m)^b$",
    r"(?a)^\w+$",
    r"(?a)\d",
    r"(?x) a b  # a comment",
    r"^b$",
    r"a$",
    r"\Aab\Z",
    r"[^\d]",
    r"[\W]",
    r"[^\W]",
    r"[\w-]+",
    r"[\s\d]",
    r"[^\s]",
    r"[a\-z]",
    r"[]a]",
    r"[^]a]",
    r"[.]",
    r"x{2,}",
    r"x{,2}$",
    r"^x{2}$",
    r"x{}",
    r"x{a}",
    r"{",
    r"}",
    r"]",
    r"a{2}{3}",
    r"(a)\1",
    r"(?P<n>a)(?P=n)",
    r"(?#comment)a",
    r"(?:ab)+",
    r"(?=a)a",
    r"(?!b)a",
    r"(?<=a)b",
    r"(?<!a)b",
    r"\x41",
    r"\u00e9",
    r"\U0001F600",
    r"\101",
    r"\0",
    r"[\101-\103]",
    r"\t",
    r"\.",
    r"\-",
    r"\/",
    r"\$",
    r"\'",
    r"\q",
    r"\p{L}",
    r"(",
    r")",
    r"a**",
    r"*a",
    r"(a+)+",
    r"(\d*)*",
    r"[a-\d]",
    r"[z-a]",
    r"^\+?[0-9 ]{7,15}$",
    r".+@.+\..+",
    r"^(?:\+64|0)2\d{7,9}$",
    r"\\",
    r"é|😀",
    r"[😀-😂]",
    r"a" * 501,
]

TEXTS = [
    "ABC1234",
    "abc",
    "ABC",
    "a\nb",
    "aXc",
    "a\nc",
    "١٢٣",
    "123",
    "",
    "cat",
    "concat",
    "a cat.",
    "x",
    "xx",
    "xxx",
    "aa",
    "é",
    "😀",
    "A",
    "b\n",
    "a\nb\n",
    "straße",
    "STRASSE",
    "k",
    "\u212a",
    "under_score",
    "a-b",
    "+64 21 555 0100",
    "021 555 0100",
    "me@example.nz",
    "ab",
    " ",
    "\t",
    "\u00a0",
    "\x1c",
    "\ufeff",
    "a]",
    "{",
    "\\",
    "'",
    "नमस्ते",
    "x" * 2001,
]


def test_regular_expressions_match_as_on_the_server() -> None:
    cases: list[Case] = []
    for pattern in PATTERNS:
        for text in TEXTS:
            env = {"t": text, "p": pattern}
            cases.append(("regex(${t}, ${p})", env, None))  # the pattern read from an answer
            if "'" not in pattern:
                cases.append((f"regex(${{t}}, '{pattern}')", env, None))  # written in the form
    assert len(cases) > 6000
    assert_agree(cases)


# What Python's re accepts and the browser's engine cannot do the same way. The browser treats
# such a rule as broken (as the server treats a pattern it cannot compile): the question shows.
NOT_IN_THE_BROWSER = [r"a*+", r"(?>a)b", r"(?i:a)b", r"(?(1)a|b)", r"\N{DIGIT ONE}"]


def test_patterns_the_browser_cannot_run_count_as_broken_there() -> None:
    jobs = [
        {"tree": to_json(f"regex(${{t}}, '{p}')"), "env": {"t": "a"}, "current": None}
        for p in NOT_IN_THE_BROWSER
    ]
    for job in jobs:
        job["today"] = TODAY.isoformat()
    assert [js_outcome(a) for a in run_node(jobs)] == ["error"] * len(NOT_IN_THE_BROWSER)


# --- the real forms ---------------------------------------------------------------------------


def expressions_of(form: FormDefinition) -> list[tuple[str, Field | None, str]]:
    """(kind, field or None for a page, source) of every expression in the form."""
    found: list[tuple[str, Field | None, str]] = []
    for page in form.pages:
        if page.relevant:
            found.append(("relevant", None, page.relevant))
    for f in form.fields.values():
        for kind in ("relevant", "constraint", "calculation"):
            src = getattr(f, kind)
            if src:
                found.append((kind, f, src))
        if isinstance(f.required, str):
            found.append(("required", f, f.required))
    return found


def some_answer(f: Field, rng: random.Random) -> Any:
    """A typed answer to ``f``, or nothing (as the server holds it after normalise)."""
    if rng.random() < 0.2:
        return [] if f.type == "select_multiple" else None
    values = f.choice_values()
    if f.type in ("select_one", "yes_no"):
        return rng.choice(values)
    if f.type == "select_multiple":
        return [v for v in values if rng.random() < 0.4]
    if f.type == "integer":
        return rng.choice([0, 1, 6, 13, 14, 120, 121, -1, 1440, 1441])
    if f.type == "decimal":
        return rng.choice([0.0, 2.5, -1.25, 1e-7])
    if f.type == "date":
        return rng.choice(["2026-11-21", "2026-11-22", "2026-11-23", "1990-05-17", "2008-11-22"])
    if f.type == "phone":
        return "+64215550100"
    return rng.choice(["short", "long enough text", "ABC1234", "abc12", "😀 text", "Ioane"])


def some_answers(form: FormDefinition, rng: random.Random) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for f in form.top_fields():
        if f.is_repeat:
            answers[f.name] = [
                {c.name: some_answer(c, rng) for c in f.children if c.is_input}
                for _row in range(rng.randint(0, 3))
            ]
        elif f.is_input:
            answers[f.name] = some_answer(f, rng)
    return answers


def real_form_cases(form: FormDefinition, rng: random.Random) -> list[Case]:
    cases: list[Case] = []
    for _n in range(60):
        answers = some_answers(form, rng)
        env = validation.evaluate_state(form, answers, today=TODAY).env
        for kind, f, src in expressions_of(form):
            if f is not None and f.parent is not None:
                envs: list[tuple[Mapping[str, Any], Any]] = [
                    (scope(env, row), row.get(f.name)) for row in env.get(f.parent) or []
                ]
            else:
                envs = [(env, answers.get(f.name) if f is not None else None)]
            for where, value in envs:
                current = value if kind == "constraint" else None
                if kind == "constraint" and not value:
                    current = some_answer(f, rng) if f is not None else None
                cases.append((src, where, current))
    return cases


def test_every_expression_of_the_real_forms_means_the_same_in_the_browser() -> None:
    rng = random.Random(20261122)
    forms = all_forms()
    assert {"barrier_assessment", "flag_problem"} <= {f.id for f in forms}
    sources = {src for form in forms for _kind, _f, src in expressions_of(form)}
    assert len(sources) >= 12
    cases = [case for form in forms for case in real_form_cases(form, rng)]
    assert {src for src, _env, _current in cases} == sources  # every one, in use
    assert_agree(cases)


# --- whole forms: typing the answers, calculations, what is shown -----------------------------

LOGIC_FORM = """
id: logic_form
version: "1"
title: {en: Logic}
choice_lists:
  colours:
    - {value: red, label: {en: Red}}
    - {value: blue, label: {en: Blue}}
    - {value: green, label: {en: Green}}
pages:
  - name: first
    title: {en: First}
    fields:
      - {name: kids, type: integer, label: {en: Children}}
      - {name: rent, type: decimal, label: {en: Rent}}
      - {name: born, type: date, label: {en: Born}}
      - {name: colour, type: select_one, choices: colours, label: {en: Colour}}
      - {name: colours, type: select_multiple, choices: colours, label: {en: Colours}}
      - {name: agree, type: yes_no, label: {en: "Agree?"}}
      - {name: nick, type: text, label: {en: Nickname}}
      - {name: mobile, type: phone, label: {en: Mobile}}
      - name: big_family
        type: note
        relevant: "${kids} >= 3 and selected(${colours}, 'red')"
        label: {en: Big family}
      - name: rent_each
        type: calculate
        calculation: "if(${kids} > 0, round(${rent} div (${kids} + 1), 2), ${rent})"
      - name: adult
        type: calculate
        calculation: "age(${born}) >= 18"
      - name: why_not
        type: text
        relevant: "${agree} = 'no' and ${adult}"
        label: {en: "Why not?"}
      - name: reason_more
        type: text
        relevant: "string-length(${why_not}) > 3"
        label: {en: More}
      - name: nick_note
        type: note
        relevant: "regex(${nick}, '^\\\\w+$') and ${nick} != 'none'"
        label: {en: Nice}
  - name: second
    title: {en: Household}
    relevant: "${agree} = 'yes' or ${rent_each} > 100"
    fields:
      - name: people
        type: repeat
        label: {en: People}
        fields:
          - {name: person_age, type: integer, label: {en: Age}}
          - {name: person_colour, type: select_one, choices: colours, label: {en: Colour}}
          - name: school
            type: text
            relevant: "${person_age} >= 5 and ${person_age} < 19 and ${kids} > 0"
            label: {en: School}
          - {name: is_child, type: calculate, calculation: "if(${person_age} < 18, 1, 0)"}
      - {name: children, type: calculate, calculation: "sum(${is_child})"}
      - name: crowded
        type: note
        relevant: "${children} + 2 > 4 or count(${people}) > 3"
        label: {en: Crowded}
  - name: third
    title: {en: Last}
    relevant: "${crowded_flag} = 1"
    fields:
      - {name: crowded_flag, type: calculate, calculation: "if(${children} >= 2, 1, 0)"}
      - {name: late, type: text, relevant: "${blank} = ''", label: {en: Late}}
      - {name: blank, type: text, relevant: "${late} != 'x'", label: {en: Blank}}
"""

RAW_CHOICES: dict[str, list[Any]] = {
    "integer": [None, "3", " 4 ", "٣", "+2", "-1", "abc", "1234567890", "0", "20"],
    "decimal": [None, "150", "1,5", "2.50", "1e3", "abc", "nan", "-0", "1_000", " ٣ "],
    "date": [None, "2000-01-01", "2010-06-30", "20080101", "2008-W01-1", "2020-W53", "2024-W1"]
    + ["2024010599", "2024-02-30", "x"],
    "text": [
        None,
        "",
        "  ",
        "Sam",
        " x ",
        "none",
        "ab c",
        "😀😀😀😀",
        "long answer here",
        "x" * 2001,
    ],
    "phone": [None, "021 555 0100", "abc"],
}


def raw_answer(f: Field, rng: random.Random) -> Any:
    """An answer as the fill page posts it (text, or a list of ticked values)."""
    values = f.choice_values()
    if f.type in ("select_one", "yes_no"):
        return rng.choice([None, *values, "nope"])
    if f.type == "select_multiple":
        return rng.choice([[], [v for v in values if rng.random() < 0.5], ["nope"]])
    return rng.choice(RAW_CHOICES[f.type])


def raw_answers(form: FormDefinition, rng: random.Random) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for f in form.top_fields():
        if f.is_repeat:
            raw[f.name] = [
                {c.name: raw_answer(c, rng) for c in f.children if c.is_input}
                for _row in range(rng.randint(0, 4))
            ]
        elif f.is_input:
            raw[f.name] = raw_answer(f, rng)
    return raw


def all_paths(form: FormDefinition, raw: dict[str, Any]) -> list[str]:
    paths = []
    for f in form.top_fields():
        paths.append(f.name)
        if f.is_repeat:
            for i in range(len(raw.get(f.name) or [])):
                paths.extend(validation.path_of(c, i) for c in f.children)
    return paths


def test_whole_forms_show_and_skip_the_same_questions(tmp_path: Path) -> None:
    path = tmp_path / "logic_form.yaml"
    path.write_text(LOGIC_FORM, encoding="utf-8")
    forms = [load_path(path), *all_forms()]
    rng = random.Random(7)
    runs: list[tuple[FormDefinition, dict[str, Any], list[str]]] = []
    for form in forms:
        for _n in range(150):
            raw = raw_answers(form, rng)
            runs.append((form, raw, all_paths(form, raw)))
    jobs = [
        {"plan": logic(form), "raw": raw, "paths": paths, "today": TODAY.isoformat()}
        for form, raw, paths in runs
    ]
    differ = []
    shown = skipped = 0
    for (form, raw, paths), answer in zip(runs, run_node(jobs), strict=True):
        typed, _errors = validation.normalise(form, raw, "en")
        state = validation.evaluate_state(form, typed, today=TODAY)
        env = {k: v for k, v in state.env.items() if form.fields[k].type != "phone"}
        server = {
            "env": canon(env),
            "pages": sorted(state.relevant_pages),
            "irrelevant": sorted(state.irrelevant),
            "relevant": [
                p for p in paths if state.is_relevant(form.fields[p.split(".")[-1]], _row_of(p))
            ],
        }
        if "crash" in answer or "error" in answer:
            differ.append(f"{form.id} {raw!r}: {answer}")
            continue
        value = answer["value"]
        browser = {
            "env": canon({k: v for k, v in from_js(value["env"]).items() if k in env}),
            "pages": value["pages"],
            "irrelevant": value["irrelevant"],
            "relevant": value["relevant"],
        }
        if server != browser:
            differ.append(f"{form.id} {raw!r}:\n  server  {server}\n  browser {browser}")
        shown += len(server["relevant"])
        skipped += len(paths) - len(server["relevant"])
    assert shown > 1000 and skipped > 1000  # both outcomes well exercised
    assert not differ, f"{len(differ)} of {len(runs)} differ:\n" + "\n".join(differ[:10])


def _row_of(path: str) -> int | None:
    parts = path.split(".")
    return int(parts[1]) if len(parts) == 3 else None


# --- the tree format and the page -------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "tree"),
    [
        ("${a} = 'x'", ["=", ["ref", "a"], ["str", "x"]]),
        ("not(. >= 1.50)", ["not", [">=", ["cur"], ["num", "1.50"]]]),
        ("-${a} div 2 mod 3", ["%", ["/", ["neg", ["ref", "a"]], ["num", "2"]], ["num", "3"]]),
        ("+1 or true() and null", ["or", ["pos", ["num", "1"]], ["and", ["bool", True], ["null"]]]),
        (
            "count-selected(${m}) + sum(${r})",
            ["+", ["call", "count_selected", ["ref", "m"]], ["call", "sum", ["ref", "r"]]],
        ),
        ("0.0000001", ["num", "0.0000001"]),
        ("${a} <", ["error", "The expression ends too early (at character 7)"]),
    ],
)
def test_the_tree_format_is_stable(src: str, tree: list[Any]) -> None:
    assert to_json(src) == tree


def test_the_fill_page_carries_the_parsed_logic_and_the_script(
    client: Client, session: Session, login: Any
) -> None:
    login(factories.user(session, Role.pcw))
    response = client.get("/forms/barrier_assessment/fill?lang=sm")
    assert response.status_code == 200
    page = parse(response.text)
    assert page.find('script[src^="/static/forms/expr.js?v="]').has_attr("defer")
    plan = json.loads(page.find('script#form-logic[type="application/json"]').source())
    assert plan == json.loads(json.dumps(logic(load_form("barrier_assessment"))))
    assert plan["format"] == 1
    practice = next(f for f in plan["fields"] if f["name"] == "practice_name")
    assert practice["relevant"][0] == "or"  # parsed on the server, not text
    assert "household_size" in plan["calculate"]
    static = client.get("/static/forms/expr.js")
    assert static.status_code == 200 and "function state(" in static.text


def test_a_missing_node_fails_rather_than_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(pytest.fail.Exception, match="node is missing"):
        run_node([])


def test_repeat_rows_are_read_as_in_a_chain_map() -> None:
    """The script merges a row over the form's answers; the server chains them: same lookups."""
    env = {"a": 1, "r": ROWS, "age": 99}
    inside = scope(env, ROWS[0])
    assert list(dict(inside)) == list({**env, **ROWS[0]})
    assert dict(inside) == ChainMap(dict(ROWS[0]), env)
