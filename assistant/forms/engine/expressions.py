"""A small, safe expression language for form skip logic, constraints and calculations.

The language follows XLSForm/ODK conventions, parsed by our own tokenizer and Pratt parser
into an AST and evaluated by walking it (never Python ``eval``).

Syntax::

    literals      12  3.5  'text'  "text"  true  false  null
    field refs    ${name}     the current field's value in a constraint: .
    logic         and  or  not
    comparison    =  !=  <  <=  >  >=
    arithmetic    +  -  *  /  %   (unary minus too), parentheses
    functions     selected(${f}, 'v')  count_selected(${f})  count(${repeat})
                  sum(${repeat_field})  today()  age(${date})  if(c, a, b)
                  coalesce(a, b, ...)  string-length(x)  regex(x, 'pattern')  int(x)
                  round(x[, n])  concat(a, ...)  number(x)  string(x)  min(...)  max(...)
                  abs(x)  date(x)

Semantics (as in ODK):

* An unanswered field is *empty* (``None``, ``''`` or an empty list). Empty equals ``''``
  and ``null``; ordering comparisons with an empty side are false; arithmetic with an empty
  side is empty; ``count``/``sum``/``count_selected``/``string-length`` of empty are 0.
* A number compared with a string that reads as a number compares as numbers
  (``'5' = 5``); two strings that both read as numbers compare as numbers; ISO dates compare
  as dates; anything else compares as text.
* ``selected()`` accepts a list of choice values or an ODK space-separated string.
* A repeat group's value in the environment is a list of dicts (one per instance).
  ``${child}`` of a repeat, referenced outside that repeat, yields the list of its values in
  every instance (for ``sum``/``count``/``max``...). Inside an instance, evaluate with
  :func:`scope` so ``${child}`` means this instance's value.
"""

from __future__ import annotations

import re
from collections import ChainMap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from assistant.clock import NZ, utcnow

__all__ = [
    "Binary",
    "Call",
    "Current",
    "Expr",
    "ExpressionError",
    "FieldRef",
    "Literal",
    "Unary",
    "JSON_FORMAT",
    "compile_expression",
    "evaluate",
    "is_empty",
    "parse",
    "references",
    "scope",
    "to_bool",
    "to_json",
    "uses_current",
]

MAX_SOURCE_LENGTH = 4000
MAX_DEPTH = 60
MAX_REGEX_INPUT = 2000
MAX_MAGNITUDE = 100  # numbers beyond 1e100 (or below 1e-100) are treated as not numbers
MAX_NUMBER_TEXT = 120


class ExpressionError(ValueError):
    """A problem in an expression; ``position`` is the 0-based character offset."""

    def __init__(self, message: str, position: int = 0) -> None:
        super().__init__(message, position)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        return f"{self.message} (at character {self.position + 1})"


# --------------------------------------------------------------------------- AST


@dataclass(frozen=True, slots=True)
class Literal:
    value: Any
    position: int = 0


@dataclass(frozen=True, slots=True)
class FieldRef:
    name: str
    position: int = 0


@dataclass(frozen=True, slots=True)
class Current:
    position: int = 0


@dataclass(frozen=True, slots=True)
class Unary:
    op: str
    operand: Expr
    position: int = 0


@dataclass(frozen=True, slots=True)
class Binary:
    op: str
    left: Expr
    right: Expr
    position: int = 0


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Expr, ...]
    position: int = 0


Expr = Literal | FieldRef | Current | Unary | Binary | Call


# --------------------------------------------------------------------------- tokenizer


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # num str ref dot name op ( ) , end
    value: Any
    position: int


_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z][A-Za-z0-9_]*)*")
_FIELD_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_NUMBER_RE = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)")
_OPERATORS = ("<=", ">=", "!=", "=", "<", ">", "+", "-", "*", "/", "%")
_KEYWORDS = {"and", "or", "not", "true", "false", "null", "div", "mod"}


