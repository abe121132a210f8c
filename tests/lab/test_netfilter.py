"""Kernel-side faults on 127.104.13.0/24: drops, loss and NFQUEUE latency in the lab's own table.

These need root and nft (CI has both); they ping with fping and check that the lab's
table exists only while the lab runs.
"""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from netwatch.lab.lab import Lab, run_lab
from netwatch.lab.netfilter import delete_table_now, ruleset, table_exists
from tests.lab.labkit import (
    fping,
    make_inventory,
    make_scenario,
    needs_firewall,
    needs_fping,
    needs_nfqueue,
    queue_number,
    table_name,
)

NET = "127.104.13"


def test_ruleset_keeps_everything_in_one_table() -> None:
    """The script replaces only the lab's table and holds drops, loss and the queue jump."""
    script = ruleset("nwlab_x", ["127.104.13.2", "127.104.13.1"], {"127.104.13.3": 0.05},
                     ["127.104.13.4"])
    assert script.startswith("table ip nwlab_x\ndelete table ip nwlab_x\ntable ip nwlab_x {\n")
    assert "elements = { 127.104.13.1, 127.104.13.2 }" in script
    assert ("ip daddr 127.104.13.3 icmp type echo-request numgen random mod 10000 < 500 drop"
            in script)
    assert "ip daddr @delayed icmp type echo-request jump delay" in script
    assert script.count("table ip") == 3 and "inet" not in script


def devices(*names: str) -> str:
    """Devices named NAME or NAME<parent, one per address from .1, ping-only."""
    rows = []
    for n, spec in enumerate(names, 1):
        name, _, parent = spec.partition("<")
        extra = f", parent: {parent}" if parent else ""
        rows.append(f"  - {{id: {name}, kind: vc_endpoint, county: south, address: {NET}.{n},"
                    f" name: {name}, checks: [icmp]{extra}}}\n")
    return "".join(rows)


def answered(rtts: list[float | None]) -> int:
    return sum(r is not None for r in rtts)


@pytest.fixture
def table() -> object:
    name = table_name("nf")
    yield name
    delete_table_now(name)


pytestmark = [needs_firewall, needs_fping]


async def test_unreachable_drops_and_is_cleaned_up(tmp_path: Path, table: str) -> None:
    """An unreachable device answers no ping while the lab runs; table and drop go at exit."""
    inventory = make_inventory(tmp_path, devices("down", "up"))
    scenario = make_scenario(inventory, "faults:\n  - {device: down, fault: unreachable}\n")
    async with Lab(inventory, scenario, table=table, queue=queue_number()):
        assert table_exists(table)
        rtts = await fping([f"{NET}.1", f"{NET}.2"], 3, timeout_ms=300)
        assert answered(rtts[f"{NET}.1"]) == 0 and answered(rtts[f"{NET}.2"]) == 3
    assert not table_exists(table)
    assert answered((await fping([f"{NET}.1"], 1))[f"{NET}.1"]) == 1


async def test_switch_down_cascades_to_children(tmp_path: Path, table: str) -> None:
    """Pings to a dead switch's children (and grandchildren) are dropped; its sibling answers."""
    inventory = make_inventory(tmp_path, devices("sw", "sib", "cam<sw", "leaf<cam"))
    scenario = make_scenario(inventory, "faults:\n  - {device: sw, fault: unreachable}\n")
    async with Lab(inventory, scenario, table=table, queue=queue_number()):
        rtts = await fping([f"{NET}.{n}" for n in (1, 2, 3, 4)], 2, timeout_ms=300)
    assert [answered(rtts[f"{NET}.{n}"]) for n in (1, 2, 3, 4)] == [0, 2, 0, 0]


async def test_stale_table_removed_at_start(tmp_path: Path, table: str) -> None:
    """A table left by a crashed run (with its drop) is replaced when the lab starts."""
    stale = (f"table ip {table} {{\n  chain stale {{\n    type filter hook input priority 0;\n"
             f"    ip daddr {NET}.1 drop\n  }}\n}}\n")
    await asyncio.to_thread(subprocess.run, ["nft", "-f", "-"], input=stale.encode(), check=True)
    assert answered((await fping([f"{NET}.1"], 1, timeout_ms=300))[f"{NET}.1"]) == 0
    inventory = make_inventory(tmp_path, devices("cam"))
    async with Lab(inventory, None, table=table, queue=queue_number()):
        listed = await asyncio.to_thread(subprocess.run, ["nft", "list", "table", "ip", table],
                                         capture_output=True, text=True, check=True)
        listing = listed.stdout
        assert "chain stale" not in listing and "chain input" in listing
        assert answered((await fping([f"{NET}.1"], 1))[f"{NET}.1"]) == 1
    assert not table_exists(table)


@needs_nfqueue
async def test_latency_delays_every_echo_without_queueing(tmp_path: Path, table: str) -> None:
    """Each echo to a degraded address comes back after the latency, not one after another."""
    inventory = make_inventory(tmp_path, devices("slow", "fast"))
    scenario = make_scenario(inventory,
                             "faults:\n  - {device: slow, fault: degraded, latency: 250ms}\n")
    async with Lab(inventory, scenario, table=table, queue=queue_number()) as lab:
        assert lab.info is not None and lab.info.queue == queue_number(), lab.info.unavailable
        rtts = await fping([f"{NET}.1", f"{NET}.2"], 5, period_ms=20)
    slow = rtts[f"{NET}.1"]
    assert answered(slow) == 5
    assert all(0.25 <= r < 0.45 for r in slow if r is not None), slow
    assert max(r for r in rtts[f"{NET}.2"] if r is not None) < 0.1


async def test_loss_drops_about_the_ratio(tmp_path: Path, table: str) -> None:
    """loss: 50% drops roughly half of the echoes (binomial bounds, ±4 sd)."""
    inventory = make_inventory(tmp_path, devices("lossy"))
    scenario = make_scenario(inventory,
                             "faults:\n  - {device: lossy, fault: degraded, loss: 50%}\n")
    async with Lab(inventory, scenario, table=table, queue=queue_number()):
        rtts = (await fping([f"{NET}.1"], 100, period_ms=10, timeout_ms=200))[f"{NET}.1"]
    assert len(rtts) == 100
    assert 30 <= answered(rtts) <= 70, answered(rtts)


async def test_flapping_alternates(tmp_path: Path, table: str) -> None:
    """A flapping device starts unreachable and answers again after its period."""
    inventory = make_inventory(tmp_path, devices("flappy"))
    scenario = make_scenario(inventory,
                             "faults:\n  - {device: flappy, fault: flapping, period: 400ms}\n")
    states = []
    async with Lab(inventory, scenario, table=table, queue=queue_number()):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5
        while loop.time() < deadline and states[-2:] != [0, 1]:
            states.append(answered((await fping([f"{NET}.1"], 1, timeout_ms=100))[f"{NET}.1"]))
    assert states[0] == 0 and states[-2:] == [0, 1], states


async def test_cancelled_run_lab_removes_its_table(tmp_path: Path, table: str) -> None:
    """Cancelling run_lab (Ctrl-C in asyncio.run) still deletes the table."""
    inventory = make_inventory(tmp_path, devices("cam"))
    up = asyncio.Event()
    task = asyncio.create_task(run_lab(inventory, None, ready=lambda _: up.set(), table=table,
                                       queue=queue_number()))
    await asyncio.wait_for(up.wait(), 10)
    assert table_exists(table)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not table_exists(table)
