"""/metrics: the families of docs/metrics.md, values, escaping, reloads, aggregates, promtool."""

from __future__ import annotations

import asyncio
import math
import shutil
from collections.abc import Iterable
from datetime import UTC, datetime
from subprocess import PIPE, STDOUT

import pytest
from prometheus_client.parser import text_string_to_metric_families

from netwatch.inventory import (
    KINDS,
    CheckSpec,
    County,
    CoveragePoint,
    Device,
    Inventory,
    MaintenanceWindow,
)
from netwatch.metrics import Exposition
from netwatch.metrics.devices import FAMILIES
from netwatch.metrics.text import Family, FamilySpec, labels
from netwatch.monitor import DeviceResult, Monitor
from netwatch.store import StoreThread
from probes import snmp
from probes.base import ProbeResult, Reason

T0 = 1_700_000_000.0
COMMUNITY = "s3cret-Community-7f3a"
AUTH_KEY = "auth-Key-9b1c-secret"
PRIV_KEY = "priv-Key-2d4e-secret"
HOSTILE = 'cam "north" \\ gate\n北门'

Results = dict[str, ProbeResult]
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


class Clock:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


class ScriptedRunner:
    """Stands in for ``Runner``: each device gets the results the test scripted for it."""

    def __init__(self) -> None:
        self.results: dict[str, Results] = {}

    async def sweep(self, devices: Iterable[Device]) -> list[DeviceResult]:
        return [DeviceResult(d, dict(self.results.get(d.id, {}))) for d in devices]


def device(id: str, kind: str, county: str, *checks: str, parent: str | None = None,
           name: str = "", lat: float | None = None, lon: float | None = None) -> Device:
    specs = tuple(
        CheckSpec(c, c, 161, snmp.parse_params({"community": COMMUNITY}))
        if c == "snmp" else CheckSpec(c, c, 0, None)
        for c in checks
    )
    return Device(id=id, kind=kind, county=county, address="127.77.0.1", name=name or id,
                  checks=specs, interval=60.0, timeout=1.0, parent=parent, site="s1",
                  lat=lat, lon=lon)


SWITCH = device("sw-1", "switch", "east", "icmp", "snmp")
CAMERA = device("cam-1", "camera", "east", "icmp", "rtsp", parent="sw-1", lat=30.5, lon=120.25)
CAMERA2 = device("cam-2", "camera", "east", "icmp", parent="sw-1")
ENDPOINT = device("vc-1", "vc_endpoint", "west", "icmp", "sip")
COUNTIES = {c: County(c, c.title(), f"{c} police") for c in ("east", "west", "south")}


def inventory(*devices: Device, maintenance: tuple[MaintenanceWindow, ...] = ()) -> Inventory:
    return Inventory(path="test.yaml", city="Testville", timezone="UTC", counties=COUNTIES,
                     devices=devices, maintenance=maintenance,
                     points=(CoveragePoint("p-1", "Bridge", "east", 30.1, 120.2),))


def ping(rtt: float = 0.002, loss: float = 0.0, jitter: float = 0.0005) -> ProbeResult:
    r = ProbeResult.ok(rtt_seconds=rtt, loss_ratio=loss, jitter_seconds=jitter, sent=5,
                       received=5)
    r.duration_seconds = 0.01
    return r


def down() -> ProbeResult:
    return ProbeResult.fail(Reason.TIMEOUT, "no reply", loss_ratio=1.0, sent=5, received=0)


def agent(status: float = 1, speed: float = 1e9) -> ProbeResult:
    return ProbeResult.ok(sys_uptime_seconds=3600.5, uplink_oper_status=status,
                          uplink_speed_bps=speed, uplink_in_errors=7, uplink_out_errors=0)


HEALTHY: dict[str, Results] = {
    "sw-1": {"icmp": ping(), "snmp": agent()},
    "cam-1": {"icmp": ping(), "rtsp": ProbeResult.ok(status_code=200)},
    "cam-2": {"icmp": ping()},
    "vc-1": {"icmp": ping(rtt=0.04), "sip": ProbeResult.ok(status_code=200, rtt_seconds=0.01)},
}