def tokenize(src: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    n = len(src)
    while i < n:
        ch = src[i]
        if ch.isspace():
            i += 1
            continue
        if ch == "$":
            if i + 1 >= n or src[i + 1] != "{":
                raise ExpressionError("Expected '{' after '$' in a field reference", i)
            end = src.find("}", i + 2)
            if end == -1:
                raise ExpressionError("Field reference is not closed with '}'", i)
            name = src[i + 2 : end].strip()
            if not name or not _FIELD_NAME_RE.fullmatch(name):
                raise ExpressionError(f"Invalid field name {name!r}", i)
            tokens.append(Token("ref", name, i))
            i = end + 1
            continue
        if ch in "'\"":
            end = src.find(ch, i + 1)
            if end == -1:
                raise ExpressionError("Text is not closed with a matching quote", i)
            tokens.append(Token("str", src[i + 1 : end], i))
            i = end + 1
            continue
        m = _NUMBER_RE.match(src, i)
        if m and (ch.isdigit() or (ch == "." and m.end() > i + 1)):
            text = m.group(0)
            value: int | Decimal = Decimal(text) if "." in text else int(text)
            tokens.append(Token("num", value, i))
            i = m.end()
            continue
        if ch == ".":
            tokens.append(Token("dot", ".", i))
            i += 1
            continue
        m = _NAME_RE.match(src, i)
        if m:
            tokens.append(Token("name", m.group(0), i))
            i = m.end()
            continue
        if ch in "(),":
            tokens.append(Token(ch, ch, i))
            i += 1
            continue
        if ch == "=" and src.startswith("==", i):
            tokens.append(Token("op", "=", i))
            i += 2
            continue
        for op in _OPERATORS:
            if src.startswith(op, i):
                tokens.append(Token("op", op, i))
                i += len(op)
                break
        else:
            raise ExpressionError(f"Unexpected character {ch!r}", i)
    tokens.append(Token("end", None, n))
    return tokens


# --------------------------------------------------------------------------- parser

# binding powers (higher binds tighter)
_INFIX: dict[str, int] = {
    "or": 10,
    "and": 20,
    "=": 40,
    "!=": 40,
    "<": 40,
    "<=": 40,
    ">": 40,
    ">=": 40,
    "+": 50,
    "-": 50,
    "*": 60,
    "/": 60,
    "%": 60,
    "div": 60,
    "mod": 60,
}
_NOT_BP = 30
_NEG_BP = 70


@dataclass(frozen=True)
class _FunctionSpec:
    min_args: int
    max_args: int | None  # None: any number


FUNCTIONS: dict[str, _FunctionSpec] = {
    "selected": _FunctionSpec(2, 2),
    "count_selected": _FunctionSpec(1, 1),
    "count-selected": _FunctionSpec(1, 1),
    "count": _FunctionSpec(1, 1),
    "sum": _FunctionSpec(1, 1),
    "today": _FunctionSpec(0, 0),
    "age": _FunctionSpec(1, 1),
    "if": _FunctionSpec(3, 3),
    "coalesce": _FunctionSpec(2, None),
    "string-length": _FunctionSpec(1, 1),
    "regex": _FunctionSpec(2, 2),
    "int": _FunctionSpec(1, 1),
    "round": _FunctionSpec(1, 2),
    "concat": _FunctionSpec(1, None),
    "number": _FunctionSpec(1, 1),
    "string": _FunctionSpec(1, 1),
    "min": _FunctionSpec(1, None),
    "max": _FunctionSpec(1, None),
    "abs": _FunctionSpec(1, 1),
    "date": _FunctionSpec(1, 1),
    "true": _FunctionSpec(0, 0),
    "false": _FunctionSpec(0, 0),
    "not": _FunctionSpec(1, 1),
}


class _Parser:
    def __init__(self, src: str) -> None:
        self.src = src
        self.tokens = tokenize(src)
        self.pos = 0
        self.depth = 0

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def expect(self, kind: str, what: str) -> Token:
        tok = self.peek()
        if tok.kind != kind:
            raise ExpressionError(f"Expected {what}, found {_describe(tok)}", tok.position)
        return self.advance()

    def parse(self) -> Expr:
        if self.peek().kind == "end":
            raise ExpressionError("The expression is empty", 0)
        expr = self.expression(0)
        tok = self.peek()
        if tok.kind != "end":
            raise ExpressionError(f"Unexpected {_describe(tok)}", tok.position)
        return expr

    def expression(self, min_bp: int) -> Expr:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError("The expression is nested too deeply", self.peek().position)
        try:
            left = self.prefix()
            while True:
                tok = self.peek()
                op = _infix_op(tok)
                if op is None:
                    if tok.kind in ("num", "str", "ref", "dot", "(") or (
                        tok.kind == "name" and tok.value not in _KEYWORDS
                    ):
                        raise ExpressionError(
                            f"Missing operator before {_describe(tok)}", tok.position
                        )
                    break
                bp = _INFIX[op]
                if bp <= min_bp:
                    break
                self.advance()
                right = self.expression(bp)
                if bp == 40 and isinstance(left, Binary) and _INFIX.get(left.op) == 40:
                    # a < b < c is almost always a mistake; make it explicit
                    raise ExpressionError("Comparisons cannot be chained; use 'and'", tok.position)
                left = Binary(op, left, right, tok.position)
            return left
        finally:
            self.depth -= 1

    def prefix(self) -> Expr:
        tok = self.advance()
        if tok.kind == "num" or tok.kind == "str":
            return Literal(tok.value, tok.position)
        if tok.kind == "ref":
            return FieldRef(tok.value, tok.position)
        if tok.kind == "dot":
            return Current(tok.position)
        if tok.kind == "(":
            inner = self.expression(0)
            self.expect(")", "')'")
            return inner
        if tok.kind == "op" and tok.value == "-":
            return Unary("-", self.expression(_NEG_BP), tok.position)
        if tok.kind == "op" and tok.value == "+":
            return Unary("+", self.expression(_NEG_BP), tok.position)
        if tok.kind == "name":
            name = tok.value
            if self.peek().kind == "(":
                return self.call(tok)
            if name == "not":
                return Unary("not", self.expression(_NOT_BP), tok.position)
            if name == "true":
                return Literal(True, tok.position)
            if name == "false":
                return Literal(False, tok.position)
            if name == "null":
                return Literal(None, tok.position)
            raise ExpressionError(
                f"Unknown name {name!r}; write field references as ${{{name}}}", tok.position
            )
        if tok.kind == "end":
            raise ExpressionError("The expression ends too early", tok.position)
        raise ExpressionError(f"Unexpected {_describe(tok)}", tok.position)

    def call(self, name_tok: Token) -> Expr:
        name = name_tok.value
        spec = FUNCTIONS.get(name)
        if spec is None:
            raise ExpressionError(f"Unknown function {name}()", name_tok.position)
        self.expect("(", "'('")
        args: list[Expr] = []
        if self.peek().kind != ")":
            while True:
                args.append(self.expression(0))
                if self.peek().kind == ",":
                    self.advance()
                    continue
                break
        self.expect(")", "')' or ','")
        if len(args) < spec.min_args or (spec.max_args is not None and len(args) > spec.max_args):
            raise ExpressionError(
                f"{name}() takes {_arity_text(spec)}, given {len(args)}", name_tok.position
            )
        canonical = "count_selected" if name == "count-selected" else name
        if canonical == "true":
            return Literal(True, name_tok.position)
        if canonical == "false":
            return Literal(False, name_tok.position)
        if canonical == "not":
            return Unary("not", args[0], name_tok.position)
        if canonical == "regex" and isinstance(args[1], Literal):
            _compile_regex(str(args[1].value), args[1].position)
        if canonical in ("count", "sum") and not isinstance(args[0], FieldRef):
            raise ExpressionError(f"{canonical}() needs a field reference", args[0].position)
        return Call(canonical, tuple(args), name_tok.position)


def _infix_op(tok: Token) -> str | None:
    if tok.kind == "op" and tok.value in _INFIX:
        return str(tok.value)
    if tok.kind == "name" and tok.value in ("and", "or", "div", "mod"):
        word = str(tok.value)
        return {"div": "/", "mod": "%"}.get(word, word)
    return None


def _arity_text(spec: _FunctionSpec) -> str:
    if spec.max_args is None:
        return f"at least {spec.min_args} arguments"
    if spec.min_args == spec.max_args:
        return f"{spec.min_args} argument{'s' if spec.min_args != 1 else ''}"
    return f"{spec.min_args} to {spec.max_args} arguments"


def _describe(tok: Token) -> str:
    if tok.kind == "end":
        return "the end of the expression"
    if tok.kind == "ref":
        return f"${{{tok.value}}}"
    if tok.kind == "str":
        return f"text {tok.value!r}"
    return repr(str(tok.value))


def parse(src: str) -> Expr:
    """Parse ``src`` into an AST, raising :class:`ExpressionError` with a position."""
    if not isinstance(src, str):
        raise ExpressionError("An expression must be text", 0)
    if len(src) > MAX_SOURCE_LENGTH:
        raise ExpressionError("The expression is too long", MAX_SOURCE_LENGTH)
    return _Parser(src).parse()


@lru_cache(maxsize=2048)
def compile_expression(src: str) -> Expr:
    """:func:`parse`, cached by source text (ASTs are immutable)."""
    return parse(src)


def references(expr: Expr | str) -> set[str]:
    """Names of every field the expression reads (for dependency and cycle checks)."""
    if isinstance(expr, str):
        expr = compile_expression(expr)
    found: set[str] = set()
    _walk_refs(expr, found)
    return found


def _walk_refs(expr: Expr, found: set[str]) -> None:
    if isinstance(expr, FieldRef):
        found.add(expr.name)
    elif isinstance(expr, Unary):
        _walk_refs(expr.operand, found)
    elif isinstance(expr, Binary):
        _walk_refs(expr.left, found)
        _walk_refs(expr.right, found)
    elif isinstance(expr, Call):
        for arg in expr.args:
            _walk_refs(arg, found)


def uses_current(expr: Expr | str) -> bool:
    """Whether the expression uses ``.`` (the current field's value)."""
    if isinstance(expr, str):
        expr = compile_expression(expr)
    if isinstance(expr, Current):
        return True
    if isinstance(expr, Unary):
        return uses_current(expr.operand)
    if isinstance(expr, Binary):
        return uses_current(expr.left) or uses_current(expr.right)
    if isinstance(expr, Call):
        return any(uses_current(a) for a in expr.args)
    return False


# --------------------------------------------------------------------------- JSON form

JSON_FORMAT = 1
"""The version of :func:`to_json`'s trees; a change that an older reader would misread bumps it."""

_UNARY_JSON = {"not": "not", "-": "neg", "+": "pos"}


def to_json(expr: Expr | str) -> list[Any]:
    """The expression as a small JSON tree, for evaluators elsewhere (the fill page's script).

    Format 1: every node is a list whose first item names it::

        ["num", "12.50"]        a number: exact decimal text (digits, maybe a point), never a float
        ["str", "text"]  ["bool", true]  ["null"]
        ["ref", "name"]         ${name}
        ["cur"]                 . (the value a constraint checks)
        ["not", x]  ["neg", x]  ["pos", x]
        [op, left, right]       op: and or = != < <= > >= + - * / %  (div and mod come as / and %)
        ["call", name, arg...]  name as in FUNCTIONS (count-selected comes as count_selected;
                                true(), false() and not() come as bool and not nodes)
        ["error", message]      text that does not parse: evaluating it fails, as here

    Positions are left out. Text is parsed first (a parse error gives the error node)."""
    if isinstance(expr, str):
        try:
            expr = compile_expression(expr)
        except ExpressionError as exc:
            return ["error", str(exc)]
    if isinstance(expr, Literal):
        value = expr.value
        if value is None:
            return ["null"]
        if isinstance(value, bool):
            return ["bool", value]
        if isinstance(value, int):
            return ["num", str(value)]
        if isinstance(value, Decimal):
            return ["num", format(value, "f")]
        return ["str", str(value)]
    if isinstance(expr, FieldRef):
        return ["ref", expr.name]
    if isinstance(expr, Current):
        return ["cur"]
    if isinstance(expr, Unary):
        return [_UNARY_JSON[expr.op], to_json(expr.operand)]
    if isinstance(expr, Binary):
        return [expr.op, to_json(expr.left), to_json(expr.right)]
    return ["call", expr.name, *(to_json(a) for a in expr.args)]


@lru_cache(maxsize=256)
def _compile_regex_cached(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


# A group that repeats and holds something that itself repeats, e.g. (a+)+ or (\d*)*: such
# patterns can take exponential time on some answers (ReDoS), so they are refused.
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*(?:[+*]|\{\d*,\d*\})\)(?:[+*]|\{\d*,)")


def _compile_regex(pattern: str, position: int) -> re.Pattern[str]:
    if len(pattern) > 500:
        raise ExpressionError("The regular expression is too long", position)
    if _NESTED_QUANTIFIER.search(pattern):
        raise ExpressionError(
            "The regular expression repeats a group that itself repeats, which can be very slow",
            position,
        )
    try:
        return _compile_regex_cached(pattern)
    except re.error as exc:
        raise ExpressionError(f"Invalid regular expression: {exc.msg}", position) from None


# --------------------------------------------------------------------------- values

CURRENT_KEY = "."


def scope(env: Mapping[str, Any], instance: Mapping[str, Any]) -> Mapping[str, Any]:
    """The environment inside one repeat instance: its own fields first, then the form's."""
    return ChainMap(dict(instance), dict(env))


def is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, (list, tuple, set, frozenset)):
        return len(value) == 0
    return False


def to_bool(value: Any) -> bool:
    """Truthiness as in XPath: empty, 0, false are false; text is true when non-empty."""
    if is_empty(value):
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, Decimal, float)):
        return value != 0
    return True


