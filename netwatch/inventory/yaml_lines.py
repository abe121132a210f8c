"""YAML that remembers where things are: mappings and lists carrying their line numbers.

The inventory's messages say ``FILE:LINE``; PyYAML's plain loaders forget lines once
a document is built. This loader builds ``LineMap`` and ``LineList`` objects straight
from the parser's events (libyaml's C parser when present) — no node graph in
between, which is what keeps a 100,000-device YAML list fast and small — records
the line of each mapping, key and list item, and reports duplicate keys instead of
silently keeping the last one.

Aliases are shared, not copied, and every alias is charged the number of nodes it
stands for and the characters of text in them: past ``alias_budget`` nodes or
``alias_chars`` characters in all the document is refused (a "billion laughs" is
a few hundred bytes that stand for 10^9 nodes; a few aliases of one 1 MB string in
a list used as a key would be written out, text and all, when the key is made a
string).
"""

from __future__ import annotations

import gc
from typing import Any

import yaml
from yaml import events as ev
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)

_Parser: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
ALIAS_BUDGET = 100_000  # nodes that aliases may stand for in one document
ALIAS_CHARS = 10_000_000  # characters of text that aliases may stand for in one document
MAX_DEPTH = 64  # mappings and lists inside each other; an inventory needs some six


class LineMap(dict[Any, Any]):
    """A mapping that knows its own line and the line of each key (when not its own)."""

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


