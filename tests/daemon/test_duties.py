"""The daemon's duties: scheduled notices land as files and metrics; jobs follow the schedule."""

from __future__ import annotations

import inspect
import math
import time
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from netwatch.daemon import SweepScheduler
from netwatch.daemon.duties import NOTICES_JOB, RETRY_JOB, Duties, last_fire
from netwatch.daemon.runs import last_run
from netwatch.inventory import Device, Inventory
from netwatch.inventory.units import cron_trigger
from netwatch.metrics import Family, Provider
from netwatch.monitor import DUTIES, Monitor, Ownership
from netwatch.notices.issue import issue_notices
from netwatch.notices.summary import figures
from netwatch.store import Store, StoreThread
from tests.daemon.test_scheduler import SlowMonitor
from tests.metrics.test_exposition import ScriptedRunner, down
from tests.notices.city import HOUR, SETTINGS, city, device, fault
from tests.store.away import Lock, quick_thread


class Providers:
    """Collects what ``Duties.attach`` registers, as the exposition would."""

    def __init__(self) -> None:
        self.providers: list[Provider] = []

    def add_provider(self, provider: Provider) -> None:
        self.providers.append(provider)

    async def samples(self) -> dict[str, list[tuple[str, float]]]:
        out: dict[str, list[tuple[str, float]]] = {}
        for provider in self.providers:
            got = provider()
            for family in await got if inspect.isawaitable(got) else got:
                assert isinstance(family, Family)
                out.setdefault(family.spec.name, []).extend(family.samples)
        return out


async def test_issue_writes_notices_and_metrics_count_them(store: Store, db: StoreThread,
                                                          tmp_path: Path) -> None:
    """A fault open past its grace becomes an item; the scheduled pass issues east's notice once."""
    inventory = city()
    fault(store, "cam-8", time.time() - 5 * HOUR, county="west")
    duties = Duties(db, lambda: inventory, tmp_path / "notices", SweepScheduler(
        SlowMonitor(), "Asia/Shanghai"))  # type: ignore[arg-type]
    collected = Providers()
    duties.attach(collected)  # type: ignore[arg-type]
    await duties.sync()
    await duties.issue()
    await duties.issue()  # the same day: found, not issued again
    rows = store.conn.execute("SELECT county, number FROM notices").fetchall()
    assert [r["county"] for r in rows] == ["west"]
    for suffix in ("zh.html", "en.html", "zh.md", "json"):
        assert len(list((tmp_path / "notices" / "west").glob(f"*.{suffix}"))) == 1, suffix
    samples = await collected.samples()
    assert ('{county="west"}', 1) in samples["netwatch_notices_issued_total"]
    assert ('{county="east"}', 0) in samples["netwatch_notices_issued_total"]
    assert ('{county="west"}', 1) in samples["netwatch_notice_items_open"]
    for name in ("netwatch_blind_spots", "netwatch_survey_readings_received_total",
                 "netwatch_notice_deliveries_pending"):
        assert name in samples


async def test_schedule_follows_a_changed_notice_schedule(db: StoreThread,
                                                         tmp_path: Path) -> None:
    """Jobs are added once; a reload with a new cron moves only the notices job."""
    current: list[Inventory] = [city()]
    scheduler = SweepScheduler(SlowMonitor(), "Asia/Shanghai")  # type: ignore[arg-type]
    duties = Duties(db, lambda: current[0], tmp_path, scheduler)
    scheduler.start()  # as in the daemon: duties are scheduled on a running scheduler
    await duties.schedule()
    jobs = {j.id: j for j in scheduler.scheduler.get_jobs()}
    assert {"duty:coverage", "duty:items", "duty:deliver", "duty:prune", "duty:store",
            "duty:notices"} <= set(jobs)
    assert "hour='8'" in str(jobs["duty:notices"].trigger)
    current[0] = city(settings=replace(SETTINGS, schedule="30 17 * * 5"))
    await duties.schedule()
    trigger = str(scheduler.scheduler.get_job("duty:notices").trigger)
    assert "hour='17'" in trigger and "minute='30'" in trigger
    assert len(scheduler.scheduler.get_jobs()) == len(jobs)
    await scheduler.shutdown()