def _to_number(value: Any) -> Decimal | None:
    """A number, or None when the value is empty, not numeric, or absurdly large or small."""
    number = _raw_number(value)
    if number is None or not number.is_finite():
        return None
    if number and abs(number.adjusted()) > MAX_MAGNITUDE:
        return None
    return number


def _raw_number(value: Any) -> Decimal | None:
    if value is None or isinstance(value, (list, tuple, set, frozenset, dict)):
        return None
    if isinstance(value, bool):
        return Decimal(1 if value else 0)
    if isinstance(value, int):
        if value.bit_length() > 4 * MAX_MAGNITUDE:
            return None
        return Decimal(value)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        return Decimal(repr(value))
    if isinstance(value, str):
        text = value.strip()
        if not text or len(text) > MAX_NUMBER_TEXT or not _NUMERIC_TEXT.fullmatch(text):
            return None
        try:
            return Decimal(text)
        except InvalidOperation:
            return None
    return None


_NUMERIC_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _to_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if _ISO_DATE.fullmatch(text[:10]) and (len(text) == 10 or text[10] in "T "):
            try:
                return date.fromisoformat(text[:10])
            except ValueError:
                return None
    return None


def _to_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, set, frozenset)):
        return " ".join(_to_text(v) for v in value)
    if isinstance(value, Decimal):
        out = _normalise(value)
        return str(out) if isinstance(out, int) else format(value.normalize(), "f")
    if isinstance(value, float):
        return _to_text(_to_number(value))
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def _choices(value: Any) -> list[str]:
    if is_empty(value):
        return []
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_to_text(v) for v in value if not is_empty(v)]
    return _to_text(value).split()


