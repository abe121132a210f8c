"""``netwatch run`` end to end: the lab plays the demo scenario, the daemon watches, we scrape.

The daemon runs as a child process (``netwatch run``), not in the test's event loop: a
restart is then a real one (SIGTERM, a new process, the same database), the module-scoped
city needs no module-scoped event loop, and the command users run is the one tested. The
tests share one city and run in file order: steady state first, then restart, then reload.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from netwatch.inventory import load_inventory
from netwatch.lab.process import LabProcess
from netwatch.lab.scenario import FLAPPING, accepts, expected_faults, load_scenario
from netwatch.store import Store, TokenStore
from tests.daemon.city import (
    ENV,
    IN_MAINTENANCE,
    LEFT_OUT,
    CityFiles,
    DaemonProcess,
    without_device,
    write_city,
)
from tests.lab.labkit import queue_number

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("nft"), reason="the lab needs root and nft")

OUTAGES = frozenset({"unreachable", "service_down"})  # faults where a check fails: up is 0
FINDINGS = {"xa-cam-012": "open_stream", "sq-cam-050": "open_stream", "pc-ts-04": "rebooted"}
SETTLE_SECONDS = 40.0
FLAPPER = "lh-cam-010"
REMOVED = "xa-cam-003"  # an unreachable camera the reload takes out
FIXTURES = Path(__file__).parents[1] / "fixtures" / "inventory"

Key = tuple[str, str]  # (device, fault)


@dataclass(slots=True)
class City:
    files: CityFiles
    daemon: DaemonProcess
    token: str
    expected: dict[str, str]  # device → fault, broken devices only, as the daemon sees them

    def scrape(self) -> str:
        status, body = self.daemon.get("/metrics")
        assert status == 200
        return body.decode()

    def api(self, path: str) -> Any:
        status, body = self.daemon.get(path, self.token)
        assert status == 200, body
        return json.loads(body)


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """One family's samples keyed by their sorted labels."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name:
                out[tuple(sorted(s.labels.items()))] = s.value
    return out


def by_device(text: str, name: str) -> dict[str, float]:
    return {dict(k)["device"]: v for k, v in samples(text, name).items()}


def open_faults(text: str) -> dict[Key, dict[str, str]]:
    """(device, fault) → labels of each ``netwatch_fault_open`` sample."""
    return {(dict(k)["device"], dict(k)["fault"]): dict(k)
            for k in samples(text, "netwatch_fault_open")}


def since(text: str) -> dict[Key, float]:
    return {(dict(k)["device"], dict(k)["fault"]): v
            for k, v in samples(text, "netwatch_fault_since_timestamp_seconds").items()}


def poll(what: str, check: Callable[[], Any], timeout: float = SETTLE_SECONDS) -> Any:
    """``check()`` until it is truthy, at most ``timeout`` seconds; fails naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not within {timeout:g} s")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    root = tmp_path_factory.mktemp("daemon_e2e")
    files = write_city(root)
    lab_inventory = load_inventory(files.lab_inventory, env=ENV)
    inventory = load_inventory(files.inventory, env=ENV)
    judged = expected_faults(lab_inventory, load_scenario(files.scenario, lab_inventory))
    expected = {dev: fault for dev, fault in judged.items() if fault and dev != LEFT_OUT}
    assert all(f in OUTAGES | {FLAPPING, "uplink_down", "uplink_slow", "degraded_link"}
               for f in expected.values()), expected
    store = Store.open(files.db)
    try:
        token = TokenStore(store).create("admin", (), name="e2e").token
    finally:
        store.close()
    table = f"netwatch_lab_e2e{os.getpid()}"
    with LabProcess(files.lab_inventory, files.scenario, table=table, env=ENV,
                    extra_args=("--queue", str(queue_number(4)))):
        daemon = DaemonProcess(files, root / "daemon.log").start()
        try:
            town = City(files, daemon, token, expected)
            n = len(inventory.devices)
            poll("every scenario fault open and every device judged", lambda: (
                (text := town.scrape())
                and all((d, f) in open_faults(text) for d, f in expected.items())
                and len(by_device(text, "netwatch_device_up")) == n))
            yield town
        finally:
            daemon.stop()


def test_scenario_faults_open_with_device_up(city: City) -> None:
    """Each broken device has its expected fault open (and no other), outages report
    device_up 0, every other device 1; findings are not outages."""
    text = city.scrape()
    faults = open_faults(text)
    up = by_device(text, "netwatch_device_up")
    extra = {(d, f) for d, f in faults if d != FLAPPER and city.expected.get(d) != f}
    assert not extra
    for dev, fault in city.expected.items():
        if fault in OUTAGES:
            assert up[dev] == 0, dev
        elif fault != FLAPPING:
            assert up[dev] == 1, (dev, fault)  # checks answer; the figures are the fault
    healthy = set(up) - set(city.expected)
    assert healthy and all(up[d] == 1 for d in healthy)
    for dev in FINDINGS:
        assert dev in healthy and not any(d == dev for d, _ in faults)
    assert all(accepts(FLAPPING, f) or f == FLAPPING for d, f in faults if d == FLAPPER)


def test_switch_down_suppresses_and_counts_its_endpoints(city: City) -> None:
    """The endpoints under xa-sw-02 are open but suppressed, still measured (device_up 0),
    and the switch counts them; the switch's own fault is not suppressed."""
    text = city.scrape()
    faults = open_faults(text)
    up = by_device(text, "netwatch_device_up")
    children = [f"xa-vc-0{i}" for i in range(1, 9)]
    assert faults[("xa-sw-02", "unreachable")]["suppressed"] == "false"
    for child in children:
        assert faults[(child, "unreachable")]["suppressed"] == "true"
        assert up[child] == 0
    counts = by_device(text, "netwatch_fault_suppressed_children")
    assert counts["xa-sw-02"] == 8 and counts["xa-sw-01"] == 0
    api = {f["device"]: f for f in city.api("/api/v1/faults?suppressed=true")["faults"]}
    assert all(api[c]["suppressed_by"] == "xa-sw-02" for c in children)


