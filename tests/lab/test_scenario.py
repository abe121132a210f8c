"""Scenario files: one fixture per validation rule, selectors, cascades and expected faults."""

from __future__ import annotations

from pathlib import Path

import pytest

from netwatch.inventory import Inventory, load_inventory
from netwatch.lab.scenario import (
    FLAPPING,
    MAYBE_DEGRADED,
    ScenarioError,
    accepts,
    effective_faults,
    expected_faults,
    load_scenario,
)
from tests.lab.labkit import SECRETS, make_inventory, make_scenario

FIXTURES = Path(__file__).parents[1] / "fixtures" / "scenario"
ALL_FAULTS = ("unreachable, flapping, service_down, sip_silent, rtsp_401, rtsp_503, open_stream, "
              "no_video, video_frozen, video_stops, uplink_down, uplink_slow, snmp_timeout, "
              "rebooted, snmp_errors, degraded, clock_offset")

CASES = [
    ("yaml_syntax", 3, "YAML syntax error: did not find expected ',' or '}'"),
    ("unknown_top_key", 1, "unknown key 'fault' (expected 'faults')"),
    ("faults_not_list", 1, "'faults' must be a list"),
    ("item_not_mapping", 2, "a fault is a mapping like {device: ID, fault: unreachable}"),
    ("missing_fault", 2, f"missing 'fault' (one of {ALL_FAULTS})"),
    ("unknown_fault", 2, f"unknown fault 'rtsp_502' (known: {ALL_FAULTS})"),
    ("unknown_device", 2, "unknown device 'cam-9'"),
    ("unknown_county", 2, "unknown county 'east' (known: north, south)"),
    ("unknown_kind", 2,
     "unknown kind 'router' (known: trunking_site, vc_endpoint, camera, switch)"),
    ("bad_duration", 3,
     'latency: expected a duration like 500ms, 30s, 5m, 2h or 1d, got "350 msec"'),
    ("bad_ratio", 2, 'loss: expected a ratio like 0.98 or 98%, got "five percent"'),
    ("loss_total", 2, "loss: must be below 100% (that is unreachable)"),
    ("degraded_empty", 2, "fault degraded needs a 'latency', a 'loss' and/or 'steps'"),
    ("steps_and_loss", 2, "steps: give the loss as 'loss' or as 'steps', not both (the first "
                          "step is the loss at start)"),
    ("steps_one", 2, 'steps: expected a list of two or more ratios like [0%, 2%, 5%], got "0.05"'),
    ("every_alone", 2, "every: only with 'steps'"),
    ("not_applicable", 2,
     "device sw-1 has no rtsp or video check: fault rtsp_503 does not apply to it"),
    ("unknown_setting", 2, "unknown key 'latency' (a fault takes device, devices, county, kind, "
                           "pick; rtsp_503 settings: none)"),
    ("two_selectors", 2, "choose devices one way: 'device', 'devices' or 'county'/'kind'/'pick', "
                         "not device, county"),
    ("no_selector", 2, "no devices chosen: give 'device', 'devices' or 'county' and/or 'kind'"),
    ("bad_pick", 2, "pick: expected a whole number ≥ 1, got 0"),
    ("pick_too_many", 2, "pick 3 but only 2 devices match county north, kind camera"),
    ("no_match", 2, "no device matches county south, kind switch"),
    ("conflicting", 3, "device cam-2 already has fault open_stream (from line 2)"),
    ("unknown_check", 2, "device cam-1 has no service check 'web' (its service checks: rtsp)"),
    ("duplicate_key", 2, "duplicate key 'fault' (first on line 2)"),
]


@pytest.fixture(scope="module")
def fixture_inventory() -> Inventory:
    return load_inventory(FIXTURES / "inventory.yaml", env=SECRETS)


@pytest.mark.parametrize(("name", "line", "message"), CASES, ids=[c[0] for c in CASES])
def test_invalid_fixture_message(fixture_inventory: Inventory, name: str, line: int,
                                 message: str) -> None:
    """Each invalid fixture gives exactly one problem, as FILE:LINE: message."""
    path = FIXTURES / f"{name}.yaml"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, fixture_inventory)
    assert caught.value.problems == [f"{path}:{line}: {message}"]


def test_every_fixture_has_a_case() -> None:
    """No fixture under tests/fixtures/scenario goes untested."""
    names = {p.stem for p in FIXTURES.glob("*.yaml")} - {"inventory"}
    assert names == {c[0] for c in CASES}


