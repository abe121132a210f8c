"""Shared by the lab tests: small inventories in 127.104.0.0/16, a lab table name, fping.

Every lab test plays its devices on its own 127.104.S.0/24; the nftables table and
the NFQUEUE number carry the test process's PID so concurrent runs never collide.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shutil
from pathlib import Path

import pytest

from netwatch.inventory import Inventory, load_inventory
from netwatch.lab.netfilter import firewall_problem
from netwatch.lab.scenario import Scenario, parse_scenario

SECRETS = {
    "LAB_TEST_COMMUNITY": "lab-community-4711",
    "LAB_TEST_AUTH_KEY": "lab-auth-key-0815",
    "LAB_TEST_PRIV_KEY": "lab-priv-key-2342",
    "LAB_TEST_RTSP_PASSWORD": "lab-rtsp-pass-1337",
}
HEADER = """\
city: {name: Labtown, timezone: Asia/Shanghai}
counties:
  - {id: north, name: North, receiving_unit: North PSB}
  - {id: south, name: South, receiving_unit: South PSB}
snmp_profiles:
  v2: {version: 2c, community: "${LAB_TEST_COMMUNITY}"}
  v3: {version: 3, user: labuser, auth_protocol: SHA256, auth_key: "${LAB_TEST_AUTH_KEY}",
       priv_protocol: AES128, priv_key: "${LAB_TEST_PRIV_KEY}"}
devices:
"""

_problem = firewall_problem()
needs_firewall = pytest.mark.skipif(_problem is not None, reason=f"lab firewall: {_problem}")
needs_nfqueue = pytest.mark.skipif(importlib.util.find_spec("netfilterqueue") is None,
                                   reason="PyPI netfilterqueue not installed (latency faults)")
needs_fping = pytest.mark.skipif(shutil.which("fping") is None,
                                 reason="fping not installed (Debian package fping)")


def table_name(tag: str = "") -> str:
    """A lab table of this test process only."""
    return f"nwlab_test_{os.getpid()}{tag}"


def queue_number(offset: int = 0) -> int:
    """An NFQUEUE number of this test process only."""
    return 20000 + (os.getpid() % 20000) + offset


def make_inventory(tmp_path: Path, devices: str) -> Inventory:
    """An inventory of the given device lines (YAML list items, two-space indented)."""
    path = tmp_path / "inventory.yaml"
    path.write_text(HEADER + devices, encoding="utf-8")
    return load_inventory(path, env=SECRETS)


def make_scenario(inventory: Inventory, text: str) -> Scenario:
    """A scenario from YAML text, validated against ``inventory``."""
    return parse_scenario(text, "scenario.yaml", inventory)


async def fping(addresses: list[str], count: int, period_ms: int = 20,
                timeout_ms: int = 1000) -> dict[str, list[float | None]]:
    """Per address, each echo's RTT in seconds (None when it got no reply), via fping -C."""
    proc = await asyncio.create_subprocess_exec(
        "fping", "-C", str(count), "-q", "-p", str(period_ms), "-t", str(timeout_ms),
        *addresses, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    result: dict[str, list[float | None]] = {}
    for line in err.decode().splitlines():
        address, sep, rtts = line.partition(" : ")
        if sep:
            result[address.strip()] = [None if v == "-" else float(v) / 1000 for v in rtts.split()]
    return result
