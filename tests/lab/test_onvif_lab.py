"""The lab's ONVIF cameras on 127.79.1.0/24: clocks in step and offset by the scenario,
tokens checked, the web page sharing the port; the fault's validation; ${ENV} passwords."""

from __future__ import annotations

from pathlib import Path

import pytest

from netwatch.inventory import InventoryError, load_inventory
from netwatch.lab.lab import Lab
from netwatch.lab.scenario import ScenarioError, expected_faults
from probes import http, onvif
from probes.base import ProbeContext, ProbeResult, Reason, Target
from tests.lab.labkit import HEADER, SECRETS, make_inventory, make_scenario
from tests.peers import free_port

NET = "127.79.1"
PASSWORD = "lab-onvif-pw-4711"
TOLERANCE = 1.5  # seconds: whole-second clocks plus the round trip


def devices(port: int) -> str:
    onvif_check = f"{{probe: onvif_time, port: {port}}}"
    secured = (f"{{probe: onvif_time, port: {port}, user: netwatch, "
               f'password: "${{LAB_ONVIF_PASSWORD}}"}}')
    web = f"{{probe: http, name: web, port: {port}}}"
    return "".join(
        f"  - {{id: {i}, kind: camera, county: north, address: {NET}.{n}, name: {i},"
        f" checks: [{checks}]}}\n"
        for n, (i, checks) in enumerate([
            ("cam-ok", onvif_check), ("cam-ahead", onvif_check), ("cam-behind", onvif_check),
            ("cam-auth", f"{secured}, {web}")], 1))


SCENARIO = """faults:
  - {device: cam-ahead, fault: clock_offset, offset: 120s}
  - {device: cam-behind, fault: clock_offset, offset: -2m}
"""


async def probe_onvif(address: str, port: int, **raw: str) -> ProbeResult:
    async with ProbeContext() as ctx:
        return await onvif.probe(Target("cam", address, port, 2.0), onvif.parse_params(raw), ctx)


async def test_lab_cameras_clock_and_token(tmp_path: Path) -> None:
    """Offsets as the scenario says (±120 s, 0 without a fault); a token with the inventory's
    password answers, a wrong one is auth; the http check on the same port still gets 200."""
    port = free_port(f"{NET}.1")
    inventory = load_inventory(_write(tmp_path, devices(port)),
                               env={**SECRETS, "LAB_ONVIF_PASSWORD": PASSWORD})
    scenario = make_scenario(inventory, SCENARIO)
    assert set(expected_faults(inventory, scenario).values()) == {None}  # no drift fault yet
    async with Lab(inventory, scenario, firewall=False) as lab:
        assert lab.info is not None and lab.info.responders == {"onvif": 4}
        offsets = {}
        for n, device in enumerate(("cam-ok", "cam-ahead", "cam-behind"), 1):
            result = await probe_onvif(f"{NET}.{n}", port)
            assert result.success, result.detail
            offsets[device] = result.measurements["clock_offset_seconds"]
        good = await probe_onvif(f"{NET}.4", port, user="netwatch", password=PASSWORD)
        wrong = await probe_onvif(f"{NET}.4", port, user="netwatch", password="nope-nope")
        anonymous = await probe_onvif(f"{NET}.4", port)
        async with ProbeContext() as ctx:
            page = await http.probe(Target("cam", f"{NET}.4", port, 2.0),
                                    http.parse_params({}), ctx)
    assert abs(offsets["cam-ok"]) <= TOLERANCE
    assert abs(offsets["cam-ahead"] - 120) <= TOLERANCE
    assert abs(offsets["cam-behind"] + 120) <= TOLERANCE
    assert good.success, good.detail
    assert (wrong.reason, anonymous.reason) == (Reason.AUTH, Reason.AUTH)
    assert page.success and page.measurements["status_code"] == 200
    assert PASSWORD not in repr(inventory.by_id()["cam-auth"].checks)


def _write(tmp_path: Path, rows: str) -> Path:
    path = tmp_path / "inventory.yaml"
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "message"), [
    ("  - {device: cam-1, fault: clock_offset}\n",
     "fault clock_offset needs a non-zero 'offset' (e.g. 120s, or -2m for a clock behind)"),
    ("  - {device: cam-1, fault: clock_offset, offset: 2m}\n",
     "device cam-1 has no onvif_time check: fault clock_offset does not apply to it"),
    ("  - {device: cam-2, fault: clock_offset, offset: soon}\n",
     'offset: expected a duration like 500ms, 30s, 5m, 2h or 1d, got "soon"'),
])
def test_clock_offset_validation(tmp_path: Path, text: str, message: str) -> None:
    inventory = make_inventory(tmp_path, (
        f"  - {{id: cam-1, kind: camera, county: north, address: {NET}.21, name: c1}}\n"
        f"  - {{id: cam-2, kind: camera, county: north, address: {NET}.22, name: c2,"
        f" checks: [icmp, onvif_time]}}\n"))
    with pytest.raises(ScenarioError) as caught:
        make_scenario(inventory, "faults:\n" + text)
    assert caught.value.problems == [f"scenario.yaml:2: {message}"]


@pytest.mark.parametrize(("password", "env", "message"), [
    ("plain-text", {}, "password: secrets only as ${ENV} references, never in plain text"),
    ("${NO_SUCH_ONVIF_PW}", {}, "password: environment variable NO_SUCH_ONVIF_PW is not set"),
])
def test_onvif_password_only_from_env(tmp_path: Path, password: str, env: dict[str, str],
                                      message: str) -> None:
    """The check's password is a secret: plain text is refused, a missing variable named."""
    rows = (f"  - {{id: cam-1, kind: camera, county: north, address: {NET}.31, name: c1,"
            f" checks: [{{probe: onvif_time, user: nw, password: \"{password}\"}}]}}\n")
    with pytest.raises(InventoryError) as caught:
        load_inventory(_write(tmp_path, rows), env={**SECRETS, **env})
    text = str(caught.value)
    assert message in text and "plain-text" not in text.replace("in plain text", "")