def _normalise(value: Any) -> Any:
    """Decimals leave the evaluator as int when whole, else float."""
    if isinstance(value, Decimal):
        if not value.is_finite() or (value and abs(value.adjusted()) > MAX_MAGNITUDE):
            return None
        if value == value.to_integral_value():
            return int(value)
        return float(value)
    return value


_YES = {"true", "yes", "1"}
_NO = {"false", "no", "0"}


def _equals(left: Any, right: Any) -> bool:
    if is_empty(left) or is_empty(right):
        return is_empty(left) and is_empty(right)
    if isinstance(left, bool) or isinstance(right, bool):
        other = right if isinstance(left, bool) else left
        flag = left if isinstance(left, bool) else right
        if isinstance(other, bool):
            return bool(left == right)
        text = _to_text(other).strip().lower()
        return (flag and text in _YES) or (not flag and text in _NO)
    ln, rn = _to_number(left), _to_number(right)
    if ln is not None and rn is not None:
        return ln == rn
    ld, rd = _to_date(left), _to_date(right)
    if ld is not None and rd is not None:
        return ld == rd
    if isinstance(left, (list, tuple, set, frozenset)) or isinstance(
        right, (list, tuple, set, frozenset)
    ):
        return sorted(_choices(left)) == sorted(_choices(right))
    return _to_text(left) == _to_text(right)