def test_all_problems_reported_together(fixture_inventory: Inventory) -> None:
    """Several bad rules give one line each, in file order."""
    text = "faults:\n  - {device: cam-9, fault: unreachable}\n  - {device: vc-1, fault: nope}\n"
    with pytest.raises(ScenarioError) as caught:
        make_scenario(fixture_inventory, text)
    assert [p.split(": ", 1)[0] for p in caught.value.problems] == [
        "scenario.yaml:2", "scenario.yaml:3"]
    assert str(caught.value).count("\n") == 1


def test_unreadable_file_is_a_problem(fixture_inventory: Inventory, tmp_path: Path) -> None:
    """A missing scenario file is reported in the same FILE:LINE form."""
    with pytest.raises(ScenarioError) as caught:
        load_scenario(tmp_path / "missing.yaml", fixture_inventory)
    assert caught.value.problems[0].startswith(f"{tmp_path / 'missing.yaml'}:1: cannot read")


def test_empty_scenario_breaks_nothing(fixture_inventory: Inventory) -> None:
    """An empty file is a valid scenario in which every device is expected healthy."""
    scenario = make_scenario(fixture_inventory, "")
    assert scenario.faults == {}
    assert set(expected_faults(fixture_inventory, scenario).values()) == {None}


TREE = """\
  - {id: sw-1, kind: switch, county: north, address: 127.104.201.1, name: core,
     snmp_profile: v2, uplink_if: 1}
  - {id: sw-2, kind: switch, county: north, address: 127.104.201.2, name: access,
     parent: sw-1, snmp_profile: v2, uplink_if: 1}
  - {id: ts-1, kind: trunking_site, county: north, address: 127.104.201.3, name: site,
     parent: sw-1, snmp_profile: v3, uplink_if: ge-0/0/1}
  - {id: cam-1, kind: camera, county: north, address: 127.104.201.11, name: c1, parent: sw-2}
  - {id: cam-2, kind: camera, county: north, address: 127.104.201.12, name: c2, parent: sw-2}
  - {id: cam-3, kind: camera, county: south, address: 127.104.201.13, name: c3}
  - {id: cam-4, kind: camera, county: south, address: 127.104.201.14, name: c4}
  - {id: vc-1, kind: vc_endpoint, county: south, address: 127.104.201.21, name: v1}
  - {id: vc-2, kind: vc_endpoint, county: south, address: 127.104.201.22, name: v2}
  - {id: vc-3, kind: vc_endpoint, county: south, address: 127.104.201.23, name: v3}
  - {id: web-1, kind: camera, county: south, address: 127.104.201.31, name: w1,
     checks: [icmp, {probe: http, name: web, port: 8080}, {probe: tcp, name: ctl, port: 8081}]}
"""


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Inventory:
    return make_inventory(tmp_path_factory.mktemp("tree"), TREE)


def test_switch_down_takes_its_subtree(tree: Inventory) -> None:
    """An unreachable switch makes every device below it unreachable, and only those."""
    scenario = make_scenario(tree, "faults:\n  - {device: sw-2, fault: unreachable}\n")
    faults = effective_faults(tree, scenario)
    assert {d: f.kind for d, f in faults.items()} == {
        "sw-2": "unreachable", "cam-1": "unreachable", "cam-2": "unreachable"}
    assert faults["cam-1"].source == "parent sw-2"
    expected = expected_faults(tree, scenario)
    assert [d for d, f in expected.items() if f] == ["sw-2", "cam-1", "cam-2"]


def test_unreachable_root_wins_over_flapping_below(tree: Inventory) -> None:
    """A flapping access switch under a dead core is simply unreachable, children too."""
    scenario = make_scenario(tree, "faults:\n  - {device: sw-2, fault: flapping, period: 5s}\n"
                                   "  - {device: sw-1, fault: unreachable}\n")
    expected = expected_faults(tree, scenario)
    assert set(expected.values()) - {None} == {"unreachable"}
    assert expected["cam-3"] is None


def test_flapping_cascades_with_its_period(tree: Inventory) -> None:
    """Children of a flapping switch flap in step with it and expect the flapping marker."""
    scenario = make_scenario(tree, "faults:\n  - {device: sw-2, fault: flapping, period: 4s}\n")
    faults = effective_faults(tree, scenario)
    assert faults["cam-2"].kind == "flapping" and faults["cam-2"].period == 4.0
    assert expected_faults(tree, scenario)["cam-2"] == FLAPPING
    assert accepts(FLAPPING, None) and accepts(FLAPPING, "unreachable")
    assert not accepts(FLAPPING, "uplink_down")


