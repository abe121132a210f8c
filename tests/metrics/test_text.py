"""The text-format primitives: escaping, numbers, family headers and their checks."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from netwatch.metrics.text import Family, FamilySpec, escape_help, labels, number


@pytest.mark.parametrize(
    ("given", "text"),
    [(1, "1.0"), (0.25, "0.25"), (1e-7, "1e-07"), (1700000000.5, "1700000000.5"),
     (float("nan"), "NaN"), (float("inf"), "+Inf"), (float("-inf"), "-Inf"), (True, "1.0")],
)
def test_numbers_use_the_format_spelling(given: float, text: str) -> None:
    """Values round-trip as Python floats, with NaN and ±Inf spelled as Prometheus wants."""
    assert number(given) == text


def test_label_values_escape_backslash_quote_newline() -> None:
    """Only backslash, double quote and newline are escaped in label values."""
    assert labels((("a", 'x"y\\z\n北'),)) == '{a="x\\"y\\\\z\\n北"}'
    assert labels(()) == ""


def test_help_escapes_backslash_and_newline() -> None:
    """HELP text keeps quotes but escapes backslash and newline."""
    assert escape_help('a "b" \\ c\nd') == 'a "b" \\\\ c\\nd'


def test_family_text_parses_back() -> None:
    """A family's text parses back to the same name, type, help and samples."""
    family = Family(FamilySpec("netwatch_things", "gauge", 'Things "seen"\\now.'))
    family.add(labels((("county", 'east "1"'),)), 2)
    family.add(labels((("county", "west"),)), float("nan"))
    [parsed] = text_string_to_metric_families(family.text())
    assert (parsed.name, parsed.type, parsed.documentation) == (
        "netwatch_things", "gauge", 'Things "seen"\\now.')
    assert [(s.labels, s.value) for s in parsed.samples][0] == ({"county": 'east "1"'}, 2.0)


@pytest.mark.parametrize(
    ("name", "kind", "problem"),
    [("netwatch_runs", "counter", "only counters end in _total"),
     ("netwatch_up_total", "gauge", "only counters end in _total"),
     ("netwatch-up", "gauge", "not a valid metric name"),
     ("netwatch_up", "histogram", "is not one of")],
)
def test_bad_family_specs_are_refused(name: str, kind: str, problem: str) -> None:
    """A family with a bad name, type or counter suffix is refused, naming the family."""
    with pytest.raises(ValueError, match=problem) as caught:
        FamilySpec(name, kind, "help")
    assert name in str(caught.value)