def _order(op: str, left: Any, right: Any) -> bool:
    if is_empty(left) or is_empty(right):
        return False
    ln, rn = _to_number(left), _to_number(right)
    a: Any
    b: Any
    if ln is not None and rn is not None:
        a, b = ln, rn
    else:
        ld, rd = _to_date(left), _to_date(right)
        if ld is not None and rd is not None:
            a, b = ld, rd
        elif ln is not None or rn is not None:
            return False  # a number against non-numeric text: never ordered (NaN)
        else:
            a, b = _to_text(left), _to_text(right)
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


def _arith(op: str, left: Any, right: Any) -> Decimal | None:
    a, b = _to_number(left), _to_number(right)
    if a is None or b is None:
        return None
    try:
        return _arith_numbers(op, a, b)
    except ArithmeticError:  # overflow, or a result Decimal cannot hold: no number (NaN)
        return None


def _arith_numbers(op: str, a: Decimal, b: Decimal) -> Decimal | None:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:
        return None
    if op == "/":
        return a / b
    # % keeps the sign of the dividend, as in XPath's mod
    return a % b


# --------------------------------------------------------------------------- evaluator


class _Evaluator:
    def __init__(self, env: Mapping[str, Any], today: date | None) -> None:
        self.env = env
        self._today = today

    @property
    def today(self) -> date:
        """Today in New Zealand, worked out only when an expression asks for it."""
        if self._today is None:
            self._today = utcnow().astimezone(NZ).date()
        return self._today

    def lookup(self, name: str, position: int) -> Any:
        env = self.env
        if name in env:
            return env[name]
        # a child of a repeat group, referenced from outside it: every instance's value
        for value in env.values():
            if (
                isinstance(value, list)
                and value
                and all(isinstance(v, Mapping) for v in value)
                and any(name in v for v in value)
            ):
                return [v.get(name) for v in value]
        return None

    def eval(self, expr: Expr) -> Any:
        if isinstance(expr, Literal):
            return expr.value
        if isinstance(expr, FieldRef):
            return self.lookup(expr.name, expr.position)
        if isinstance(expr, Current):
            return self.env.get(CURRENT_KEY)
        if isinstance(expr, Unary):
            if expr.op == "not":
                return not to_bool(self.eval(expr.operand))
            number = _to_number(self.eval(expr.operand))
            if number is None:
                return None
            return -number if expr.op == "-" else number
        if isinstance(expr, Binary):
            op = expr.op
            if op == "and":
                return to_bool(self.eval(expr.left)) and to_bool(self.eval(expr.right))
            if op == "or":
                return to_bool(self.eval(expr.left)) or to_bool(self.eval(expr.right))
            left = self.eval(expr.left)
            right = self.eval(expr.right)
            if op == "=":
                return _equals(left, right)
            if op == "!=":
                return not _equals(left, right)
            if op in ("<", "<=", ">", ">="):
                return _order(op, left, right)
            return _arith(op, left, right)
        return self.call(expr)

    def call(self, expr: Call) -> Any:
        name = expr.name
        args = expr.args
        if name == "if":
            return self.eval(args[1]) if to_bool(self.eval(args[0])) else self.eval(args[2])
        if name == "coalesce":
            for arg in args:
                value = self.eval(arg)
                if not is_empty(value):
                    return value
            return None
        handler = _FUNCTIONS_IMPL[name]
        values = [self.eval(a) for a in args]
        try:
            return handler(self, values, expr)
        except ArithmeticError:  # e.g. round() of a number too long to hold: no number
            return None


