"""Problems and the reader that collects them while walking the inventory's mappings.

Validation never stops at the first problem: every reader method records what is
wrong as a ``Problem`` (``FILE:LINE: message``) and returns a default, so one run
reports everything. Places are written ``section.key`` for settings and
``device ID: key`` for entities (a ``where`` ending in ``:`` names an entity).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from netwatch.inventory.units import BadValue, shown
from netwatch.inventory.yaml_lines import LineList, LineMap

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the inventory, where it is."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        # line 0: a place with no line (a JSON file's feature names itself in the message)
        if not self.line:
            return f"{self.file}: {self.message}"
        return f"{self.file}:{self.line}: {self.message}"


class InventoryError(Exception):
    """The inventory is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def join(where: str, key: str) -> str:
    """The place of ``key`` inside ``where``: ``notices.schedule``, ``device X: interval``."""
    if not where:
        return key
    if where.endswith(":"):
        return f"{where} {key}"
    return f"{where}{key}" if key.startswith("[") else f"{where}.{key}"


def say(where: str, message: str) -> str:
    return f"{where.rstrip(':')}: {message}" if where else message


SUGGEST_LIMIT = 5000  # beyond this many candidates difflib costs more than the hint is worth


def suggestion(key: Any, allowed: Collection[str]) -> str:
    """`` (did you mean "x"?)`` for the closest valid name, or nothing."""
    if len(allowed) > SUGGEST_LIMIT:
        return ""
    close = difflib.get_close_matches(str(key), list(allowed), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


class Reader:
    """Collects problems for one file and reads typed values out of its mappings."""

    def __init__(self, file: str, env: Mapping[str, str], problems: list[Problem]) -> None:
        self.file = file
        self.env = env
        self.problems = problems

    def add(self, line: int, message: str, file: str | None = None) -> None:
        self.problems.append(Problem(file or self.file, line, message))

    def mapping(self, value: Any, line: int, where: str) -> LineMap | None:
        """``value`` if it is a mapping; else a problem and None."""
        if isinstance(value, LineMap):
            return value
        if value is not None:
            self.add(line, say(where, f"expected a mapping, got {shown(value)}"))
        return None

    def items(self, value: Any, line: int, where: str) -> LineList:
        """``value`` if it is a list (nothing is an empty list); else a problem."""
        if isinstance(value, LineList):
            return value
        if value is not None:
            self.add(line, say(where, f"expected a list, got {shown(value)}"))
        return LineList(line)

    def keys(
        self, m: LineMap, where: str, allowed: Collection[str], required: Collection[str] = ()
    ) -> None:
        """Report keys ``m`` may not have (with the closest valid one) and keys it lacks."""
        for key in m:
            if key not in allowed:
                hint = suggestion(key, allowed)
                self.add(m.line_of(key), say(where, f'unknown key "{key}"{hint}'))
        for key in required:
            if m.get(key) is None:
                self.add(m.line, say(where, f'missing key "{key}"'))

    def get(
        self, m: LineMap, key: str, where: str, parse: Callable[[Any], T], default: T
    ) -> T:
        """``parse(m[key])``, or ``default`` when absent (null) or wrong (with a problem)."""
        value = m.get(key)
        if value is None:
            return default
        try:
            return parse(value)
        except BadValue as exc:
            self.add(m.line_of(key), say(join(where, key), str(exc)))
            return default

    def need(self, m: LineMap, key: str, where: str, parse: Callable[[Any], T]) -> T | None:
        """Like ``get`` for a required key: a problem when it is absent."""
        if m.get(key) is None:
            self.add(m.line, say(where, f'missing key "{key}"'))
            return None
        return self.get(m, key, where, parse, None)