def test_last_fire_time_of_a_cron() -> None:
    """Mondays 08:00 seen on a Wednesday is two days back; every minute is this minute."""
    zone = ZoneInfo("Asia/Shanghai")
    wednesday = datetime(2026, 12, 2, 15, 30, 20, tzinfo=zone)
    assert last_fire(cron_trigger("0 8 * * 1", "Asia/Shanghai"), wednesday) == \
        datetime(2026, 11, 30, 8, 0, tzinfo=zone)
    assert last_fire(cron_trigger("* * * * *", "Asia/Shanghai"), wednesday) == \
        datetime(2026, 12, 2, 15, 30, tzinfo=zone)
    assert last_fire(cron_trigger("0 8 29 2 *", "Asia/Shanghai"), wednesday) is None


async def test_a_scheduled_issue_missed_while_down_is_caught_up(store: Store, db: StoreThread,
                                                                tmp_path: Path) -> None:
    """Recorded runs decide: one older than the last fire time means a missed run, caught up
    soon after start; a fresh install or an up-to-date record schedules no catch-up."""
    inventory = city()

    async def catch_up_scheduled() -> bool:
        scheduler = SweepScheduler(SlowMonitor(), "Asia/Shanghai")  # type: ignore[arg-type]
        scheduler.start()
        await Duties(db, lambda: inventory, tmp_path, scheduler).schedule()
        found = scheduler.scheduler.get_job("duty:notices-catch-up") is not None
        await scheduler.shutdown()
        return found

    assert not await catch_up_scheduled()  # never ran here: nothing was missed
    duties = Duties(db, lambda: inventory, tmp_path, SweepScheduler(
        SlowMonitor(), "Asia/Shanghai"))  # type: ignore[arg-type]
    await duties.scheduled_issue()
    assert not await catch_up_scheduled()  # ran just now
    with store.transaction() as conn:
        conn.execute("UPDATE schedule_runs SET ran_at = ?", (time.time() - 7.5 * 86400,))
    assert await catch_up_scheduled()  # last ran before the latest Monday 08:00


@dataclass
class Checked:
    """What duties read of a device's state: its id, last check time and whether it is up."""

    device: Device
    checked_at: float
    up: bool = True


async def test_first_checks_are_recorded_once(store: Store, db: StoreThread,
                                              tmp_path: Path) -> None:
    """Devices checked so far get their first-check time; later checks never move it."""
    monitor = SlowMonitor()
    cam1, cam2 = device("cam-1"), device("cam-2")
    monitor.states = {"cam-1": Checked(cam1, 1000.0), "cam-2": Checked(cam2, 0.0)}  # not yet
    duties = Duties(db, city, tmp_path, SweepScheduler(
        monitor, "Asia/Shanghai"))  # type: ignore[arg-type]
    await duties.record_monitored()
    monitor.states = {"cam-1": Checked(cam1, 2000.0), "cam-2": Checked(cam2, 1500.0)}
    await duties.record_monitored()
    again = Duties(db, city, tmp_path, SweepScheduler(
        monitor, "Asia/Shanghai"))  # type: ignore[arg-type]
    monitor.states["cam-1"] = Checked(cam1, 3000.0)
    await again.record_monitored()  # a restart: the earliest time is kept
    rows = dict(store.conn.execute("SELECT device, since FROM monitored_since"))
    assert rows == {"cam-1": 1000.0, "cam-2": 1500.0}


async def test_a_device_down_counts_from_its_first_check_once_its_fault_opens(
        store: Store, db: StoreThread, tmp_path: Path) -> None:
    """Down at its first check: no time counts (infinite since) until the outage fault opens,
    then from that first check; never from a later one."""
    monitor = SlowMonitor()
    cam = device("cam-1")
    monitor.states = {"cam-1": Checked(cam, 1000.0, up=False)}
    duties = Duties(db, city, tmp_path, SweepScheduler(
        monitor, "Asia/Shanghai"))  # type: ignore[arg-type]
    await duties.record_monitored()
    assert dict(store.conn.execute("SELECT device, since FROM monitored_since")) == {
        "cam-1": math.inf}
    monitor.states = {"cam-1": Checked(cam, 1060.0, up=False)}
    monitor.faults = {"cam-1": {"unreachable": object()}}
    await duties.record_monitored()
    assert dict(store.conn.execute("SELECT device, since FROM monitored_since")) == {
        "cam-1": 1000.0}