def _fn_selected(ev: _Evaluator, args: list[Any], expr: Call) -> Any:
    return _to_text(args[1]) in _choices(args[0])


def _fn_count_selected(ev: _Evaluator, args: list[Any], expr: Call) -> Any:
    return len(_choices(args[0]))


def _fn_count(ev: _Evaluator, args: list[Any], expr: Call) -> Any:
    value = args[0]
    if is_empty(value):
        return 0
    if isinstance(value, (list, tuple)):
        return len(value)
    return 1


def _flatten_numbers(values: Sequence[Any]) -> list[Decimal]:
    numbers: list[Decimal] = []
    for value in values:
        items = value if isinstance(value, (list, tuple)) else [value]
        for item in items:
            number = _to_number(item)
            if number is not None:
                numbers.append(number)
    return numbers


def _fn_sum(ev: _Evaluator, args: list[Any], expr: Call) -> Any:
    return sum(_flatten_numbers(args), Decimal(0))


def _fn_min(ev: _Evaluator, args: list[Any], expr: Call) -> Any:
    numbers = _flatten_numbers(args)
    return min(numbers) if numbers else None


def _fn_max(ev: _Evaluator, args: list[Any], expr: Call) -> Any:
    numbers = _flatten_numbers(args)
    return max(numbers) if numbers else None


