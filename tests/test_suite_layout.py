"""The suite's own shape: helpers live in helper modules, never in another test module, so a
test module can be read, moved or deleted on its own."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_test_module_imports_another_test_module() -> None:
    offenders = sorted(
        f"{path.relative_to(TESTS.parent)} imports {name}"
        for path in TESTS.rglob("*.py")
        for name in _imported_modules(path)
        if name.split(".")[-1].startswith("test_")
    )
    assert offenders == []


def test_the_check_sees_such_an_import(tmp_path: Path) -> None:
    module = tmp_path / "test_example.py"
    module.write_text("from tests.browser.test_forms_fill import choose\n", encoding="utf-8")
    assert _imported_modules(module) == {"tests.browser.test_forms_fill"}