async def test_a_notice_seconds_after_the_first_sweep_claims_no_rate(
        store: Store, db: StoreThread, tmp_path: Path) -> None:
    """A daemon's first sweep finds every device down; a notice issued seconds later (its
    period ends at the issue time) counts them down from their first check: 0 %, where the
    old code claimed 100.0 % for time nothing was measured."""
    inventory = city(device("cam-1", grace_seconds=0.0), device("cam-2", grace_seconds=0.0))
    runner = ScriptedRunner()
    runner.results = {"cam-1": {"icmp": down()}, "cam-2": {"icmp": down()}}
    monitor = Monitor(inventory, runner, db)  # type: ignore[arg-type]
    Duties(db, lambda: inventory, tmp_path, SweepScheduler(monitor, "Asia/Shanghai"))
    first_sweep = time.time()
    for _ in range(3):  # open_after: the outage faults open
        for key in monitor.groups:
            await monitor.run_group(key)
    (outcome,) = [o for o in issue_notices(store, inventory, now=time.time(),
                                           counties=["east"]) if o.record is not None]
    assert [(s.kind, s.online_ratio) for s in outcome.record.summary] == [("camera", 0.0)]
    later = figures(store, inventory, first_sweep - HOUR, time.time() + 10)
    assert later["east"]["camera"].ratio == 0.0


async def test_a_scheduled_issue_the_store_was_away_for_is_tried_again(
        tmp_path: Path) -> None:
    """The store refuses writes at 08:00: the run says so, leaves the schedule unmarked and
    comes back a minute later; once the store answers the notice is issued and the run
    recorded."""
    inventory = city()
    db = quick_thread(tmp_path / "netwatch.db")
    scheduler = SweepScheduler(SlowMonitor(), "Asia/Shanghai")  # type: ignore[arg-type]
    scheduler.start()
    try:
        with Store.open(tmp_path / "netwatch.db") as store:
            fault(store, "cam-8", time.time() - 5 * HOUR, county="west")
        duties = Duties(db, lambda: inventory, tmp_path / "notices", scheduler)
        lock = Lock(tmp_path / "netwatch.db")
        try:
            await duties.scheduled_issue()
        finally:
            lock.release()
        retry = scheduler.scheduler.get_job(RETRY_JOB)
        assert retry is not None and await db.call(last_run, NOTICES_JOB) is None
        await retry.args[0]()  # the retry's run, as the scheduler would make it
        with Store.open(tmp_path / "netwatch.db") as store:
            assert [r["county"] for r in store.query("SELECT county FROM notices")] == ["west"]
        assert await db.call(last_run, NOTICES_JOB) is not None
    finally:
        await scheduler.shutdown()
        db.close()


async def test_an_instance_not_leading_answers_coverage_on_demand(db: StoreThread,
                                                                 tmp_path: Path) -> None:
    """The web's coverage: the leading instance serves its duty's latest analysis (none
    before its first run); another instance, whose duty never runs, analyses on demand."""
    inventory = city()
    scheduler = SweepScheduler(SlowMonitor(), "Asia/Shanghai")  # type: ignore[arg-type]
    leader = Duties(db, lambda: inventory, tmp_path, scheduler,
                    ownership=Ownership("a", generations={DUTIES: 1, "east": 1}))
    assert await leader.current_coverage() is None and leader.coverage.runs == 0
    await leader._led(leader.analyse)()  # its duty's run
    assert await leader.current_coverage() is leader.coverage.report is not None
    other = Duties(db, lambda: inventory, tmp_path, scheduler,
                   ownership=Ownership("b", generations={"west": 1}))
    await other._led(other.analyse)()  # the duty's job does nothing here
    assert other.coverage.runs == 0
    report = await other.current_coverage()
    assert report is not None and other.coverage.runs == 1
    assert await other.current_coverage() is report and other.coverage.runs == 1