@pytest.fixture
def runner() -> ScriptedRunner:
    r = ScriptedRunner()
    r.results = dict(HEALTHY)
    return r


def make(db: StoreThread, runner: ScriptedRunner, inv: Inventory,
         clock: Clock | None = None) -> tuple[Monitor, Exposition]:
    monitor = Monitor(inv, runner, db, clock=clock or Clock())  # type: ignore[arg-type]
    exposition = Exposition(monitor)
    exposition.attach()
    return monitor, exposition


async def sweep_all(monitor: Monitor, clock: Clock | None = None, times: int = 1) -> None:
    for _ in range(times):
        if clock is not None:
            clock.now += 60
        for key in list(monitor.groups):
            await monitor.run_group(key)


def samples(text: bytes) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text.decode()):
        for s in family.samples:
            key = (s.name, frozenset(s.labels.items()))
            assert key not in out, f"duplicate series {key}"
            out[key] = s.value
    return out


def value(found: Samples, metric: str, /, **label_values: str) -> float:
    return found[(metric, frozenset(label_values.items()))]


def series(found: Samples, name: str) -> list[dict[str, str]]:
    return [dict(labels) for n, labels in found if n == name]


def dev_labels(d: Device) -> dict[str, str]:
    return {"county": d.county, "kind": d.kind, "device": d.id}


def check_labels(d: Device, check: str) -> dict[str, str]:
    return {**dev_labels(d), "check": check, "probe": check}


async def test_per_device_families_carry_the_cycle_results(db: StoreThread,
                                                            runner: ScriptedRunner) -> None:
    """Each device's cycle results land in their families with the right labels and units."""
    monitor, exposition = make(db, runner, inventory(SWITCH, CAMERA, CAMERA2, ENDPOINT))
    runner.results["cam-2"] = {"icmp": down()}
    await sweep_all(monitor)
    found = samples(exposition.render())
    assert value(found, "netwatch_device_up", **dev_labels(CAMERA)) == 1
    assert value(found, "netwatch_device_up", **dev_labels(CAMERA2)) == 0
    assert value(found, "netwatch_probe_success", **check_labels(CAMERA2, "icmp")) == 0
    assert value(found, "netwatch_probe_success", **check_labels(CAMERA, "rtsp")) == 1
    assert value(found, "netwatch_probe_duration_seconds", **check_labels(CAMERA, "icmp")) == 0.01
    assert value(found, "netwatch_icmp_rtt_seconds", **check_labels(ENDPOINT, "icmp")) == 0.04
    assert value(found, "netwatch_icmp_packet_loss_ratio", **check_labels(CAMERA2, "icmp")) == 1
    assert value(found, "netwatch_icmp_jitter_seconds", **check_labels(CAMERA, "icmp")) == 0.0005
    site = check_labels(SWITCH, "snmp")
    assert value(found, "netwatch_snmp_uptime_seconds", **site) == 3600.5
    assert value(found, "netwatch_uplink_up", **site) == 1
    assert value(found, "netwatch_uplink_speed_bytes_per_second", **site) == 125e6
    assert value(found, "netwatch_uplink_in_errors_total", **site) == 7
    assert value(found, "netwatch_rtsp_status_code", **check_labels(CAMERA, "rtsp")) == 200
    assert value(found, "netwatch_sip_status_code", **check_labels(ENDPOINT, "sip")) == 200
    assert value(found, "netwatch_fault_suppressed_children", **dev_labels(SWITCH)) == 0
    measured = series(found, "netwatch_icmp_rtt_seconds")
    assert check_labels(CAMERA, "icmp") in measured
    assert check_labels(CAMERA2, "icmp") not in measured  # no reply, no RTT


async def test_uplink_down_reads_zero(db: StoreThread, runner: ScriptedRunner) -> None:
    """An uplink whose ifOperStatus is not up(1) exports netwatch_uplink_up 0."""
    monitor, exposition = make(db, runner, inventory(SWITCH))
    runner.results["sw-1"] = {"icmp": ping(), "snmp": agent(status=2)}
    await sweep_all(monitor)
    assert value(samples(exposition.render()), "netwatch_uplink_up",
                 **check_labels(SWITCH, "snmp")) == 0