def test_pick_takes_the_first_in_inventory_order(tree: Inventory) -> None:
    """pick: N selects the first N matching devices, deterministically."""
    scenario = make_scenario(
        tree, "faults:\n  - {county: south, kind: camera, pick: 2, fault: rtsp_503}\n")
    assert list(scenario.faults) == ["cam-3", "cam-4"]


def test_devices_list_selector(tree: Inventory) -> None:
    """devices: [..] gives each listed device the fault with its settings."""
    scenario = make_scenario(
        tree, "faults:\n  - {devices: [ts-1, sw-1], fault: uplink_slow, speed: 100Mbit}\n")
    assert {d: f.speed_bps for d, f in scenario.faults.items()} == {"sw-1": 1e8, "ts-1": 1e8}


EXPECTED = [
    ("{device: cam-3, fault: rtsp_503}", "cam-3", "service_down"),
    ("{device: cam-3, fault: rtsp_401}", "cam-3", None),
    ("{device: cam-3, fault: open_stream}", "cam-3", None),
    ("{device: cam-3, fault: service_down}", "cam-3", "service_down"),
    ("{device: vc-1, fault: sip_silent}", "vc-1", "service_down"),
    ("{device: ts-1, fault: snmp_timeout}", "ts-1", "service_down"),
    ("{device: ts-1, fault: uplink_down}", "ts-1", "uplink_down"),
    ("{device: ts-1, fault: uplink_slow}", "ts-1", "uplink_slow"),
    ("{device: ts-1, fault: uplink_slow, speed: 1Gbit}", "ts-1", None),
    ("{device: ts-1, fault: rebooted, period: 1m}", "ts-1", None),
    ("{device: vc-1, fault: degraded, latency: 350ms}", "vc-1", "degraded_link"),
    ("{device: vc-1, fault: degraded, latency: 200ms}", "vc-1", None),
    ("{device: vc-1, fault: degraded, latency: 2s}", "vc-1", "service_down"),
    ("{device: vc-1, fault: degraded, loss: 20%}", "vc-1", MAYBE_DEGRADED),
    ("{device: cam-3, fault: degraded, latency: 350ms}", "cam-3", None),
    ("{device: vc-1, fault: degraded, steps: [0%, 2%, 5%]}", "vc-1", MAYBE_DEGRADED),
    ("{device: ts-1, fault: snmp_errors}", "ts-1", None),
    ("{device: web-1, fault: service_down, check: web}", "web-1", "service_down"),
    ("{device: web-1, fault: service_down}", "web-1", "service_down"),
    ("{device: cam-4, fault: unreachable}", "cam-4", "unreachable"),
]


@pytest.mark.parametrize(("rule", "device", "fault"), EXPECTED, ids=[e[0] for e in EXPECTED])
def test_expected_fault_per_rule(tree: Inventory, rule: str, device: str,
                                 fault: str | None) -> None:
    """Each fault kind maps to the fault one sweep derives (or none for findings)."""
    scenario = make_scenario(tree, f"faults:\n  - {rule}\n")
    expected = expected_faults(tree, scenario)
    assert expected[device] == fault
    assert all(f is None for d, f in expected.items() if d != device)


def test_service_down_names_the_checks_closed(tree: Inventory) -> None:
    """service_down closes every service check unless 'check' names some."""
    scenario = make_scenario(tree, "faults:\n  - {device: web-1, fault: service_down}\n"
                                   "  - {device: cam-3, fault: service_down, check: [rtsp]}\n")
    assert scenario.faults["web-1"].checks == ("web", "ctl")
    assert scenario.faults["cam-3"].checks == ("rtsp",)


def test_loss_steps_and_error_bursts_take_their_settings(tree: Inventory) -> None:
    """steps start at their first loss and move every ``every`` (30 s unless given);
    snmp_errors adds ``errors`` (10 unless given) every ``period``."""
    scenario = make_scenario(tree, "faults:\n"
                                   "  - {device: vc-1, fault: degraded, steps: [0%, 2%, 5%]}\n"
                                   "  - {device: ts-1, fault: snmp_errors, errors: 7}\n")
    vc, cam = scenario.faults["vc-1"], scenario.faults["ts-1"]
    assert (vc.loss, vc.steps, vc.every) == (0.0, (0.0, 0.02, 0.05), 30.0)
    assert (cam.errors, cam.period) == (7, 10.0)
