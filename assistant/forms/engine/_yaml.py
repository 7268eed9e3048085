"""Reading form YAML with line numbers, so every problem can say where it is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class DefinitionError(Exception):
    def __init__(self, path: Path | str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = str(path)
        self.line = line
        self.message = message


class _LineLoader(yaml.SafeLoader):
    """Records each mapping's line (``__line__``) and each key's line (``__lines__``)."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    loader.flatten_mapping(node)
    data: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        data[str(key)] = loader.construct_object(value_node, deep=True)
        lines[str(key)] = key_node.start_mark.line + 1
    data["__line__"] = node.start_mark.line + 1
    data["__lines__"] = lines
    return data


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)  # noqa: S506
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        raise DefinitionError(path, line, f"not valid YAML: {exc.problem}") from exc
    if not isinstance(data, dict):
        raise DefinitionError(path, 1, "a form file must be a mapping")
    return data