async def test_info_series_hold_names_and_coordinates_only_there(db: StoreThread,
                                                                  runner: ScriptedRunner) -> None:
    """Device and coverage point info carry name, site and lat/lon (empty when absent)."""
    monitor, exposition = make(db, runner, inventory(CAMERA, CAMERA2))
    await sweep_all(monitor)
    found = samples(exposition.render())
    info = {**dev_labels(CAMERA), "site": "s1", "name": "cam-1", "lat": "30.5", "lon": "120.25"}
    assert value(found, "netwatch_device_info", **info) == 1
    bare = {**dev_labels(CAMERA2), "site": "s1", "name": "cam-2", "lat": "", "lon": ""}
    assert value(found, "netwatch_device_info", **bare) == 1
    point = {"county": "east", "point": "p-1", "name": "Bridge", "lat": "30.1", "lon": "120.2",
             "technology": "pdt"}
    assert value(found, "netwatch_coverage_point_info", **point) == 1
    for (name, label_set) in found:
        if not name.endswith("_info"):
            assert not {"name", "lat", "lon", "site"} & {k for k, _ in label_set}, name


async def test_hostile_text_is_escaped(db: StoreThread, runner: ScriptedRunner) -> None:
    """Quotes, backslashes, newlines and Chinese in ids and names come back intact."""
    odd = device(HOSTILE, "camera", "east", "icmp", name=HOSTILE)
    runner.results[HOSTILE] = {"icmp": ping()}
    monitor, exposition = make(db, runner, inventory(odd))
    await sweep_all(monitor)
    found = samples(exposition.render())
    assert value(found, "netwatch_device_up", **dev_labels(odd)) == 1
    assert value(found, "netwatch_device_info", **dev_labels(odd), site="s1", name=HOSTILE,
                 lat="", lon="") == 1


async def test_unprobed_devices_have_no_cycle_samples(db: StoreThread,
                                                      runner: ScriptedRunner) -> None:
    """Before its first cycle a device has info but no up or probe series."""
    monitor, exposition = make(db, runner, inventory(CAMERA))
    found = samples(exposition.render())
    assert series(found, "netwatch_device_info")
    assert not series(found, "netwatch_device_up")
    assert not series(found, "netwatch_probe_success")
    assert value(found, "netwatch_ready") == 0


async def test_reload_drops_vanished_devices(db: StoreThread, runner: ScriptedRunner) -> None:
    """After a reload a removed device leaves every family; an added one starts with info."""
    monitor, exposition = make(db, runner, inventory(CAMERA, CAMERA2))
    await sweep_all(monitor)
    added = device("cam-9", "camera", "west", "icmp")
    monitor.reload(inventory(CAMERA, added))
    exposition.on_inventory(monitor.inventory)
    text = exposition.render()
    found = samples(text)
    assert b'device="cam-2"' not in text
    assert value(found, "netwatch_device_up", **dev_labels(CAMERA)) == 1
    assert dev_labels(added) not in series(found, "netwatch_device_up")
    assert {**dev_labels(added), "site": "s1", "name": "cam-9", "lat": "", "lon": ""} in series(
        found, "netwatch_device_info")


async def test_county_figures_are_zero_filled(db: StoreThread, runner: ScriptedRunner) -> None:
    """Every county × kind has device, fault and maintenance counts, zero where empty."""
    monitor, exposition = make(db, runner, inventory(CAMERA, ENDPOINT))
    await sweep_all(monitor)
    found = samples(exposition.render())
    grid = [{"county": c, "kind": k} for c in sorted(COUNTIES) for k in sorted(KINDS)]
    for name in ("netwatch_devices", "netwatch_open_faults", "netwatch_online_ratio"):
        assert sorted(series(found, name), key=lambda d: (d["county"], d["kind"])) == grid, name
    held = [{**cell, "source": source} for cell in grid for source in ("county", "inventory")]
    assert sorted(series(found, "netwatch_devices_in_maintenance"),
                  key=lambda d: (d["county"], d["kind"], d["source"])) == held
    assert value(found, "netwatch_devices", county="east", kind="camera") == 1
    assert value(found, "netwatch_devices", county="south", kind="switch") == 0
    assert value(found, "netwatch_online_ratio", county="west", kind="vc_endpoint") == 1
    assert math.isnan(value(found, "netwatch_online_ratio", county="south", kind="camera"))
    assert value(found, "netwatch_online_target_ratio", kind="camera") == 0.95
    assert value(found, "netwatch_online_target_ratio", kind="switch") == 0.98
    assert {d["kind"] for d in series(found, "netwatch_online_target_ratio")} == set(KINDS)


