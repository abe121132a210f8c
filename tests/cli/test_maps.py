"""``netwatch maps boundaries``: the boundaries as GeoJSON for Grafana, and nothing else."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from click.testing import CliRunner

from netwatch.cli import main
from tests.survey.city import write_city


def run(*args: str) -> tuple[int, str]:
    done = CliRunner().invoke(main, ["maps", "boundaries", *args])
    return done.exit_code, done.output


def test_writes_the_boundaries_readable_by_grafana(tmp_path: Path) -> None:
    inventory = write_city(tmp_path)
    out = tmp_path / "maps" / "netwatch-counties.geojson"
    out.parent.mkdir()
    code, text = run(str(inventory), "--out", str(out))
    assert (code, text) == (0, f"{out}: 2 county boundaries; without a boundary, left out: "
                               "east\n")
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert [f["properties"]["name"] for f in doc["features"]] == ["北区", "南区"]
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert [p.name for p in out.parent.iterdir()] == [out.name]  # no temporary file left
    assert run(str(inventory), "--out", str(out))[0] == 0  # replaced in place


def test_an_unwritable_place_fails_and_a_bad_inventory_is_refused(tmp_path: Path) -> None:
    inventory = write_city(tmp_path)
    code, text = run(str(inventory), "--out", str(tmp_path / "missing" / "x.geojson"))
    assert code == 1 and "cannot write" in text
    bad = tmp_path / "bad.yaml"
    bad.write_text("city: {name: X}\ncounties: []\n", encoding="utf-8")
    code, text = run(str(bad), "--out", str(tmp_path / "x.geojson"))
    assert code == 2 and not (tmp_path / "x.geojson").exists()
