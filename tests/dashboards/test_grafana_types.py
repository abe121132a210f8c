"""Every generated dashboard type-checks against @grafana/schema, and a planted mistake fails.

``dashboards/check/typecheck.cjs`` writes each dashboard as TypeScript (every panel
``satisfies`` its own panel type's Options and custom FieldConfig, transformations their
options in @grafana/data, units Grafana's unit ids) and runs the compiler with --strict.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.dashboards.grafana_node import FILES, node
from tests.dashboards.test_structure import load_build


def test_every_dashboard_type_checks() -> None:
    done = node("typecheck.cjs", *map(str, FILES))
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    assert f"{len(FILES)} dashboard(s) type-check" in done.stdout


def panel(board: dict[str, Any], title: str) -> dict[str, Any]:
    return next(p for p in board["panels"] if p["title"] == title)


def _enum(b: dict[str, Any]) -> None:
    panel(b, "Online rate")["options"]["orientation"] = "sideways"


def _unit(b: dict[str, Any]) -> None:
    panel(b, "Online rate")["fieldConfig"]["defaults"]["unit"] = "seconds"


def _override_unit(b: dict[str, Any]) -> None:
    panel(b, "Open faults")["fieldConfig"]["overrides"][1]["properties"][1]["value"] = "secs"


def _property(b: dict[str, Any]) -> None:
    panel(b, "Open faults")["fieldConfig"]["overrides"][0]["properties"][0]["id"] = "displayname"


def _matcher(b: dict[str, Any]) -> None:
    panel(b, "Open faults")["fieldConfig"]["overrides"][0]["matcher"]["id"] = "byname"


def _transformation(b: dict[str, Any]) -> None:
    panel(b, "Open faults")["transformations"][-1]["options"]["sort"][0]["descending"] = True


def _custom(b: dict[str, Any]) -> None:
    panel(b, "Site uplink state")["fieldConfig"]["defaults"]["custom"] = {"lineWidth": "2"}


def _layer(b: dict[str, Any]) -> None:
    panel(b, "Devices and coverage points")["options"]["layers"][0]["location"]["mode"] = "xy"


def _marker_style(b: dict[str, Any]) -> None:
    style = panel(b, "Devices and coverage points")["options"]["layers"][0]["config"]["style"]
    style["colour"] = style.pop("color")


def _boundaries_src(b: dict[str, Any]) -> None:
    config = panel(b, "Devices and coverage points")["options"]["basemap"]["config"]
    config["source"] = config.pop("src")


def _panel_type(b: dict[str, Any]) -> None:
    panel(b, "Open faults")["type"] = "tabel"


PLANTED: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "wrong enum": (_enum, '"sideways"'),
    "unknown unit": (_unit, '"seconds"'),
    "unknown unit in an override": (_override_unit, '"secs"'),
    "unknown override property": (_property, '"displayname"'),
    "unknown field matcher": (_matcher, '"byname"'),
    "unknown transformation option": (_transformation, "descending"),
    "wrong custom field option type": (_custom, "not assignable to type 'number'"),
    "wrong geomap location mode": (_layer, '"xy"'),
    "misspelt marker style": (_marker_style, "'\"colour\"' does not exist"),
    "misspelt boundaries source": (_boundaries_src, "'\"source\"' does not exist"),
    "unknown panel type": (_panel_type, '"tabel"'),
}


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One compiler run over the county dashboard with each mistake planted in its own copy."""
    root = tmp_path_factory.mktemp("planted")
    source = next(p for p in FILES if p.stem == "netwatch-county")
    files = []
    for mistake, (plant, _) in PLANTED.items():
        board = copy.deepcopy(json.loads(source.read_text(encoding="utf-8")))
        plant(board)
        files.append(root / (mistake.replace(" ", "_") + ".json"))
        files[-1].write_text(json.dumps(board), encoding="utf-8")
    done = node("typecheck.cjs", *map(str, files))
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-2000:]
    return done.stdout


@pytest.mark.parametrize("mistake", PLANTED)
def test_a_planted_mistake_fails_the_check(mistake: str, planted_run: str) -> None:
    _, message = PLANTED[mistake]
    blocks = re.split(r"\n(?=\S)", planted_run)  # one per error: "file.ts:line: ..." + detail
    errors = [b for b in blocks if b.startswith(mistake.replace(" ", "_") + ".ts:")]
    assert errors, planted_run[-3000:]
    assert any(message in error for error in errors), errors


def test_the_tile_server_switch_type_checks(tmp_path: Path) -> None:
    """``build.py --tile-url``: an XYZ base layer, the boundaries over it, still Grafana's types."""
    build = load_build()
    assert build.main(["--out", str(tmp_path), "--tile-url",
                       "https://TILE-SERVER/{z}/{x}/{y}.png"]) == 0
    board = json.loads((tmp_path / "netwatch-county.json").read_text(encoding="utf-8"))
    options = panel(board, "Devices and coverage points")["options"]
    assert options["basemap"]["type"] == "xyz"
    assert options["basemap"]["config"]["url"] == "https://TILE-SERVER/{z}/{x}/{y}.png"
    assert [layer["type"] for layer in options["layers"]] == ["geojson", "markers", "markers"]
    done = node("typecheck.cjs", str(tmp_path / "netwatch-county.json"))
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