async def test_faults_suppression_and_online_ratio(db: StoreThread, runner: ScriptedRunner) -> None:
    """A down switch's children are suppressed and count as down; maintenance is left out."""
    clock = Clock()
    window = MaintenanceWindow(
        "repaint", devices=("vc-1",),
        start=datetime.fromtimestamp(T0 - 3600, UTC), end=datetime.fromtimestamp(T0 + 1e6, UTC))
    monitor, exposition = make(db, runner,
                               inventory(SWITCH, CAMERA, CAMERA2, ENDPOINT, maintenance=(window,)),
                               clock)
    runner.results.update({"sw-1": {"icmp": down(), "snmp": down()},
                           "cam-1": {"icmp": down(), "rtsp": down()},
                           "vc-1": {"icmp": down(), "sip": down()}})
    await sweep_all(monitor, clock, times=3)
    found = samples(exposition.render())

    def fault(d: Device, suppressed: str) -> dict[str, str]:
        return {**dev_labels(d), "fault": "unreachable", "suppressed": suppressed}

    assert value(found, "netwatch_fault_open", **fault(SWITCH, "false")) == 1
    assert value(found, "netwatch_fault_open", **fault(CAMERA, "true")) == 1
    assert value(found, "netwatch_fault_open", **fault(ENDPOINT, "true")) == 1
    assert value(found, "netwatch_fault_since_timestamp_seconds", **fault(SWITCH, "false")) == (
        T0 + 60)
    assert value(found, "netwatch_fault_suppressed_children", **dev_labels(SWITCH)) == 1
    assert value(found, "netwatch_open_faults", county="east", kind="switch") == 1
    assert value(found, "netwatch_open_faults", county="east", kind="camera") == 0
    assert value(found, "netwatch_online_ratio", county="east", kind="camera") == 0.5
    assert math.isnan(value(found, "netwatch_online_ratio", county="west", kind="vc_endpoint"))
    assert value(found, "netwatch_devices_in_maintenance", county="west", kind="vc_endpoint",
                 source="inventory") == 1
    assert value(found, "netwatch_devices_in_maintenance", county="west", kind="vc_endpoint",
                 source="county") == 0
    assert value(found, "netwatch_devices", county="west", kind="vc_endpoint") == 1


async def test_monitor_health_families(db: StoreThread, runner: ScriptedRunner) -> None:
    """Sweep counts, targets, intervals and readiness reflect the monitor's own stats."""
    clock = Clock()
    monitor, exposition = make(db, runner, inventory(SWITCH, CAMERA, CAMERA2), clock)
    await sweep_all(monitor, clock, times=2)
    monitor.stats["camera@60s"].overruns = 4
    found = samples(exposition.render())
    cams = {"group": "camera@60s", "kind": "camera"}
    assert value(found, "netwatch_sweep_runs_total", **cams) == 2
    assert value(found, "netwatch_sweep_overruns_total", **cams) == 4
    assert value(found, "netwatch_sweep_targets", **cams) == 2
    assert value(found, "netwatch_sweep_interval_seconds", **cams) == 60
    assert value(found, "netwatch_sweep_last_run_timestamp_seconds", **cams) == T0 + 120
    assert value(found, "netwatch_sweep_duration_seconds", **cams) >= 0
    assert value(found, "netwatch_ready") == 1
    assert series(found, "netwatch_build_info") == [{"version": exposition.version}]


