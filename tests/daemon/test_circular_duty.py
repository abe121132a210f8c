"""The daemon's monthly circular: issued on the month's first working day at its time, once;
a first working day missed while down is caught up at the next start."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from netwatch.circulars import every_circular
from netwatch.daemon import SweepScheduler
from netwatch.daemon.duties import CIRCULAR_CATCH_UP, CIRCULAR_JOB, Duties
from netwatch.daemon.runs import last_run, mark_run
from netwatch.inventory import CircularSettings, Inventory
from netwatch.store import Store, StoreThread
from tests.daemon.test_duties import Providers
from tests.daemon.test_scheduler import SlowMonitor
from tests.notices.city import SETTINGS, at, city

ZONE = ZoneInfo("Asia/Shanghai")


def inventory(**notices: object) -> Inventory:
    return city(settings=replace(SETTINGS, circular=CircularSettings(prefix="示公通"),
                                 **notices))  # type: ignore[arg-type]


def duties(db: StoreThread, tmp_path: Path, inv: Inventory,
           scheduler: SweepScheduler | None = None) -> Duties:
    return Duties(db, lambda: inv, tmp_path / "notices", scheduler or SweepScheduler(
        SlowMonitor(), "Asia/Shanghai"))  # type: ignore[arg-type]


def issued(store: Store) -> list[tuple[str, str]]:
    return [(r["month"], r["number"]) for r in every_circular(store)]


async def test_the_daily_run_issues_on_the_first_working_day_only(
        store: Store, db: StoreThread, tmp_path: Path) -> None:
    """November 2026 begins on a Sunday: nothing on the 1st, October's circular on Monday
    the 2nd (files written, run recorded, counted in the metrics), nothing more on the 3rd
    or at a second run."""
    d = duties(db, tmp_path, inventory())
    collected = Providers()
    d.attach(collected)  # type: ignore[arg-type]
    await d.scheduled_circular(at("2026-11-01"))
    assert issued(store) == [] and await db.call(last_run, CIRCULAR_JOB) is None
    samples = await collected.samples()
    assert samples["netwatch_circulars_issued_total"] == [("", 0)]
    assert samples["netwatch_circular_last_issued_timestamp_seconds"] == []
    await d.scheduled_circular(at("2026-11-02"))
    assert issued(store) == [("2026-10", "示公通〔2026〕1号")]
    samples = await collected.samples()
    assert samples["netwatch_circulars_issued_total"] == [("", 1)]
    assert samples["netwatch_circular_last_issued_timestamp_seconds"] == [("", at("2026-11-02"))]
    assert await db.call(last_run, CIRCULAR_JOB) is not None
    assert sorted(p.suffix for p in (tmp_path / "notices" / "circulars").iterdir()) == [
        ".docx", ".html", ".json", ".pdf", ".xlsx"]
    await d.scheduled_circular(at("2026-11-02", 10))
    await d.scheduled_circular(at("2026-11-03"))
    assert issued(store) == [("2026-10", "示公通〔2026〕1号")]


async def test_a_make_up_sunday_is_the_first_working_day(
        store: Store, db: StoreThread, tmp_path: Path) -> None:
    """The 1st made a working day: issued then. October 2026's golden week (1–7 off):
    not before Thursday the 8th."""
    made_up = duties(db, tmp_path, inventory(workdays=(date(2026, 11, 1),)))
    await made_up.scheduled_circular(at("2026-11-01"))
    assert issued(store) == [("2026-10", "示公通〔2026〕1号")]
    golden = duties(db, tmp_path, inventory(
        holidays=tuple(date(2026, 10, d) for d in range(1, 8))))
    for day in range(1, 8):
        await golden.scheduled_circular(at(f"2026-10-0{day}"))
    assert [m for m, _ in issued(store)] == ["2026-10"]
    await golden.scheduled_circular(at("2026-10-08"))
    assert [m for m, _ in issued(store)] == ["2026-10", "2026-09"]


async def test_a_disabled_circular_or_one_without_a_prefix_is_not_issued(
        store: Store, db: StoreThread, tmp_path: Path) -> None:
    for circular in (CircularSettings(prefix="示公通", enabled=False), CircularSettings()):
        inv = city(settings=replace(SETTINGS, circular=circular))
        await duties(db, tmp_path, inv).scheduled_circular(at("2026-11-02"))
    assert issued(store) == [] and await db.call(last_run, CIRCULAR_JOB) is None


def _due_month(now: datetime) -> str:
    """The month whose circular was last due before ``now`` (no holidays: the first
    weekday of a month at 09:00), worked out by hand."""
    first = now.date().replace(day=1)
    while first.weekday() >= 5:
        first += timedelta(days=1)
    start = first.replace(day=1)
    if now < datetime.combine(first, datetime.min.time(), ZONE) + timedelta(hours=9):
        start = (start - timedelta(days=1)).replace(day=1)  # this month's not due yet
    last = start - timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


async def test_a_first_working_day_missed_while_down_is_caught_up(
        store: Store, db: StoreThread, tmp_path: Path) -> None:
    """Never run here: nothing to catch up. Last run 40 days ago: the catch-up is scheduled
    at start and issues the month that was due; after it, a start schedules none."""
    inv = inventory()

    async def start() -> SweepScheduler:
        scheduler = SweepScheduler(SlowMonitor(), "Asia/Shanghai")  # type: ignore[arg-type]
        scheduler.start()
        await duties(db, tmp_path, inv, scheduler).schedule()
        return scheduler

    scheduler = await start()
    trigger = str(scheduler.scheduler.get_job(CIRCULAR_JOB).trigger)
    assert "hour='9'" in trigger and "minute='0'" in trigger
    assert scheduler.scheduler.get_job(CIRCULAR_CATCH_UP) is None  # never ran here
    await scheduler.shutdown()
    await db.call(mark_run, CIRCULAR_JOB, time.time() - 40 * 86400)
    scheduler = await start()
    job = scheduler.scheduler.get_job(CIRCULAR_CATCH_UP)
    assert job is not None
    await job.args[0]()  # the catch-up's run, as the scheduler would make it
    await scheduler.shutdown()
    assert [m for m, _ in issued(store)] == [_due_month(datetime.now(ZONE))]
    scheduler = await start()
    assert scheduler.scheduler.get_job(CIRCULAR_CATCH_UP) is None
    await scheduler.shutdown()
