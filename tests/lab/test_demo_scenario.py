"""The shipped demo scenario: valid for the demo city, every fault kind, every county hit."""

from __future__ import annotations

from collections import Counter

import pytest

from netwatch.inventory import DEMO_SECRETS, Inventory, demo_inventory_path, load_inventory
from netwatch.lab.scenario import FAULTS, effective_faults, expected_faults, load_scenario

DEMO_SCENARIO = demo_inventory_path().with_name("scenario.yaml")


@pytest.fixture(scope="module")
def demo() -> Inventory:
    return load_inventory(demo_inventory_path(), env=DEMO_SECRETS)


def test_demo_scenario_covers_every_fault_kind(demo: Inventory) -> None:
    """Every fault kind the lab knows is played somewhere in the demo."""
    scenario = load_scenario(DEMO_SCENARIO, demo)
    assert {f.kind for f in scenario.faults.values()} == set(FAULTS)


def test_demo_breaks_a_handful_in_every_county(demo: Inventory) -> None:
    """Each county has at least three devices with a fault of their own, and not most."""
    scenario = load_scenario(DEMO_SCENARIO, demo)
    per_county = Counter(demo.by_id()[d].county for d in scenario.faults)
    assert set(per_county) == set(demo.counties)
    assert all(3 <= n <= 10 for n in per_county.values()), per_county


def test_demo_switch_down_takes_its_endpoints(demo: Inventory) -> None:
    """xa-sw-02 is down, so all of its children are expected unreachable too."""
    scenario = load_scenario(DEMO_SCENARIO, demo)
    children = [d.id for d in demo.devices if d.parent == "xa-sw-02"]
    assert children, "the demo plan hangs endpoints under xa-sw-02"
    faults = effective_faults(demo, scenario)
    assert all(faults[c].source == "parent xa-sw-02" for c in children)
    expected = expected_faults(demo, scenario)
    assert {expected[c] for c in children} == {"unreachable"}
    assert sum(f is None for f in expected.values()) > 0.9 * len(demo.devices)
