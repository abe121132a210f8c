"""Every dashboard is well formed and is exactly what ``dashboards/build.py`` writes."""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from tests.dashboards.grafana_node import PROVINCE

DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"
FILES = sorted((DASHBOARDS / "grafana").glob("*.json"))
PROMETHEUS = DASHBOARDS / "prometheus"
# The county variable lists the inventory's counties; the province's, every city's counties
# from a federated rule (filtered by the city variable).
COUNTIES = "label_values(netwatch_device_info, county)"
PROVINCE_VARIABLES = {
    "city": "label_values(county:netwatch_online_ratio:weighted, city)",
    "county": 'label_values(county:netwatch_online_ratio:weighted{city=~"$city"}, county)',
}
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
VARIABLE = re.compile(r"\$(?:\{(\w+)(?::\w+)?\}|(\w+))")
GRID = 24
METRIC = re.compile(r"(?<![\w:])(?:[a-z_]+:)?netwatch_[a-z0-9_]+(?::[a-z0-9_]+)?(?![\w:])")


def load_build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dashboards_build", DASHBOARDS / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def strings(value: Any) -> Iterator[str]:
    """Every string anywhere in a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def test_json_is_what_build_py_writes() -> None:
    rendered = load_build().render()
    assert sorted(rendered) == [p.name for p in FILES], "run: python dashboards/build.py"
    for path in FILES:
        assert path.read_text(encoding="utf-8") == rendered[path.name], (
            f"{path.name} differs from build.py's output: run python dashboards/build.py")


def test_the_six_dashboards_have_unique_stable_uids_and_titles() -> None:
    boards = [load(p) for p in FILES]
    uids = [b["uid"] for b in boards]
    assert len(boards) == 6
    assert len(set(uids)) == len(uids)
    assert len({b["title"] for b in boards}) == len(boards)
    for board in boards:
        assert 8 <= len(board["uid"]) <= 40 and board["uid"].startswith("netwatch-")
        assert board["id"] is None
        assert board["schemaVersion"] == 39


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_panels_have_unique_ids_and_fit_the_grid_without_overlap(path: Path) -> None:
    panels = load(path)["panels"]
    ids = [p["id"] for p in panels]
    assert len(set(ids)) == len(ids)
    taken: set[tuple[int, int]] = set()
    for panel in panels:
        pos = panel["gridPos"]
        assert pos["w"] > 0 and pos["h"] > 0 and pos["x"] >= 0 and pos["y"] >= 0, panel["title"]
        assert pos["x"] + pos["w"] <= GRID, f"{panel['title']} is wider than the grid"
        cells = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"])
                 for y in range(pos["y"], pos["y"] + pos["h"])}
        assert not cells & taken, f"{panel['title']} overlaps another panel"
        taken |= cells


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_panel_and_target_uses_the_provisioned_datasource(path: Path) -> None:
    board = load(path)
    assert "${DS_PROMETHEUS}" not in path.read_text(encoding="utf-8")
    assert "__inputs" not in board
    for panel in board["panels"]:
        assert panel["datasource"] == DATASOURCE, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE, panel["title"]
            assert target["expr"].strip(), panel["title"]
    for variable in board["templating"]["list"]:
        assert variable["datasource"] == DATASOURCE


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_county_variable_and_every_variable_used_is_defined(path: Path) -> None:
    board = load(path)
    variables = {v["name"]: v for v in board["templating"]["list"]}
    expected = PROVINCE_VARIABLES if path.stem == PROVINCE else {"county": COUNTIES}
    assert {name: v["query"]["query"] for name, v in variables.items()} == expected
    assert all(v["multi"] and v["includeAll"] and v["allValue"] == ".*"
               for v in variables.values())
    used = {a or b for text in strings(board["panels"]) for a, b in VARIABLE.findall(text)}
    builtin = {name for name in used if name.startswith("__")}
    assert used - builtin <= set(variables), f"undefined: {used - builtin - set(variables)}"
    assert "county" in used


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_names_and_coordinates_come_only_from_info_joins(path: Path) -> None:
    for panel in load(path)["panels"]:
        for target in panel["targets"]:
            expr = target["expr"]
            if re.search(r"\b(name|lat|lon|site)\b", expr):
                assert ("netwatch_device_info" in expr
                        or "netwatch_coverage_point_info" in expr), (panel["title"], expr)


def exported_names() -> set[str]:
    """Every ``"netwatch_…"`` string literal in the package: the families it can export."""
    package = DASHBOARDS.parent / "netwatch"
    return {m for path in package.rglob("*.py")
            for m in re.findall(r'"(netwatch_[a-z0-9_]+)"', path.read_text(encoding="utf-8"))}


def test_every_metric_queried_is_exported_or_recorded() -> None:
    rules = (DASHBOARDS / "prometheus" / "rules" / "netwatch.rules.yml").read_text()
    texts = [text for path in FILES for text in strings(load(path)["panels"])] + [rules]
    queried = {name for text in texts for name in METRIC.findall(text)}
    recorded = set(re.findall(r"record: (\S+)", rules))
    unknown = {n for n in queried if ":" not in n} - exported_names()
    assert unknown == set(), f"not exported by netwatch: {sorted(unknown)}"
    assert {n for n in queried if ":" in n} <= recorded, "a recording rule is missing"


def test_the_county_map_needs_nothing_from_the_internet() -> None:
    """Its base layer is the boundaries file `netwatch maps boundaries` writes into Grafana's
    public maps folder (no tile server, no token); every other layer is the markers."""
    board = load(DASHBOARDS / "grafana" / "netwatch-county.json")
    [geomap] = [p for p in board["panels"] if p["type"] == "geomap"]
    basemap = geomap["options"]["basemap"]
    assert basemap["type"] == "geojson"
    assert basemap["config"]["src"] == "public/maps/netwatch-counties.geojson"
    assert {layer["type"] for layer in geomap["options"]["layers"]} == {"markers"}
    readme = (DASHBOARDS / "README.md").read_text(encoding="utf-8")
    assert "netwatch maps boundaries" in readme and "--tile-url" in readme
    assert not [s for s in strings(board) if s.startswith(("http://", "https://"))]


def recording_rules() -> set[str]:
    groups = yaml.safe_load((PROMETHEUS / "rules" / "netwatch.rules.yml").read_text())["groups"]
    return {rule["record"] for group in groups for rule in group["rules"] if "record" in rule}


def federation_match() -> re.Pattern[str]:
    """The metric names province.yml federates: its match[] selector's ``__name__`` regex
    (Prometheus anchors it at both ends, as ``fullmatch`` does)."""
    config = yaml.safe_load((PROMETHEUS / "province.yml").read_text())
    [job] = config["scrape_configs"]
    assert job["metrics_path"] == "/federate" and job["honor_labels"] is True
    [selector] = job["params"]["match[]"]
    found = re.fullmatch(r'\{__name__=~"(.+)"\}', selector)
    assert found, selector
    return re.compile(found[1])


def test_the_province_federates_the_recording_rules_and_no_raw_series() -> None:
    """Every city:, county:, county_kind: and kind: rule, each already free of `instance`;
    no exported series (per device, per instance) leaves the city."""
    match = federation_match()
    federated = {r for r in recording_rules() if match.fullmatch(r)}
    assert federated == {r for r in recording_rules()
                         if r.split(":")[0] in ("city", "county", "county_kind", "kind")}
    assert {"county_kind:netwatch_online_ratio:avg5m", "county:netwatch_online_ratio:weighted",
            "city:netwatch_online_ratio:weighted", "kind:netwatch_online_target_ratio:max"
            } <= federated
    assert not [n for n in exported_names() if match.fullmatch(n)]
    city = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())["global"]
    assert set(city["external_labels"]) == {"city"}  # what tells the cities apart


def test_the_province_dashboard_reads_only_federated_series_per_city() -> None:
    """Its queries name federated rules only, and keep each series' `city`: county ids
    repeat across cities."""
    match = federation_match()
    board = load(DASHBOARDS / "grafana" / f"{PROVINCE}.json")
    for panel in board["panels"]:
        for target in panel["targets"]:
            names = set(METRIC.findall(target["expr"]))
            assert names and all(match.fullmatch(n) for n in names), (panel["title"], names)
            assert re.search(r"\bby \(city\b", target["expr"]), (panel["title"], target["expr"])
