"""The docs stand alone: links resolve inside the repository, nothing points at the internal
contract, and the reference names every command, metric and endpoint the code has."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import click

from netwatch.cli import main
from netwatch.web.openapi import document

ROOT = Path(__file__).parents[2]
DOCS = sorted((ROOT / "docs").glob("*.md"))
SHIPPED = [ROOT / "README.md", *DOCS, *sorted((ROOT / "deploy").iterdir()),
           ROOT / "dashboards" / "README.md"]


def test_links_resolve_inside_the_repository() -> None:
    for doc in [ROOT / "README.md", *DOCS]:
        for target in re.findall(r"\]\(([^)#\s]+)", doc.read_text(encoding="utf-8")):
            assert "://" not in target, f"{doc.name}: external link {target}"
            path = (doc.parent / target).resolve()
            assert path.is_relative_to(ROOT), f"{doc.name}: {target} leaves the repository"
            assert path.exists(), f"{doc.name}: {target} does not exist"


def test_nothing_shipped_refers_to_the_internal_contract() -> None:
    for path in SHIPPED:
        text = path.read_text(encoding="utf-8")
        assert "SPEC" not in text and "../shared" not in text, path


def test_readme_code_blocks_hold_only_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.count("```") % 2 == 0
    block = text.split("To play and probe the demo by hand:", 1)[1].split("```", 2)[1]
    lines = [ln for ln in block.splitlines()[1:] if ln.strip()]
    assert lines and all(ln.startswith(("netwatch ", "NETWATCH_", "kill ")) for ln in lines)


def commands(group: click.Group, prefix: str = "netwatch") -> list[str]:
    found = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += commands(command, f"{prefix} {name}")
        else:
            found.append(f"{prefix} {name}")
    return found


def test_every_command_is_documented() -> None:
    text = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
    missing = [c for c in commands(main) if f"`{c}" not in text and f"{c} " not in text]
    assert missing == []


def test_every_metric_family_is_documented() -> None:
    text = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    names = set()
    for source in (ROOT / "netwatch").rglob("*.py"):
        names |= set(re.findall(r'FamilySpec\(\s*"(netwatch_\w+)"', source.read_text()))
    assert len(names) > 30
    assert sorted(n for n in names if f"`{n}`" not in text) == []


def test_every_endpoint_is_documented() -> None:
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    paths = [p for p in document("0")["paths"] if not p.startswith(("/static/",
                                                                             "/survey-sw"))]
    assert [p for p in paths if p not in text] == []


def _readme_table() -> ModuleType:
    """``bench/readme_table.py`` (a script, not a package module), loaded from its file."""
    spec = importlib.util.spec_from_file_location("readme_table", ROOT / "bench/readme_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_the_readme_figures_are_the_saved_benchmark_results() -> None:
    """The README's benchmark block is exactly what the saved outputs regenerate: no figure
    typed by hand, none left behind when a result file changes."""
    tables = _readme_table()
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.count(tables.BEGIN) == 1 and text.count(tables.END) == 1
    generated = tables.block(tables.saved())
    assert tables.rewrite(text, generated) == text, \
        "regenerate it: python bench/readme_table.py --write README.md"
    assert "| FAIL |" in generated or "| PASS |" in generated  # the daemon's runs are in it
