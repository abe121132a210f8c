"""Early warnings (预警): one trend per warning raises it (and its end clears it), a healthy
noisy device raises none, the baselines survive a restart, and only the county's active
instance writes them, under its lease."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from prometheus_client.parser import text_string_to_metric_families

from netwatch.inventory import CheckSpec, Device, Inventory, WarningSettings
from netwatch.metrics import Exposition, warning_families
from netwatch.monitor import Monitor, Ownership, Trends, claim, current_warnings
from netwatch.monitor.trends import STORED_MAX_AGE
from netwatch.store import Store, StoreThread
from netwatch.vocab import Warning
from probes.base import ProbeResult
from tests.metrics.test_exposition import (
    CAMERA2,
    ENDPOINT,
    HEALTHY,
    SWITCH,
    Clock,
    ScriptedRunner,
    down,
    inventory,
    ping,
    sweep_all,
)

BOTH_ENGINES = True
TTL = 30.0
# quick baselines for a test's minutes of fake time (a sweep every 60 s)
QUICK = WarningSettings(baseline_tau=86400.0, recent_tau=1800.0, min_samples=30,
                        loss_rise=0.02, rtt_rise=0.5, rtt_min_rise=0.02, uplink_errors=50,
                        errors_window=1800.0, reboots_per_day=3, flap_changes=3,
                        clock_drift_per_day=2.0, clock_window=3600.0, clock_min_samples=6,
                        flush_every=600.0)
CITY = replace(inventory(SWITCH, CAMERA2, ENDPOINT), warnings=QUICK)  # east: sw-1, cam-2


def tracker(db: StoreThread, runner: ScriptedRunner, clock: Clock, city: Inventory = CITY,
            ownership: Ownership | None = None) -> tuple[Monitor, Trends]:
    monitor = Monitor(city, runner, db, clock=clock, ownership=ownership)  # type: ignore[arg-type]
    trends = Trends(monitor)
    monitor.listeners.append(trends.on_sweep)
    return monitor, trends


async def sweeps(monitor: Monitor, trends: Trends, clock: Clock, times: int = 1) -> None:
    """Sweeps a minute apart, each followed by its writes (the daemon never waits for them)."""
    for _ in range(times):
        await sweep_all(monitor, clock)
        await _settled(trends)


async def _settled(trends: Trends) -> None:
    task = trends._task
    if task is not None:
        await task
    for loading in list(trends._loading.values()):
        await loading


def raised(trends: Trends) -> dict[str, set[Warning]]:
    found: dict[str, set[Warning]] = {}
    for device, warning, _ in trends.raised():
        found.setdefault(device.id, set()).add(warning)
    return found


def stored(store: Store) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for w in current_warnings(store):
        found.setdefault(w.device, set()).add(w.warning)
    return found


def healthy() -> ScriptedRunner:
    runner = ScriptedRunner()
    runner.results = dict(HEALTHY)
    return runner


async def test_loss_rising_against_the_baseline(store: Store, db: StoreThread) -> None:
    """cam-2's loss goes 0 → 2 % → 5 %, an hour each after its normal: 2 % stays under the
    2-point rise over its baseline, 5 % raises loss_rising; back to 0 clears it."""
    clock, runner = Clock(), healthy()
    monitor, trends = tracker(db, runner, clock)
    await sweeps(monitor, trends, clock, 200)
    assert raised(trends) == {}
    runner.results["cam-2"] = {"icmp": ping(loss=0.02)}
    await sweeps(monitor, trends, clock, 60)
    assert raised(trends) == {}
    runner.results["cam-2"] = {"icmp": ping(loss=0.05)}
    await sweeps(monitor, trends, clock, 60)
    assert raised(trends) == {"cam-2": {Warning.LOSS_RISING}}
    assert stored(store) == {"cam-2": {"loss_rising"}}  # written when raised
    [row] = current_warnings(store, ["east"])
    assert row.kind == "camera" and row.figures["recent"] > row.figures["baseline"] + 0.02
    assert current_warnings(store, ["west"]) == []
    runner.results["cam-2"] = {"icmp": ping(loss=0.0)}
    await sweeps(monitor, trends, clock, 60)
    assert raised(trends) == {} and stored(store) == {}


async def test_rtt_rising_needs_a_baseline_first(store: Store, db: StoreThread) -> None:
    """A slow RTT from the start is the device's normal (its baseline); sw-1's 2 ms going to
    40 ms raises rtt_rising once the rise lasts, not at its first slow cycles."""
    clock, runner = Clock(), healthy()
    runner.results["vc-1"] = {"icmp": ping(rtt=0.12), "sip": ProbeResult.ok(status_code=200)}
    monitor, trends = tracker(db, runner, clock)
    await sweeps(monitor, trends, clock, 200)
    assert raised(trends) == {}
    runner.results["sw-1"] = {**HEALTHY["sw-1"], "icmp": ping(rtt=0.040)}
    await sweeps(monitor, trends, clock, 5)
    assert raised(trends) == {}  # a few slow cycles do not move the recent mean enough
    await sweeps(monitor, trends, clock, 55)
    assert raised(trends) == {"sw-1": {Warning.RTT_RISING}}
    assert stored(store) == {"sw-1": {"rtt_rising"}}


def counters(errors: float, uptime: float = 3600.5) -> ProbeResult:
    return ProbeResult.ok(sys_uptime_seconds=uptime, uplink_oper_status=1, uplink_speed_bps=1e9,
                          uplink_in_errors=errors, uplink_out_errors=errors / 2)


async def test_uplink_errors_rising(store: Store, db: StoreThread) -> None:
    """sw-1's error counters stand still (no warning), then grow 10 a minute: 50 within the
    window raises uplink_errors_rising; once they stand still again the window empties."""
    clock, runner = Clock(), healthy()
    monitor, trends = tracker(db, runner, clock)
    for _ in range(10):
        runner.results["sw-1"] = {"icmp": ping(), "snmp": counters(7)}
        await sweeps(monitor, trends, clock)
    assert raised(trends) == {}
    errors = 7.0
    for _ in range(4):
        errors += 8  # 12 a minute (in + out)
        runner.results["sw-1"] = {"icmp": ping(), "snmp": counters(errors)}
        await sweeps(monitor, trends, clock)
    assert raised(trends) == {}  # 48 so far
    runner.results["sw-1"] = {"icmp": ping(), "snmp": counters(errors + 8)}
    await sweeps(monitor, trends, clock)
    assert raised(trends) == {"sw-1": {Warning.UPLINK_ERRORS_RISING}}
    assert stored(store) == {"sw-1": {"uplink_errors_rising"}}
    await sweeps(monitor, trends, clock, 31)  # the counters stand still past the window
    assert raised(trends) == {} and stored(store) == {}


async def test_reboots_within_a_day(store: Store, db: StoreThread) -> None:
    """Three uptime resets within a day raise reboots; two do not."""
    clock, runner = Clock(), healthy()
    monitor, trends = tracker(db, runner, clock)
    uptime = 5000.0
    for cycle in range(30):
        uptime = 30.0 if cycle in (5, 15, 25) else uptime + 60
        runner.results["sw-1"] = {"icmp": ping(), "snmp": counters(7, uptime)}
        await sweeps(monitor, trends, clock)
        if cycle == 24:
            assert raised(trends) == {}  # two resets
    assert raised(trends) == {"sw-1": {Warning.REBOOTS}}
    [row] = current_warnings(store)
    assert row.figures["count"] == 3
    clock.now += 86400  # a day without another
    await sweeps(monitor, trends, clock)
    assert raised(trends) == {}


async def test_flapping_quietly_below_the_fault(store: Store, db: StoreThread) -> None:
    """cam-2 drops out for single cycles: three changes within the flap window warn while
    no fault is open (open_after keeps the one-cycle outages from opening one); the
    flapping fault's five changes would be a fault, not a warning."""
    clock, runner = Clock(), healthy()
    quiet = replace(CAMERA2, open_after=2)
    city = replace(CITY, devices=(SWITCH, quiet, ENDPOINT))
    monitor, trends = tracker(db, runner, clock, city)
    await sweeps(monitor, trends, clock, 3)
    for result in (down(), ping(), ping(), down()):
        runner.results["cam-2"] = {"icmp": result}
        await sweeps(monitor, trends, clock)
    assert monitor.faults == {}
    assert raised(trends) == {"cam-2": {Warning.FLAPPING_QUIETLY}}
    runner.results["cam-2"] = {"icmp": ping()}
    await sweeps(monitor, trends, clock, 21)  # the changes leave the flap window
    assert raised(trends) == {}


