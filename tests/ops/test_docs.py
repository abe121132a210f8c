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
# Everything a clone holds that people read: the docs, the code and its comments, the
# configuration, the dashboards, the benchmarks and the tests (this file included).
OWN_TEXT = ["README.md", "docs", "netwatch", "probes", "dashboards", "deploy", "bench", "tests",
            ".ci", "inventory.yaml", "cameras.csv", "pyproject.toml"]
NOT_OURS = {"node_modules", "__pycache__"}  # installed or generated, not written here
# A citation of a document that is not in the repository. Written so that this source
# does not match itself: each name needs a word boundary or "../" that the escapes break.
CITATION = re.compile(r"\bSPEC\b|\b(?:DESIGN|DOMAIN)\.md\b|\.\./shared\b")


def test_links_resolve_inside_the_repository() -> None:
    for doc in [ROOT / "README.md", *DOCS]:
        for target in re.findall(r"\]\(([^)#\s]+)", doc.read_text(encoding="utf-8")):
            assert "://" not in target, f"{doc.name}: external link {target}"
            path = (doc.parent / target).resolve()
            assert path.is_relative_to(ROOT), f"{doc.name}: {target} leaves the repository"
            assert path.exists(), f"{doc.name}: {target} does not exist"


def own_text_files() -> list[Path]:
    """Every text file under ``OWN_TEXT``, skipping hidden, installed and binary ones."""
    found = []
    for name in OWN_TEXT:
        top = ROOT / name
        for path in [top] if top.is_file() else sorted(top.rglob("*")):
            inner = path.relative_to(top).parts[:-1] if path != top else ()
            if (path.is_file() and not NOT_OURS & set(inner)
                    and not any(part.startswith(".") for part in inner)):
                found.append(path)
    return found


def test_nothing_shipped_refers_to_the_internal_contract() -> None:
    """Docs, code, comments and tests send a reader only to what the repository holds: each
    rule is stated on a page of docs/, and that page is what they cite."""
    files = own_text_files()
    assert ROOT / "netwatch" / "cli" / "main.py" in files and Path(__file__) in files
    cited = []
    for path in files:
        data = path.read_bytes()
        if b"\0" in data:
            continue  # binary (the notice images)
        for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            if CITATION.search(line):
                cited.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:80]}")
    assert cited == [], "cite the docs/ page that states the rule:\n" + "\n".join(cited)


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
