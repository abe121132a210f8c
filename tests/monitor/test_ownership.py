"""A monitor that is active for some counties and standby for others: what it probes of the
others, that it judges and exports nothing of them, and how a takeover adopts a county."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from netwatch.inventory import Device
from netwatch.metrics import Exposition
from netwatch.monitor import DeviceResult, Monitor, Ownership, Shadow
from netwatch.store import Store, StoreThread, open_episodes
from probes.base import ProbeResult
from tests.metrics.test_exposition import Clock, device, down, inventory, ping, samples
from tests.notices.city import fault

CAM_E = device("cam-e", "camera", "east", "icmp", "rtsp")
CAM_W = device("cam-w", "camera", "west", "icmp", "rtsp")
RTSP_ONLY_W = device("gate-w", "camera", "west", "rtsp")
CITY = inventory(CAM_E, CAM_W, RTSP_ONLY_W)


class Runner:
    """Answers only the checks each device it is handed has (as the real runner does), and
    remembers what it was handed; ``hold`` keeps a sweep open until released."""

    def __init__(self, answers: dict[str, dict[str, ProbeResult]]) -> None:
        self.answers = answers
        self.asked: list[Device] = []
        self.hold: asyncio.Event | None = None
        self.entered = asyncio.Event()

    async def sweep(self, devices: Iterable[Device]) -> list[DeviceResult]:
        devices = list(devices)
        self.asked += devices
        self.entered.set()
        if self.hold is not None:
            await self.hold.wait()
        return [DeviceResult(d, {c.name: self.answers[d.id][c.name] for c in d.checks})
                for d in devices]


def failing() -> dict[str, dict[str, ProbeResult]]:
    return {d: {"icmp": down(), "rtsp": down()} for d in ("cam-e", "cam-w", "gate-w")}


def monitor(db: StoreThread, runner: Runner, shadow: Shadow = Shadow.ICMP) -> Monitor:
    ownership = Ownership("a", shadow=shadow, generations={"east": 1})
    return Monitor(CITY, runner, db, clock=Clock(), ownership=ownership)  # type: ignore[arg-type]


async def sweep(m: Monitor, times: int) -> None:
    for _ in range(times):
        m.clock.now += 60  # type: ignore[attr-defined]
        for key in list(m.groups):
            await m.run_group(key)


async def test_a_standby_pings_only_and_judges_nothing(db: StoreThread) -> None:
    runner = Runner(failing())
    m = monitor(db, runner)
    exposition = Exposition(m, process_metrics=False)
    exposition.attach()
    await sweep(m, CAM_E.open_after + 1)
    probed = {d.id: tuple(c.name for c in d.checks) for d in runner.asked}
    assert probed == {"cam-e": ("icmp", "rtsp"), "cam-w": ("icmp",)}  # gate-w: no ICMP check
    assert set(m.faults) == {"cam-e"}  # the west's failures are its active's to judge
    assert m.states["cam-w"].checked_at > 0 and not m.states["cam-w"].up  # kept warm
    found = samples(exposition.render())
    devices = {dict(labels).get("device") for (name, labels) in found
               if name == "netwatch_device_up"}
    assert devices == {"cam-e"}  # and exported by the west's active only
    counties = {dict(labels)["county"] for (name, labels) in found
                if name == "netwatch_devices"}
    assert counties == {"east"}


async def test_full_shadowing_runs_every_check(db: StoreThread) -> None:
    runner = Runner(failing())
    m = monitor(db, runner, Shadow.FULL)
    await sweep(m, 1)
    assert {d.id for d in runner.asked} == {"cam-e", "cam-w", "gate-w"}
    defined = {d.id: d.checks for d in CITY.devices}
    assert all(d.checks == defined[d.id] for d in runner.asked)


async def test_a_takeover_adopts_faults_and_judges_no_shadow_cycle(
        store: Store, db: StoreThread) -> None:
    """cam-w's RTSP is down (an open service fault, first seen at 1000); it answers ping.
    The lease is taken while a standby sweep (ICMP only) is under way: that cycle must not
    count as a good cycle of the service fault, nor may the hand-over open or close any."""
    episode = fault(store, "cam-w", 1000.0, "service_down", county="west")
    answers = failing()
    answers["cam-w"] = {"icmp": ping(), "rtsp": down()}
    runner = Runner(answers)
    m = monitor(db, runner)
    runner.hold = asyncio.Event()
    sweeping = asyncio.ensure_future(m.run_group(next(iter(m.groups))))
    await runner.entered.wait()
    [ep] = await db.call(open_episodes, ["west"])
    assert m.adopt("west", 2, [ep]) == 1
    runner.hold.set()
    await sweeping
    adopted = m.faults["cam-w"]["service_down"]
    assert (adopted.first_seen, adopted.episode_id) == (1000.0, episode)
    assert m.states["cam-w"].streaks["service_down"].good == 0  # the ICMP cycle judged nothing
    assert m.writes.pending == 0
    # from now on the west is probed and judged fully: RTSP still down, the fault stays
    runner.hold = None
    await sweep(m, CAM_W.close_after + 1)
    assert "service_down" in m.faults["cam-w"]
    assert ("cam-w", ("icmp", "rtsp")) in {(d.id, tuple(c.name for c in d.checks))
                                          for d in runner.asked}


async def test_dropping_a_county_forgets_its_faults_and_closes_none(
        store: Store, db: StoreThread) -> None:
    runner = Runner(failing())
    m = monitor(db, runner)
    await sweep(m, CAM_E.open_after + 1)
    assert "cam-e" in m.faults
    m.drop("east")
    assert m.faults == {} and not m.active("east")
    await sweep(m, 1)
    assert store.scalar("SELECT count(*) FROM fault_episodes WHERE closed_at IS NOT NULL") == 0