def test_flapping_camera_opens_flapping(city: City) -> None:
    """The camera the lab toggles opens a ``flapping`` fault, with the changes as evidence."""
    faults = open_faults(city.scrape())
    assert faults[(FLAPPER, "flapping")]["suppressed"] == "false"
    api = city.api("/api/v1/faults?fault=flapping&county=linhe")["faults"]
    assert [f["device"] for f in api] == [FLAPPER]
    assert "up/down changes" in api[0]["detail"]


def test_maintenance_suppresses_but_measures(city: City) -> None:
    """A device inside a maintenance window keeps its fault, suppressed, and is still probed."""
    text = city.scrape()
    fault = open_faults(text)[(IN_MAINTENANCE, "unreachable")]
    assert fault["suppressed"] == "true"
    assert by_device(text, "netwatch_device_up")[IN_MAINTENANCE] == 0
    held = samples(text, "netwatch_devices_in_maintenance")
    assert held[(("county", "pingchuan"), ("kind", "camera"), ("source", "inventory"))] == 1
    assert held[(("county", "pingchuan"), ("kind", "camera"), ("source", "county"))] == 0
    (api,) = [f for f in city.api("/api/v1/faults?county=pingchuan")["faults"]
              if f["device"] == IN_MAINTENANCE]
    assert api["suppressed_by"] == "maintenance"
    open_counts = samples(text, "netwatch_open_faults")
    assert open_counts[(("county", "pingchuan"), ("kind", "camera"))] == 1  # pc-cam-031 only