def offset(seconds: float) -> dict[str, ProbeResult]:
    """A camera's cycle with the ONVIF time check's figure."""
    return {"icmp": ping(), "onvif_time": ProbeResult.ok(clock_offset_seconds=seconds)}


def read_clock(device: Device) -> Device:
    """The device with an ``onvif_time`` check read every minute (each sweep a sample)."""
    return replace(device, checks=(*device.checks, CheckSpec("onvif_time", "onvif_time", 80,
                                                             None)),
                   thresholds=replace(device.thresholds, clock_every_seconds=60.0))


async def test_clock_drifting_steadily(store: Store, db: StoreThread) -> None:
    """An offset growing 0.5 s an hour (12 s a day) raises clock_drifting once the window
    holds enough of it; a noisy but steady clock (±1 s around 3 s) raises nothing."""
    clock, runner = Clock(), healthy()
    city = replace(CITY, devices=(read_clock(SWITCH), read_clock(CAMERA2), ENDPOINT))
    monitor, trends = tracker(db, runner, clock, city)
    noise = random.Random(7)
    for minute in range(70):
        runner.results["cam-2"] = offset(1.0 + minute * 0.5 / 60)
        runner.results["sw-1"] = {**HEALTHY["sw-1"],
                                  "onvif_time": offset(3.0 + noise.uniform(-1, 1))["onvif_time"]}
        await sweeps(monitor, trends, clock)
        if minute == 20:
            assert raised(trends) == {}  # under half the window: too little to judge
    assert raised(trends) == {"cam-2": {Warning.CLOCK_DRIFTING}}
    [row] = current_warnings(store)
    assert 11.0 < row.figures["seconds_per_day"] < 13.0


