"""The county map's markers, painted by @grafana/data from answers framed as Grafana frames them.

Small hand-written answers (the live test runs the same check on a real Prometheus): a
device up, a device down, a blind and an unsurveyed coverage point. Without a field the
layers' colour names, the geomap falls back to its fixed green (issue 15).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.dashboards.grafana_node import dashboards, panel_report

BOARD = "netwatch-county"
MAP = "Devices and coverage points"


def device(name: str, up: str) -> dict[str, Any]:
    return {"metric": {"county": "linhe", "kind": "camera", "device": name, "name": name,
                       "site": "s", "lat": "40.75", "lon": "107.4"}, "value": [1.7e9, up]}


def point(name: str, code: str) -> dict[str, Any]:
    return {"metric": {"county": "linhe", "point": name, "name": name, "technology": "pdt",
                       "lat": "40.7", "lon": "107.3"}, "value": [1.7e9, code]}


def vector(*series: dict[str, Any]) -> dict[str, Any]:
    return {"resultType": "vector", "result": list(series)}


def county_map(answers: dict[str, dict[str, Any]], tmp: Path) -> dict[str, Any]:
    board = dashboards()[BOARD]
    geomap = next(p for p in board["panels"] if p["title"] == MAP)
    only = {**board, "panels": [geomap]}
    return panel_report({BOARD: only}, {BOARD: {geomap["id"]: answers}}, tmp)


def colours(report: dict[str, Any], layer: str, key: str) -> dict[str, str]:
    names = {hex_: name for name, hex_ in report["palette"].items()}
    return {m["row"][key]: names.get(m["color"], m["color"]) for m in report["markers"]
            if m["layer"] == layer}


def test_down_devices_and_blind_points_are_red(tmp_path: Path) -> None:
    report = county_map({"A": vector(device("cam-up", "1"), device("cam-down", "0")),
                         "B": vector(point("p-blind", "1"), point("p-none", "0"),
                                     point("p-good", "4"))}, tmp_path)
    assert [p["missing"] for p in report["panels"]] == [[]]
    assert colours(report, "Devices", "device") == {"cam-up": "green", "cam-down": "red"}
    assert colours(report, "Coverage points", "point") == {
        "p-blind": "red", "p-none": "gray", "p-good": "green"}
    assert {(m["lat"], m["lon"]) for m in report["markers"]} == {(40.75, 107.4), (40.7, 107.3)}


def test_one_query_answering_still_colours_its_layer(tmp_path: Path) -> None:
    """With only one table query answering, Grafana calls its column plain ``Value``."""
    report = county_map({"A": vector(device("cam-down", "0")), "B": vector()}, tmp_path)
    assert colours(report, "Devices", "device") == {"cam-down": "red"}