def test_live_metrics_pass_promtool(city: City, tmp_path: Path) -> None:
    """``promtool check metrics`` accepts the live exposition."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed")
    done = subprocess.run([promtool, "check", "metrics"], input=city.scrape(),
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr


def test_restart_keeps_first_seen(city: City) -> None:
    """After SIGTERM and a new daemon on the same database, open faults keep their first-seen
    time in the metrics and in the faults API."""
    before = since(city.scrape())
    api_before = {(f["device"], f["fault"]): f["first_seen_unix"]
                  for f in city.api("/api/v1/faults?limit=1000")["faults"]}
    stable = {k for k in before if k[0] != FLAPPER}
    assert {k: api_before[k] for k in stable} == {k: before[k] for k in stable}
    assert city.daemon.stop() == 0
    city.daemon.start()
    after = since(city.scrape())  # restored before the app listens, before any sweep
    assert stable <= set(after)
    assert {k: after[k] for k in stable} == {k: before[k] for k in stable}
    api_after = {(f["device"], f["fault"]): f["first_seen_unix"]
                 for f in city.api("/api/v1/faults?limit=1000")["faults"]}
    assert {k: api_after[k] for k in stable} == {k: before[k] for k in stable}


def test_restart_keeps_children_suppressed(city: City) -> None:
    """After the restart, with the switch and its endpoints still down, the endpoints stay
    suppressed by the switch in the API and the metrics, before and after the new process has
    swept them again (suppression is re-derived, not frozen or lost)."""
    children = [f"xa-vc-0{i}" for i in range(1, 9)]

    def check() -> None:
        text = city.scrape()
        faults = open_faults(text)
        assert all(faults[(c, "unreachable")]["suppressed"] == "true" for c in children)
        assert by_device(text, "netwatch_fault_suppressed_children")["xa-sw-02"] == 8
        api = {f["device"]: f for f in city.api("/api/v1/faults?suppressed=true")["faults"]}
        assert all(api[c]["suppressed_by"] == "xa-sw-02" for c in children)

    check()
    restarted = time.time()
    poll("the switch and its endpoints swept again", lambda: all(
        (d["checked_at_unix"] or 0) > restarted
        for d in city.api("/api/v1/devices?limit=1000")["devices"]
        if d["id"] in (*children, "xa-sw-02")))
    check()


def test_reload_adds_removes_and_keeps_state(city: City) -> None:
    """An admin reload adding one device and removing another starts the new one, closes the
    removed one's fault as ``removed``, and leaves the others' faults as they were."""
    path = city.files.inventory
    before = since(city.scrape())
    original = path.read_text()
    line = next(ln for ln in city.files.lab_inventory.read_text().splitlines(keepends=True)
                if f"{{id: {LEFT_OUT}," in ln)
    edited = without_device(original, REMOVED).replace("devices:\n", "devices:\n" + line, 1)
    path.write_text(edited)
    status, body = city.daemon.request("POST", "/-/reload", city.token)
    assert status == 200, body
    report = json.loads(body)
    assert (report["ok"], report["added"], report["removed"], report["changed"]) == (
        True, 1, 1, 0)
    closed = city.api("/api/v1/faults?state=closed&kind=camera&county=xingan")["faults"]
    assert [(f["device"], f["close_reason"]) for f in closed] == [(REMOVED, "removed")]
    text = poll(f"{LEFT_OUT} measured", lambda: (
        (t := city.scrape()) and LEFT_OUT in by_device(t, "netwatch_device_up") and t))
    assert by_device(text, "netwatch_device_up")[LEFT_OUT] == 1
    reloaded_at = time.time()
    poll("kept devices measured again after the reload", lambda: all(
        (d["checked_at_unix"] or 0) > reloaded_at
        for d in city.api("/api/v1/devices?limit=1000")["devices"]))
    after = since(text)
    assert (REMOVED, "unreachable") not in after
    kept = {k for k in before if k[0] not in (REMOVED, FLAPPER)}
    assert {k: after[k] for k in kept} == {k: before[k] for k in kept}


def test_broken_inventory_is_refused_and_the_old_runs_on(city: City) -> None:
    """A reload of a broken file answers 422 with FILE:LINE problems; devices, faults and the
    reload gauge show the old inventory still running."""
    path = city.files.inventory
    text = city.scrape()
    devices = by_device(text, "netwatch_device_up")
    faults = set(open_faults(text)) - {k for k in open_faults(text) if k[0] == FLAPPER}
    path.write_text(path.read_text().replace("county: xingan,", "county: atlantis,", 1))
    status, body = city.daemon.request("POST", "/-/reload", city.token)
    assert status == 422
    problems = json.loads(body)["detail"]["problems"]
    assert problems and all(p.startswith(f"{path}:") for p in problems)
    assert any("atlantis" in p for p in problems)
    text = city.scrape()
    assert set(by_device(text, "netwatch_device_up")) == set(devices)
    assert faults <= set(open_faults(text))
    assert samples(text, "netwatch_inventory_last_reload_successful") == {(): 0}


def test_an_alias_bomb_reload_is_refused_at_once(city: City) -> None:
    """A reload of a "billion laughs" (used as a mapping key) is refused with its FILE:LINE
    within the request's timeout, and the daemon answers as before."""
    path = city.files.inventory
    text = path.read_text()
    bomb = (FIXTURES / "alias_bomb_key.yaml").read_text().split("defaults:\n", 1)[1]
    path.write_text(text + "lol:\n" + bomb.replace("devices:\n", "more:\n"))
    first = text.count("\n") + 1
    status, body = city.daemon.request("POST", "/-/reload", city.token)
    assert status == 422
    assert json.loads(body)["detail"]["problems"] == [
        f"{path}:{first + 6}: YAML aliases expand to more than 100,000 nodes (an alias bomb?):"
        " refused"]
    assert city.daemon.get("/healthz")[0] == 200