async def test_a_healthy_noisy_device_raises_none(store: Store, db: StoreThread) -> None:
    """RTT jumping 10-60 ms and a lost echo now and then, all within its normal: hours of
    it raise nothing, on any device."""
    clock, runner = Clock(), healthy()
    monitor, trends = tracker(db, runner, clock)
    noise = random.Random(42)
    for _ in range(240):
        loss = 0.2 if noise.random() < 0.05 else 0.0  # one echo of five, one cycle in 20
        runner.results["cam-2"] = {"icmp": ping(rtt=noise.uniform(0.010, 0.060), loss=loss,
                                                jitter=0.02)}
        await sweeps(monitor, trends, clock)
        assert raised(trends) == {}
    assert trends.trends["cam-2"].samples == 239  # the first sweep read the baselines
    assert current_warnings(store) == []


async def test_the_baselines_survive_a_restart(store: Store, db: StoreThread) -> None:
    """Baselines are written every flush_every (not every sweep), only those that moved,
    and every one at a clean stop; a new monitor reads them before judging, so a rise
    right after the restart still warns."""
    clock, runner = Clock(), healthy()
    monitor, trends = tracker(db, runner, clock)
    await sweeps(monitor, trends, clock, 2)
    assert trends.written == 3  # the counties' first write: whole (a baseline per device)
    await sweeps(monitor, trends, clock, 5)
    assert trends.written == 3  # nothing raised: the baselines wait for flush_every
    await sweeps(monitor, trends, clock, 5)
    assert trends.written == 3  # flush_every passed: steady means are not written again
    runner.results["cam-2"] = {"icmp": ping(rtt=0.004)}  # its RTT doubles for a while
    await sweeps(monitor, trends, clock, 10)
    assert trends.written == 4  # only cam-2's baseline moved
    runner.results["cam-2"] = {"icmp": ping()}
    await sweeps(monitor, trends, clock, 179)
    await trends.flush(10.0)
    before = trends.trends["cam-2"]
    samples = before.samples
    assert samples == 200
    await trends.close()
    # a new process on the same database
    again_monitor, again = tracker(db, runner, clock)
    await sweeps(again_monitor, again, clock)  # reads east's and west's baselines
    await sweeps(again_monitor, again, clock)
    after = again.trends["cam-2"]
    assert after.samples == samples + 1  # its means restored, not started again
    assert after.rtt == pytest.approx(before.rtt, rel=1e-3)
    runner.results["cam-2"] = {"icmp": ping(loss=0.06)}
    await sweeps(again_monitor, again, clock, 40)
    assert raised(again) == {"cam-2": {Warning.LOSS_RISING}}  # judged on the kept baseline


