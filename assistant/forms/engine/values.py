"""Reading stored answers back as typed values (shared by exports, FHIR and the dashboard)."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from assistant.forms.engine.definition import NO, YES, Field, FormDefinition
from assistant.forms.engine.expressions import ExpressionError, evaluate, scope, to_bool
from assistant.forms.models import FormSubmission


def load_answers(submission: FormSubmission) -> dict[str, Any]:
    try:
        data = json.loads(submission.answers or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple, dict)):
        return len(value) == 0
    return False


def as_list(value: Any) -> list[str]:
    """A select_multiple answer: a list, or an ODK space-separated string."""
    if is_blank(value):
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if not is_blank(v)]
    return str(value).split()


def as_int(value: Any) -> int | None:
    if isinstance(value, bool) or is_blank(value):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if number != number.to_integral_value():
        return None
    return int(number)


def as_decimal(value: Any) -> int | float | None:
    if isinstance(value, bool) or is_blank(value):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    return int(number) if number == number.to_integral_value() else float(number)


def as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if is_blank(value):
        return None
    text = str(value).strip().lower()
    if text in (YES, "true", "1"):
        return True
    if text in (NO, "false", "0"):
        return False
    return None


def rows(value: Any) -> list[dict[str, Any]]:
    """A repeat group's answer: its instances (dicts) in order."""
    if not isinstance(value, list):
        return []
    return [row for row in value if isinstance(row, dict)]


def display(field: Field, value: Any, lang: str = "en") -> str:
    """A human-readable answer (choice labels in ``lang``), for exports' label columns."""
    if is_blank(value):
        return ""
    if field.type == "yes_no":
        flag = as_bool(value)
        value = str(value) if flag is None else (YES if flag else NO)
    if field.type in ("select_one", "yes_no"):
        choice = field.choice(str(value))
        return choice.text(lang) if choice else str(value)
    if field.type == "select_multiple":
        out = []
        for v in as_list(value):
            choice = field.choice(v)
            out.append(choice.text(lang) if choice else v)
        return "; ".join(out)
    return str(value)


def is_relevant(expr: str | None, env: Any) -> bool:
    if not expr:
        return True
    try:
        return to_bool(evaluate(expr, env))
    except ExpressionError:
        return True


def with_calculations(form: FormDefinition, answers: dict[str, Any]) -> dict[str, Any]:
    """Answers plus any calculated value the stored answers lack (top-level and per row)."""
    env = dict(answers)
    for f in form.top_fields():
        if f.is_repeat:
            out_rows = []
            for row in rows(env.get(f.name)):
                row = dict(row)
                for kid in f.children:
                    if kid.calculation and kid.name not in row:
                        row[kid.name] = safe_evaluate(kid.calculation, scope(env, row))
                out_rows.append(row)
            env[f.name] = out_rows
    for f in form.top_fields():
        if f.calculation and f.name not in env:
            env[f.name] = safe_evaluate(f.calculation, env)
    return env


def safe_evaluate(expr: str, env: Any) -> Any:
    try:
        return evaluate(expr, env)
    except ExpressionError:
        return None
