"""YAML that remembers where things are: mappings and lists carrying their line numbers.

The inventory's messages say ``FILE:LINE``; PyYAML's plain loaders forget lines once
a document is built. This loader (libyaml's C parser when present) builds ``LineMap``
and ``LineList`` objects that keep the line of each mapping, each key and each list
item, and reports duplicate keys instead of silently keeping the last one.
"""

from __future__ import annotations

from typing import Any

import yaml

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LineMap(dict[Any, Any]):
    """A mapping that knows its own line and the line of each key."""

    __slots__ = ("line", "key_lines")

    def __init__(self, line: int = 0) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[Any, int] = {}

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A list that knows its own line and the line of each item."""

    __slots__ = ("line", "item_lines")

    def __init__(self, line: int = 0) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


class _LineLoader(_Base):  # type: ignore[misc]
    """SafeLoader whose mappings and sequences record lines; duplicates go to ``duplicates``."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[int, str, int]] = []  # (line, key, first line)
        self._tags: dict[str, str] = {}

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        """Remember plain scalars' tags: keys and kinds repeat on every device line."""
        if kind is yaml.ScalarNode and implicit[0]:
            tag = self._tags.get(value)
            if tag is None:
                tag = self._tags[value] = super().resolve(kind, value, implicit)
            return tag
        return super().resolve(kind, value, implicit)


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> LineMap:
    loader.flatten_mapping(node)
    result = LineMap(node.start_mark.line + 1)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            key = str(key)  # dates and the like: keep them hashable and printable
        line = key_node.start_mark.line + 1
        if key in result.key_lines:
            loader.duplicates.append((line, str(key), result.key_lines[key]))
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _construct_list(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    result = LineList(node.start_mark.line + 1)
    for item in node.value:
        result.append(loader.construct_object(item, deep=True))
        result.item_lines.append(item.start_mark.line + 1)
    return result


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_list)


class YamlSyntaxError(Exception):
    """The text is not YAML; ``line`` is where the parser gave up."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def load_yaml(text: str) -> tuple[Any, list[tuple[int, str, int]]]:
    """Parse one YAML document; returns it and the duplicate keys found as (line, key, first)."""
    loader = _LineLoader(text)
    try:
        return loader.get_single_data(), loader.duplicates
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or str(exc)
        raise YamlSyntaxError(line, f"YAML syntax error: {problem}") from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(1, f"YAML error: {exc}") from None
    finally:
        loader.dispose()