async def test_a_standby_writes_nothing_and_a_fenced_write_is_refused(
        store: Store, db: StoreThread) -> None:
    """Instance a is active for east only: west's device has no baseline of a's. Once b has
    taken east over, a's writes are refused (a does not know yet)."""
    clock, runner = Clock(), healthy()
    claimed = claim(store, "a", {"east"}, {}, TTL, now=1000.0)
    mine = Ownership("a", frozenset({"east", "west"}), generations=dict(claimed.held))
    monitor, trends = tracker(db, runner, clock, ownership=mine)
    await sweeps(monitor, trends, clock, 200)
    rows = {r[0]: r[1] for r in store.execute("SELECT device, holder FROM warning_baselines")}
    assert rows == {"sw-1": "a", "cam-2": "a"}  # vc-1 (west): a stands by for it
    assert "vc-1" not in trends.trends
    assert claim(store, "b", {"east"}, {}, TTL, now=1100.0).held == {"east": 2}
    runner.results["cam-2"] = {"icmp": ping(loss=0.08)}
    await sweeps(monitor, trends, clock, 40)
    assert raised(trends) == {"cam-2": {Warning.LOSS_RISING}}  # a still believes it is active
    assert current_warnings(store) == [] and trends.failed > 0  # but wrote none of it


async def test_the_metric_is_1_while_raised_on_the_active_instance_only(
        store: Store, db: StoreThread) -> None:
    """netwatch_warning{device, county, warning} while raised; gone once cleared; a standby
    (a's west) exports none."""
    clock, runner = Clock(), healthy()
    claimed = claim(store, "a", {"east"}, {}, TTL, now=1000.0)
    mine = Ownership("a", frozenset({"east", "west"}), generations=dict(claimed.held))
    west = replace(SWITCH, id="sw-w", county="west", address="127.80.0.9")
    city = replace(CITY, devices=(SWITCH, CAMERA2, west))
    monitor, trends = tracker(db, runner, clock, city, ownership=mine)
    exposition = Exposition(monitor, clock=clock, process_metrics=False)
    exposition.add_provider(lambda: warning_families(trends))

    async def series() -> list[dict[str, str]]:
        text = b"".join(await exposition.scrape_parts()).decode()
        return [dict(s.labels) for f in text_string_to_metric_families(text)
                if f.name == "netwatch_warning" for s in f.samples if s.value == 1]

    uptime = 5000.0
    for cycle in range(12):
        uptime = 30.0 if cycle % 3 == 0 else uptime + 60
        runner.results["sw-1"] = runner.results["sw-w"] = {"icmp": ping(),
                                                           "snmp": counters(7, uptime)}
        await sweeps(monitor, trends, clock)
    assert await series() == [{"device": "sw-1", "county": "east", "warning": "reboots"}]
    clock.now += 86400
    await sweeps(monitor, trends, clock)
    assert await series() == []


async def test_a_stored_baseline_is_written_again_when_it_is_old(store: Store,
                                                                db: StoreThread) -> None:
    """Steady means are written again once their stored row is STORED_MAX_AGE old, so a
    takeover never reads a baseline older than that; each device once."""
    clock, runner = Clock(), healthy()
    monitor, trends = tracker(db, runner, clock)
    await sweeps(monitor, trends, clock, 2)
    first = trends.written
    await sweeps(monitor, trends, clock, int(STORED_MAX_AGE // 60) - 2)
    assert trends.written == first
    await sweeps(monitor, trends, clock, 2 * int(QUICK.flush_every // 60) + 1)
    assert trends.written == 2 * first
