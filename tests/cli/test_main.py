"""The ``netwatch`` command end to end: check's exit codes, and probe against the lab."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from netwatch.inventory import DEMO_SECRETS, demo_inventory_path, load_inventory
from netwatch.lab.process import LabProcess
from netwatch.lab.scenario import accepts, expected_faults, load_scenario
from tests.lab.labkit import queue_number

ENV = {**os.environ, **DEMO_SECRETS, "NETWATCH_ALLOWED_NETS": "127.0.0.0/8"}
DEMO_DIR = demo_inventory_path().parent
FIXTURES = Path(__file__).parents[1] / "fixtures" / "inventory"


def netwatch(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "netwatch", *args],
        capture_output=True, text=True, env=env or ENV, timeout=120,
    )


def own_demo(tmp_path: Path) -> Path:
    """The demo city moved from 127.20–23.x.y to this test's own 127.105.x.y."""

    def move(text: str) -> str:
        return re.sub(
            r"127\.(2[0-3])\.(\d+)\.(\d+)",
            lambda m: f"127.105.{(int(m[1]) - 20) * 16 + int(m[2])}.{m[3]}",
            text,
        )

    for name in ("inventory.yaml", "cameras.csv"):
        (tmp_path / name).write_text(move((DEMO_DIR / name).read_text()))
    return tmp_path / "inventory.yaml"


def test_check_counts_the_demo() -> None:
    """`netwatch check` on the demo exits 0 and counts every device."""
    done = netwatch("check", str(demo_inventory_path()))
    assert done.returncode == 0, done.stderr
    inventory = load_inventory(demo_inventory_path(), env=ENV)
    assert f"OK: {len(inventory.devices)} devices" in done.stdout


def test_check_reports_problems_with_exit_2(tmp_path: Path) -> None:
    """An invalid inventory gives one FILE:LINE line per problem, exit 2, and starts nothing."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "city: {name: X, timezone: Asia/Shanghai}\n"
        "counties:\n  - {id: c1, name: 一县, receiving_unit: 一县公安局}\n"
        "devices:\n"
        "  - {id: d1, kind: camera, county: c9, address: 127.105.200.1}\n"
        "  - {id: d1, kind: camera, county: c1, address: 127.105.200.2}\n"
        "  - {id: d2, kind: camera, county: c1, address: not-an-ip}\n"
    )
    done = netwatch("check", str(bad))
    assert done.returncode == 2
    lines = [ln for ln in done.stderr.splitlines() if ln.startswith(f"{bad}:")]
    assert any(re.match(rf"{re.escape(str(bad))}:5: .*county", ln) for ln in lines), lines
    assert any(re.match(rf"{re.escape(str(bad))}:6: .*d1", ln) for ln in lines), lines
    assert any(re.match(rf"{re.escape(str(bad))}:7: .*not-an-ip", ln) for ln in lines), lines


def test_missing_env_secret_is_named_not_shown(tmp_path: Path) -> None:
    """An inventory whose ${ENV} secrets are unset: check names the variable and exits 2.
    (Only the shipped demo city itself gets the demo's secrets set automatically.)"""
    env = {k: v for k, v in ENV.items() if k not in DEMO_SECRETS}
    assert netwatch("check", str(demo_inventory_path()), env=env).returncode == 0
    done = netwatch("check", str(own_demo(tmp_path)), env=env)
    assert done.returncode == 2
    assert "NETWATCH_DEMO_SNMP_COMMUNITY" in done.stderr
    for secret in DEMO_SECRETS.values():
        assert secret not in done.stderr + done.stdout


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("nft"), reason="needs root and nft")
def test_probe_reports_every_scenario_fault(tmp_path: Path) -> None:
    """Against the lab playing the demo scenario, probe reports each broken device with the
    fault the scenario implies and every other device healthy."""
    inventory_path = own_demo(tmp_path)
    scenario_path = DEMO_DIR / "scenario.yaml"
    inventory = load_inventory(inventory_path, env=ENV)
    expected = expected_faults(inventory, load_scenario(scenario_path, inventory))
    table = f"netwatch_lab_cli{os.getpid()}"
    with LabProcess(inventory_path, scenario_path, table=table, env=ENV,
                    extra_args=("--queue", str(queue_number(3)))):
        done = netwatch("probe", str(inventory_path), "--json")
    assert done.returncode == 0, done.stderr
    rows = {row["id"]: row for row in json.loads(done.stdout)}
    assert set(rows) == {d.id for d in inventory.devices}
    wrong = {
        dev: (expected.get(dev), row["fault"], {n: c["reason"] for n, c in row["checks"].items()})
        for dev, row in rows.items()
        if not accepts(expected.get(dev), row["fault"])
    }
    assert not wrong
    broken = [dev for dev, fault in expected.items() if fault]
    assert len(broken) >= 8
    healthy = [row for dev, row in rows.items() if expected.get(dev) is None]
    assert all(row["up"] or row["fault"] is None for row in healthy)
    assert {"open_stream"} <= {f for row in rows.values() for f in row["findings"]}
    first = rows[inventory.devices[0].id]
    assert set(first) >= {"id", "county", "kind", "address", "up", "fault", "checks"}
    assert set(next(iter(first["checks"].values()))) >= {
        "success", "reason", "duration_seconds", "measurements"}


def test_probe_filters_and_unknown_county(tmp_path: Path) -> None:
    """--county and --kind select devices; an unknown county is a usage error, not a sweep."""
    inventory_path = own_demo(tmp_path)
    done = netwatch("probe", str(inventory_path), "--county", "linhe", "--kind", "switch", "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert sorted(r["id"] for r in rows) == ["lh-sw-01", "lh-sw-02", "lh-sw-03", "lh-sw-04"]
    done = netwatch("probe", str(inventory_path), "--county", "atlantis", "--json")
    assert done.returncode == 2
    assert "atlantis" in done.stderr


def test_run_refuses_unknown_counties_and_a_short_lease(tmp_path: Path) -> None:
    """``--counties`` names counties of the inventory; a lease shorter than three renewal
    rounds could lapse between two of them. Both are refused before anything starts."""
    inventory_path = own_demo(tmp_path)
    db = tmp_path / "nw.db"
    done = netwatch("run", str(inventory_path), "--db", str(db), "--counties", "linhe,atlantis")
    assert done.returncode == 2
    assert "unknown county atlantis" in done.stderr and "linhe" in done.stderr
    done = netwatch("run", str(inventory_path), "--db", str(db), "--counties", " , ")
    assert done.returncode == 2 and "no county given" in done.stderr
    done = netwatch("run", str(inventory_path), "--db", str(db), "--lease-ttl", "2")
    assert done.returncode == 2 and "--lease-ttl" in done.stderr
    assert not db.exists()  # refused before the store was opened
