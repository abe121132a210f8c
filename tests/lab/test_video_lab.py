"""Lab cameras with a video check, spoken to by the real rtsp and video probes (127.78.3.0/24).

They demand Digest with the inventory's credentials (``${ENV}`` password), answer
SETUP/PLAY with synthetic H.264 interleaved on the connection, and play the video
faults: ``no_video``, ``video_frozen``, ``video_stops``; ``rtsp_401`` refuses every
credential.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from netwatch.inventory import Inventory
from netwatch.lab.lab import Lab
from netwatch.lab.scenario import expected_faults
from probes import rtsp, video
from probes.base import ProbeContext, ProbeResult, Reason, Target
from tests.lab.labkit import SECRETS, make_inventory, make_scenario
from tests.peers import free_port

NET = "127.78.3"
PASSWORD = SECRETS["LAB_TEST_RTSP_PASSWORD"]
CREDS = 'user: viewer, password: "${LAB_TEST_RTSP_PASSWORD}"'
NAMES = ["cam-ok", "cam-novideo", "cam-frozen", "cam-stops", "cam-401", "cam-nocreds"]


@pytest.fixture
async def lab(tmp_path: Path) -> AsyncIterator[tuple[Inventory, int]]:
    port = free_port(f"{NET}.1")
    devices = "".join(
        f"  - {{id: {name}, kind: camera, county: north, address: {NET}.{i}, name: {name},"
        f" checks: [icmp, {{probe: rtsp, port: {port}, {CREDS}}},"
        f" {{probe: video, port: {port}, {CREDS}}}]}}\n"
        for i, name in enumerate(NAMES[:-1], 1))
    devices += (f"  - {{id: cam-nocreds, kind: camera, county: north, address: {NET}.6,"
                f" name: n, checks: [icmp, {{probe: rtsp, port: {port}}}]}}\n")
    inventory = make_inventory(tmp_path, devices)
    scenario = make_scenario(inventory, """faults:
  - {device: cam-novideo, fault: no_video}
  - {device: cam-frozen, fault: video_frozen}
  - {device: cam-stops, fault: video_stops}
  - {device: cam-401, fault: rtsp_401}
""")
    assert expected_faults(inventory, scenario) == {
        "cam-ok": None, "cam-novideo": None, "cam-frozen": None, "cam-stops": None,
        "cam-401": "auth_failed", "cam-nocreds": None}
    async with Lab(inventory, scenario, firewall=False):
        yield inventory, port


async def check(module: object, inventory: Inventory, device: str, port: int,
                **override: object) -> ProbeResult:
    """Run the device's check of ``module`` with its inventory settings (or ``override``)."""
    spec = next(c for c in inventory.by_id()[device].checks
                if c.probe == module.__name__.split(".")[1])
    params = spec.params if not override else module.parse_params(override)  # type: ignore[attr-defined]
    target = Target(device, inventory.by_id()[device].address, port, 2.0)
    return await module.probe(target, params, ProbeContext())  # type: ignore[attr-defined]


async def test_video_flows_with_digest_credentials(lab: tuple[Inventory, int],
                                                   caplog: pytest.LogCaptureFixture) -> None:
    """The inventory's ${ENV} password answers the lab's Digest (SHA-256 preferred)."""
    caplog.set_level(logging.DEBUG)
    inventory, port = lab
    result = await check(video, inventory, "cam-ok", port)
    assert result.success, result
    m = result.measurements
    assert m["video_packets"] > 0 and m["keyframe"] == 1.0 and m["timestamps_advancing"] == 1.0
    assert "Digest SHA-256" in result.detail
    alive = await check(rtsp, inventory, "cam-ok", port)
    assert alive.success and alive.measurements["describe_status_code"] == 200, alive
    assert PASSWORD not in repr(result) + repr(alive) + caplog.text
    assert PASSWORD not in repr(inventory.by_id()["cam-ok"])


async def test_wrong_or_missing_credentials(lab: tuple[Inventory, int]) -> None:
    """A wrong password is auth for both checks; a camera without credentials is alive."""
    inventory, port = lab
    for module in (rtsp, video):
        wrong = await check(module, inventory, "cam-ok", port, user="viewer", password="nope")
        assert (wrong.success, wrong.reason) == (False, Reason.AUTH), wrong
    protected = await check(rtsp, inventory, "cam-nocreds", port)
    assert protected.success and protected.measurements["describe_status_code"] == 401


async def test_rtsp_401_refuses_even_right_credentials(lab: tuple[Inventory, int]) -> None:
    """What expected_faults calls auth_failed: both checks report auth."""
    inventory, port = lab
    for module in (rtsp, video):
        result = await check(module, inventory, "cam-401", port)
        assert (result.success, result.reason) == (False, Reason.AUTH), result
        assert "credentials refused (Digest SHA-256)" in result.detail


async def test_video_faults(lab: tuple[Inventory, int]) -> None:
    """no_video: no packets; frozen: packets, timestamps still; stops: packets, then none."""
    inventory, port = lab
    creds = {"user": "viewer", "password": PASSWORD}
    none = await check(video, inventory, "cam-novideo", port, **creds, sample="500ms")
    assert none.success and none.measurements["video_packets"] == 0, none
    frozen = await check(video, inventory, "cam-frozen", port, **creds, sample="1s")
    assert frozen.success and frozen.measurements["video_packets"] > 2, frozen
    assert frozen.measurements["timestamps_advancing"] == 0.0
    stops = await check(video, inventory, "cam-stops", port, **creds, sample="1s")
    assert stops.success and stops.measurements["video_packets"] > 0, stops
    assert stops.measurements["timestamps_advancing"] == 0.0