async def test_reload_outcome_is_exported(db: StoreThread, runner: ScriptedRunner) -> None:
    """A refused reload reads 0 and keeps the last success time; a good one moves it."""
    _, exposition = make(db, runner, inventory(CAMERA))
    exposition.reload_result(True, 1234.5)
    exposition.reload_result(False, 2000.0)
    found = samples(exposition.render())
    assert value(found, "netwatch_inventory_last_reload_successful") == 0
    assert value(found, "netwatch_inventory_last_reload_success_timestamp_seconds") == 1234.5


async def test_providers_add_families_and_cannot_break_the_scrape(
        db: StoreThread, runner: ScriptedRunner) -> None:
    """A provider's families appear; one that fails or repeats a name is left out alone."""
    _, exposition = make(db, runner, inventory(CAMERA))
    spots = FamilySpec("netwatch_blind_spots", "gauge", "Open blind spots per county.")

    def blind_spots() -> list[Family]:
        family = Family(spots)
        family.add(labels((("county", "east"),)), 2)
        return [family]

    def broken() -> list[Family]:
        raise RuntimeError("store gone")

    def clashing() -> list[Family]:
        family = Family(FamilySpec("netwatch_devices", "gauge", "again"))
        family.add("", 9)
        return [family]

    for provider in (broken, blind_spots, clashing):
        exposition.add_provider(provider)
    found = samples(exposition.render())
    assert value(found, "netwatch_blind_spots", county="east") == 2
    assert ("netwatch_devices", frozenset()) not in found


async def test_secrets_never_exported(db: StoreThread, runner: ScriptedRunner) -> None:
    """SNMP communities and v3 keys configured on devices appear nowhere in the output."""
    v3 = snmp.parse_params({"version": "3", "user": "netwatch", "auth_protocol": "SHA",
                            "auth_key": AUTH_KEY, "priv_protocol": "AES", "priv_key": PRIV_KEY})
    site = Device(id="ts-1", kind="trunking_site", county="west", address="127.77.0.2",
                  name="ts-1", checks=(CheckSpec("snmp", "snmp", 161, v3),), interval=60.0,
                  timeout=1.0)
    runner.results["ts-1"] = {"snmp": agent()}
    monitor, exposition = make(db, runner, inventory(SWITCH, site))
    await sweep_all(monitor)
    text = exposition.render()
    assert b"netwatch_snmp_uptime_seconds{" in text
    for secret in (COMMUNITY, AUTH_KEY, PRIV_KEY):
        assert secret.encode() not in text


@pytest.mark.skipif(shutil.which("promtool") is None,
                    reason="promtool missing (Debian package prometheus)")
async def test_promtool_accepts_the_output(db: StoreThread, runner: ScriptedRunner) -> None:
    """`promtool check metrics` finds no problem in an exposition holding every family."""
    clock = Clock()
    switch2 = device("sw-2", "switch", "west", "icmp", "snmp")
    site = device("ts-1", "trunking_site", "west", "icmp", "snmp", "http")
    odd = device(HOSTILE, "camera", "west", "icmp", parent="sw-2", name=HOSTILE)
    monitor, exposition = make(
        db, runner, inventory(SWITCH, switch2, site, CAMERA, CAMERA2, ENDPOINT, odd), clock)
    runner.results.update({
        "sw-2": {"icmp": down(), "snmp": down()}, HOSTILE: {"icmp": down()},
        "cam-1": {"icmp": ping(), "rtsp": ProbeResult.fail(Reason.AUTH, "401",
                                                             status_code=401)},
        "ts-1": {"icmp": ping(), "snmp": agent(), "http": ProbeResult.ok(status_code=204)},
    })
    await sweep_all(monitor, clock, times=3)
    text = exposition.render()
    found = samples(text)
    for spec in FAMILIES:
        assert series(found, spec.name), f"{spec.name} missing from the checked output"
    assert {"true", "false"} <= {s["suppressed"] for s in series(found, "netwatch_fault_open")}
    promtool = shutil.which("promtool")
    assert promtool is not None
    proc = await asyncio.create_subprocess_exec(
        promtool, "check", "metrics", stdin=PIPE, stdout=PIPE, stderr=STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(text), timeout=30)
    assert proc.returncode == 0, out.decode()