def _fn_today(ev: _Evaluator, args: list[Any], expr: Call) -> Any:
    return ev.today


def _fn_age(ev: _Evaluator, args: list[Any], expr: Call) -> Any:
    born = _to_date(args[0])
    if born is None:
        return None
    today = ev.today
    years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return years


def _fn_date(ev: _Evaluator, args: list[Any], expr: Call) -> Any:
    return _to_date(args[0])


def _fn_string_length(ev: _Evaluator, args: list[Any], expr: Call) -> Any:
    return len(_to_text(args[0]))


def _fn_regex(ev: _Evaluator, args: list[Any], expr: Call) -> Any:
    text = _to_text(args[0])
    if len(text) > MAX_REGEX_INPUT:
        return False
    pattern = _compile_regex(_to_text(args[1]), expr.args[1].position)
    return pattern.search(text) is not None


def _fn_int(ev: _Evaluator, args: list[Any], expr: Call) -> Any:
    number = _to_number(args[0])
    if number is None:
        return None
    return number.to_integral_value(rounding=ROUND_DOWN)


def _fn_round(ev: _Evaluator, args: list[Any], expr: Call) -> Any:
    number = _to_number(args[0])
    if number is None:
        return None
    places = 0
    if len(args) > 1:
        digits = _to_number(args[1])
        if digits is None or digits != digits.to_integral_value() or not -12 <= digits <= 12:
            raise ExpressionError(
                "round() needs a whole number of places between -12 and 12",
                expr.args[1].position,
            )
        places = int(digits)
    quantum = Decimal(1).scaleb(-places)
    return (
        number.quantize(quantum, rounding=ROUND_HALF_UP)
        if places >= 0
        else ((number / quantum).quantize(Decimal(1), rounding=ROUND_HALF_UP) * quantum)
    )


def _fn_concat(ev: _Evaluator, args: list[Any], expr: Call) -> Any:
    return "".join(_to_text(a) for a in args)


def _fn_number(ev: _Evaluator, args: list[Any], expr: Call) -> Any:
    return _to_number(args[0])


def _fn_string(ev: _Evaluator, args: list[Any], expr: Call) -> Any:
    return _to_text(args[0])


def _fn_abs(ev: _Evaluator, args: list[Any], expr: Call) -> Any:
    number = _to_number(args[0])
    return None if number is None else abs(number)


_FUNCTIONS_IMPL: dict[str, Callable[[_Evaluator, list[Any], Call], Any]] = {
    "selected": _fn_selected,
    "count_selected": _fn_count_selected,
    "count": _fn_count,
    "sum": _fn_sum,
    "min": _fn_min,
    "max": _fn_max,
    "today": _fn_today,
    "age": _fn_age,
    "date": _fn_date,
    "string-length": _fn_string_length,
    "regex": _fn_regex,
    "int": _fn_int,
    "round": _fn_round,
    "concat": _fn_concat,
    "number": _fn_number,
    "string": _fn_string,
    "abs": _fn_abs,
}


def evaluate(
    expr: Expr | str,
    env: Mapping[str, Any],
    *,
    current: Any = None,
    today: date | None = None,
) -> Any:
    """Evaluate ``expr`` against ``env`` (field name -> answer).

    ``current`` is the value of ``.`` (the field being checked by a constraint); it may also
    be given as ``env["."]``. ``today`` defaults to the date in New Zealand. Numbers come
    back as ``int`` when whole, else ``float``; comparisons and logic as ``bool``; an
    empty result as ``None``.
    """
    if isinstance(expr, str):
        expr = compile_expression(expr)
    if current is not None:
        env = ChainMap({CURRENT_KEY: current}, dict(env))
    return _normalise(_Evaluator(env, today).eval(expr))