class YamlSyntaxError(Exception):
    """The text is not YAML we accept; ``line`` is where the problem is."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


_MERGE = "tag:yaml.org,2002:merge"
_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_SCALARS = {
    "tag:yaml.org,2002:null": "construct_yaml_null",
    "tag:yaml.org,2002:bool": "construct_yaml_bool",
    "tag:yaml.org,2002:int": "construct_yaml_int",
    "tag:yaml.org,2002:float": "construct_yaml_float",
    "tag:yaml.org,2002:timestamp": "construct_yaml_timestamp",
}
_COLLECTIONS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", None, "!"}


class _Builder:
    """Turns one document's events into LineMap/LineList/scalars, charging aliases."""

    def __init__(self, parser: Any, alias_budget: int, alias_chars: int) -> None:
        self.parser = parser
        self.budget = alias_budget
        self.char_budget = alias_chars
        self.spent = self.spent_chars = 0
        self.anchors: dict[str, tuple[Any, int, int]] = {}
        self.open_anchors: set[str] = set()
        self.duplicates: list[tuple[int, str, int]] = []
        self.implicit = yaml.resolver.Resolver.yaml_implicit_resolvers
        self.special_starts = frozenset(self.implicit)  # first characters a resolver claims
        self.constructor = yaml.constructor.SafeConstructor()

    def document(self) -> Any:
        """Build the root value; the loop is flat (no recursion, however deep the nesting).

        Written for speed: a 100,000-device list is some two million events, so the
        container being filled lives in local variables (saved on ``stack`` while a
        child is built) and the common cases are handled inline. ``produced`` counts
        nodes and ``chars`` their scalars' characters, aliases at their full size, so
        an anchor's size is a difference.
        """
        stack: list[tuple[Any, ...]] = []
        get = self.parser.get_event
        scalar, duplicates, anchors = self.scalar, self.duplicates, self.anchors
        special = self.special_starts
        obj: Any = None  # the LineMap or LineList being filled
        is_map = has_key = False
        key: Any = None
        key_line = start = produced = chars = start_chars = 0
        anchor: str | None = None
        merges: list[tuple[int, Any]] | None = None
        while True:
            event = get()
            kind = type(event)
            if kind is ScalarEvent:
                value: Any = event.value
                chars += len(value)
                if value[:1] in special or event.tag is not None:  # else plainly a string
                    value = scalar(event, event.start_mark.line + 1)
                produced += 1
                if event.anchor is not None:
                    anchors[event.anchor] = (value, 1, len(event.value))
                if has_key:
                    if key is not _MERGE_KEY and key not in obj:
                        # a mapping's value, the most common event of all: no line needed
                        has_key = False
                        obj[key] = value
                        if key_line != obj.line:
                            obj.key_lines[key] = key_line
                        continue
                elif is_map and type(value) is str:  # a key, the next most common
                    key, key_line, has_key = value, event.start_mark.line + 1, True
                    continue
                line = event.start_mark.line + 1
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                line = event.start_mark.line + 1
                if event.tag not in _COLLECTIONS:
                    raise YamlSyntaxError(line, f"YAML tag {event.tag} is not supported")
                if len(stack) >= MAX_DEPTH:  # libyaml's cost grows with the square of the depth
                    raise YamlSyntaxError(line, f"YAML nested deeper than {MAX_DEPTH} levels:"
                                                " refused")
                stack.append((obj, is_map, has_key, key, key_line, anchor, start, start_chars,
                              merges))
                is_map = kind is MappingStartEvent
                obj = LineMap(line) if is_map else LineList(line)
                has_key, anchor, merges = False, event.anchor, None
                produced += 1
                start, start_chars = produced, chars
                if anchor is not None:
                    self.open_anchors.add(anchor)
                continue
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                value, line = obj, obj.line
                if merges:
                    self.merge(obj, merges)
                if anchor is not None:
                    self.open_anchors.discard(anchor)
                    anchors[anchor] = (value, produced - start + 1, chars - start_chars)
                (obj, is_map, has_key, key, key_line, anchor, start, start_chars,
                 merges) = stack.pop()
            elif kind is AliasEvent:
                line = event.start_mark.line + 1
                value, size, text = self.alias(event.anchor, line)
                produced += size
                chars += text
            else:  # DocumentEnd and the like cannot come before the root is complete
                line = event.start_mark.line + 1
                raise YamlSyntaxError(line, f"YAML error: unexpected {kind.__name__}")
            if obj is None:
                return value  # the root is complete
            if not is_map:
                obj.append(value)
                obj.item_lines.append(line)
            elif not has_key:
                if (not isinstance(value, int | float | bool | str) and value is not None
                        and value is not _MERGE_KEY):
                    value = str(value)  # dates, lists as keys: keep them hashable, printable
                key, key_line, has_key = value, line, True
            else:
                has_key = False
                if key is _MERGE_KEY:
                    merges = (merges or []) + [(key_line, value)]
                    continue
                if key in obj:
                    duplicates.append((key_line, str(key), obj.line_of(key)))
                    obj.key_lines.pop(key, None)
                obj[key] = value
                if key_line != obj.line:
                    obj.key_lines[key] = key_line

    def merge(self, obj: LineMap, merges: list[tuple[int, Any]]) -> None:
        """``<<: *base`` (or a list of them): keys not given explicitly come from the bases."""
        for line, value in merges:
            bases = value if isinstance(value, LineList) else [value]
            for base in bases:
                if not isinstance(base, LineMap):
                    raise YamlSyntaxError(line, "YAML error: << expects a mapping or a list"
                                                " of mappings")
                for key, item in base.items():
                    if key not in obj:
                        obj[key] = item
                        obj.key_lines[key] = line

    def alias(self, anchor: str, line: int) -> tuple[Any, int, int]:
        """The anchored value, its nodes and characters, charged to the document's budgets."""
        if anchor in self.open_anchors:
            raise YamlSyntaxError(line, f'YAML error: alias "*{anchor}" is inside its own'
                                        " anchor")
        found = self.anchors.get(anchor)
        if found is None:
            raise YamlSyntaxError(line, f'YAML error: found undefined alias "*{anchor}"')
        value, size, chars = found
        self.spent += size
        self.spent_chars += chars
        if self.spent > self.budget:
            raise YamlSyntaxError(line, f"YAML aliases expand to more than {self.budget:,}"
                                        " nodes (an alias bomb?): refused")
        if self.spent_chars > self.char_budget:
            raise YamlSyntaxError(line, f"YAML aliases expand to more than"
                                        f" {self.char_budget:,} characters of text (an alias"
                                        " bomb?): refused")
        return value, size, chars

    def scalar(self, event: ev.ScalarEvent, line: int) -> Any:
        value: str = event.value
        tag = event.tag
        if tag is None or tag == "!":
            if not event.implicit[0]:
                return value  # quoted
            for implicit_tag, regexp in self.implicit.get(value[:1], ()):
                if regexp.match(value):
                    tag = implicit_tag
                    break
            else:
                return value
            if tag == _FLOAT and "_" not in value and ":" not in value and value[-1:].isdigit():
                return float(value)
            if tag == _MERGE:
                return _MERGE_KEY
        if tag == _STR:
            return value
        method = _SCALARS.get(tag)
        if method is None:
            raise YamlSyntaxError(line, f"YAML tag {tag} is not supported")
        if tag == _INT and len(value) > 4300:
            raise YamlSyntaxError(line, f"integer of {len(value):,} digits is too long"
                                        " (at most 4,300)")
        # The stubs let a node hold only the pure-Python Mark; libyaml's parser gives its own.
        node = yaml.ScalarNode(tag, value, event.start_mark, event.end_mark,  # type: ignore[arg-type]
                               event.style)
        try:
            return getattr(self.constructor, method)(node)
        except ValueError:
            return value  # e.g. 2026-13-01: left as text for the reader to report
        except yaml.YAMLError as exc:
            raise YamlSyntaxError(line, f"YAML error: {exc}") from None


class _MergeKey:
    """The ``<<`` key: a marker, never stored."""


_MERGE_KEY: Any = _MergeKey()


def load_yaml(
    text: str, alias_budget: int = ALIAS_BUDGET, alias_chars: int = ALIAS_CHARS
) -> tuple[Any, list[tuple[int, str, int]]]:
    """Parse one YAML document; returns it and the duplicate keys found as (line, key, first)."""
    parser = _Parser(text)
    collecting = gc.isenabled()
    gc.disable()  # every object built stays alive until returned: nothing to collect
    try:
        parser.get_event()  # StreamStart
        if parser.check_event(ev.StreamEndEvent):
            return None, []
        parser.get_event()  # DocumentStart
        builder = _Builder(parser, alias_budget, alias_chars)
        doc = builder.document()
        parser.get_event()  # DocumentEnd
        if not parser.check_event(ev.StreamEndEvent):
            line = parser.peek_event().start_mark.line + 1
            raise YamlSyntaxError(line, "YAML error: expected one document, found another")
        return doc, builder.duplicates
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or str(exc)
        raise YamlSyntaxError(line, f"YAML syntax error: {problem}") from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(1, f"YAML error: {exc}") from None
    finally:
        parser.dispose()
        if collecting:
            gc.enable()
