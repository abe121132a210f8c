"""The Prometheus side of ``dashboards/``: config, rules and their unit tests pass promtool.

And every alert has unit tests both firing and not firing, so a new alert without
tests fails here.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

PROMETHEUS = Path(__file__).resolve().parents[2] / "dashboards" / "prometheus"
RULES = PROMETHEUS / "rules" / "netwatch.rules.yml"
UNIT_TESTS = sorted((PROMETHEUS / "tests").glob("*.yml"))

pytestmark = pytest.mark.skipif(shutil.which("promtool") is None, reason="needs promtool")


def promtool(*args: str | Path) -> str:
    done = subprocess.run(["promtool", *map(str, args)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_config_is_valid() -> None:
    out = promtool("check", "config", PROMETHEUS / "prometheus.yml")
    assert "1 rule files found" in out


def test_province_config_is_valid() -> None:
    out = promtool("check", "config", PROMETHEUS / "province.yml")
    assert "province.yml is valid" in out


def test_rules_are_valid() -> None:
    promtool("check", "rules", RULES)


@pytest.mark.parametrize("unit_test", UNIT_TESTS, ids=lambda p: p.name)
def test_rule_unit_tests_pass(unit_test: Path) -> None:
    promtool("test", "rules", unit_test)


def alert_names() -> set[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {rule["alert"] for group in groups for rule in group["rules"] if "alert" in rule}


def test_every_alert_is_tested_firing_and_not_firing() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for path in UNIT_TESTS:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
    names = alert_names()
    assert len(names) >= 8
    assert names - firing == set(), "alerts never tested firing"
    assert names - quiet == set(), "alerts never tested not firing"
