"""The daemon's periodic work besides sweeps: notice items, scheduled notices, delivery, retention.

Data flows one way: fault episodes (the monitor) and coverage verdicts (readings)
become notice items; items become notices on the inventory's cron schedule;
notices go out through the outbox. Every duty's store work runs on the database
thread (``netwatch.store.worker``), never on the event loop; a failing pass (the
store away included) is logged and retried at its next run, never fatal to the
daemon. ``schedule`` is called again after every reload so that a changed notice
schedule takes effect.

A scheduled issue missed while the daemon was down (the Monday 08:00 run during a
restart) is caught up shortly after start, as anacron would: the last scheduled run
is recorded in ``schedule_runs``. Issuing is idempotent per county and day, so a
catch-up never doubles a notice.

The monthly circular (``netwatch.circulars``) is looked at daily at its time of day
(``notices.circular.time``): on the month's first working day (the notices' calendar:
weekends, holidays, make-up working days) the previous month's circular is issued and
its files written under the notices' directory. A first working day missed while no
instance ran the duties is caught up at the next start or take-over, for the month it
was due for; issuing is idempotent per month, so a catch-up never doubles a circular.

With several instances over one database, the duties run on the one instance that
holds the duties' lease (``leading``; the others' jobs return at once) and every
write they make is fenced by that lease (``netwatch.monitor.leases``): an instance
that lost it mid-run writes nothing more, and numbering stays gap-free because a
refused issue rolls back whole. The instance that takes the duties over checks at
once for a scheduled issue missed meanwhile. The families read from the shared
database (notices, deliveries, coverage, readings, gaps) are exported by the leading
instance only, so a city's Prometheus never sums them twice. First checks, which
belong to a county, are written under that county's lease by its active instance.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import Executor
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from netwatch.circulars import OUTBOX as CIRCULARS_OUTBOX
from netwatch.circulars import (
    CircularError,
    circular_families,
    issue_circular,
    write_circular_files,
)
from netwatch.coverage import CoverageReport, Snapshot, candidates_of, coverage_families
from netwatch.daemon.runs import last_run, mark_run
from netwatch.daemon.scheduler import SweepScheduler
from netwatch.daemon.threads import in_thread
from netwatch.inventory import Inventory, NoticeSettings, cron_trigger, is_demo_inventory
from netwatch.metrics import Exposition, Family, gap_families
from netwatch.monitor import (
    DUTIES,
    DeviceState,
    Fenced,
    Ownership,
    record_first_checks,
)
from netwatch.notices import (
    IssueError,
    cited_episodes,
    deliver_due,
    first_working_day,
    issue_notices,
    notice_families,
    outbox_families,
    prune_sent,
    sync_items,
    write_files,
)
from netwatch.store import OperationalError, Store, StoreThread, guarded, prune_episodes
from netwatch.survey import prune_readings, survey_families
from netwatch.vocab import OFFLINE_FAULTS  # what a notice counts as down

log = logging.getLogger(__name__)

ITEMS_PERIOD = 60.0  # seconds between notice-item syncs (open, rectify, verify, reopen)
COVERAGE_PERIOD = 15.0  # seconds between checks whether the coverage analysis is stale
DELIVERY_PERIOD = 30.0  # seconds between outbox passes
PRUNE_PERIOD = 3600.0  # seconds between retention passes (readings, faults, deliveries)
CATCH_UP_DELAY = 5.0  # seconds after start before a missed scheduled issue is caught up
LOOKBACK = (timedelta(hours=1), timedelta(days=1), timedelta(days=8))  # for the last fire time
NOTICES_JOB = "duty:notices"
STORE_CHECK_PERIOD = 10.0  # seconds between checks that the store takes writes
ISSUE_RETRY = 60.0  # seconds between tries of a scheduled issue the store was away for
RETRY_JOB = "duty:notices-retry"
CIRCULAR_JOB = "duty:circular"  # daily; issues on the month's first working day
CIRCULAR_CATCH_UP = "duty:circular-catch-up"


def _prune_episodes(store: Store, cutoff: float) -> int:
    """Closed episodes past ``cutoff``, except those notice items cite (one transaction)."""
    with store.transaction() as tx:
        return prune_episodes(tx, cutoff, keep=cited_episodes(tx))


def previous_month(day: date) -> str:
    """``YYYY-MM`` of the month before ``day``'s."""
    last = day.replace(day=1) - timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


def last_circular_due(settings: NoticeSettings, now: datetime) -> datetime | None:
    """The latest time at or before ``now`` a circular was due: this month's first working
    day at the circular's time, else last month's (None only for a calendar with no
    working day)."""
    zone = ZoneInfo(settings.timezone)
    this = now.date().replace(day=1)
    for first in (this, (this - timedelta(days=1)).replace(day=1)):
        try:
            day = first_working_day(first.year, first.month, settings)
        except ValueError:
            return None
        due = datetime.combine(day, settings.circular.at, zone)
        if due <= now:
            return due
    return None


def last_fire(trigger: Any, now: datetime) -> datetime | None:
    """The latest time at or before ``now`` that the cron trigger fired (up to 8 days back)."""
    for back in LOOKBACK:
        fire, last = trigger.get_next_fire_time(None, now - back), None
        while fire is not None and fire <= now:
            last = fire
            fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
        if last is not None:
            return last
    return None


class Duties:
    """Registers the duties' jobs and metrics; reads the current inventory at each run.

    Work that leaves the event loop (coverage analyses, notice files, delivery PDFs and
    mail) runs in ``executor``, the daemon's own pool (``netwatch.daemon.threads``).
    """

    def __init__(self, db: StoreThread, inventory: Callable[[], Inventory], notice_dir: Path,
                 scheduler: SweepScheduler, executor: Executor | None = None,
                 ownership: Ownership | None = None) -> None:
        self.db = db
        self.ownership = ownership  # None: one instance, leading always
        self.inventory = inventory
        self.notice_dir = notice_dir
        self.scheduler = scheduler
        self.executor = executor
        self.coverage = Snapshot(executor=executor)
        self._schedule: tuple[str, str] | None = None
        self._circular: tuple[dt_time, str] | None = None  # the circular's time of day, zone
        self._monitored: set[str] = set()  # devices whose first settled check is recorded
        self._first_check: dict[str, float] = {}  # checked, not yet settled: first check
        self._unwritten: list[tuple[str, float]] = []  # first checks taken, not yet written
        self._recording = asyncio.Lock()  # one write of first checks at a time
        self._tasks: set[asyncio.Task[None]] = set()
        scheduler.monitor.listeners.append(self.on_sweep)

    @property
    def leading(self) -> bool:
        """Whether this instance runs the city-wide duties now."""
        return self.ownership is None or self.ownership.leading

    def _led(self, duty: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        """The job of a city-wide duty: nothing unless leading, and fenced by the lease."""
        async def run() -> None:
            if not self.leading:
                return
            fence = None if self.ownership is None else self.ownership.guard((DUTIES,))
            with guarded(fence):
                try:
                    await duty()
                except Fenced as exc:
                    log.warning("%s stopped: %s", duty.__name__, exc)
        run.__name__ = duty.__name__
        return run

    async def on_leases(self, taken: set[str], lost: set[str]) -> None:
        """The lease loop's listener: taking the duties over catches up a scheduled issue
        missed meanwhile (the instance that held them may have died just before it)."""
        if DUTIES in taken and self._schedule is not None:
            await self._catch_up(cron_trigger(*self._schedule), self._schedule[1])
        if DUTIES in taken and self._circular is not None:
            await self._catch_up_circular()

    def attach(self, exposition: Exposition) -> None:
        """Add the notice, delivery, circular, coverage, survey and gap families to
        ``/metrics`` (read on the database thread at each scrape)."""
        db = self.db
        exposition.add_provider(self._shared(lambda: db.call(notice_families, self.inventory())))
        exposition.add_provider(self._shared(lambda: db.call(outbox_families)))
        exposition.add_provider(self._shared(lambda: db.call(circular_families)))
        exposition.add_provider(self._shared(self.coverage_families))
        exposition.add_provider(self._shared(lambda: db.call(survey_families, self.inventory())))
        exposition.add_provider(self._shared(lambda: db.call(gap_families,
                                                             self.inventory().counties)))

    def _shared(self, provider: Callable[[], Awaitable[list[Family]]]
                ) -> Callable[[], Awaitable[list[Family]]]:
        """A provider of families read from the shared database: the leading instance's."""
        async def provide() -> list[Family]:
            return await provider() if self.leading else []
        return provide

    async def current_coverage(self) -> CoverageReport | None:
        """For the web: the leading instance's latest analysis (None until its first);
        another instance analyses on demand, at most once per ``COVERAGE_PERIOD`` and only
        when a reading or a site fault changed what it reads (off the event loop)."""
        if self.leading:
            return self.coverage.report
        return await self.coverage.recent(self.db, self.inventory(), COVERAGE_PERIOD)

    async def coverage_families(self) -> list[Family]:
        """The latest coverage analysis as metrics (analysed first only when there is none)."""
        inventory = self.inventory()
        return coverage_families(await self.coverage.latest(self.db, inventory), inventory)

    async def schedule(self) -> None:
        """Add the jobs (first call) or follow a changed notice or circular schedule (after a
        reload)."""
        await self._schedule_circular()
        settings = self.inventory().notices
        wanted = (settings.schedule, settings.timezone)
        if wanted == self._schedule:
            return
        add = self.scheduler.add_job
        trigger = cron_trigger(*wanted)
        led = self._led
        if self._schedule is None:
            add("duty:coverage", led(self.analyse), IntervalTrigger(seconds=COVERAGE_PERIOD))
            add("duty:items", led(self.sync), IntervalTrigger(seconds=ITEMS_PERIOD))
            add("duty:deliver", led(self.deliver), IntervalTrigger(seconds=DELIVERY_PERIOD))
            add("duty:prune", led(self.prune), IntervalTrigger(seconds=PRUNE_PERIOD))
            add("duty:store", self.check_store, IntervalTrigger(seconds=STORE_CHECK_PERIOD))
            if self.leading:
                await self._catch_up(trigger, wanted[1])
        add(NOTICES_JOB, led(self.scheduled_issue), trigger)
        self._schedule = wanted
        log.info("notices scheduled at %r (%s)", *wanted)

    async def _schedule_circular(self) -> None:
        """The circular's daily look at the calendar, at its time of day (added again when
        the time or the zone changes); the first call catches up a missed issue."""
        settings = self.inventory().notices
        wanted = (settings.circular.at, settings.timezone)
        if wanted == self._circular:
            return
        first = self._circular is None
        self.scheduler.add_job(CIRCULAR_JOB, self._led(self.scheduled_circular), CronTrigger(
            hour=wanted[0].hour, minute=wanted[0].minute, timezone=wanted[1]))
        self._circular = wanted
        log.info("the monthly circular is due on each month's first working day at %s (%s)",
                 wanted[0].strftime("%H:%M"), wanted[1])
        if first and self.leading:
            await self._catch_up_circular()

    async def _catch_up_circular(self) -> None:
        """Issue soon a circular whose first working day passed while no instance ran the
        duties (and the daemon had issued circulars here before)."""
        inventory = self.inventory()
        due = last_circular_due(inventory.notices, datetime.now(ZoneInfo(
            inventory.notices.timezone)))
        ran = await self.db.call(last_run, CIRCULAR_JOB)
        if due is None or ran is None or due.timestamp() <= ran:
            return
        month = previous_month(due.date())
        log.info("the circular of %s was due at %s and missed: issuing it now", month, due)

        async def catch_up_circular() -> None:
            await self.issue_circular(month)
        self.scheduler.add_job(CIRCULAR_CATCH_UP, self._led(catch_up_circular), DateTrigger(
            datetime.now(due.tzinfo) + timedelta(seconds=CATCH_UP_DELAY)))

    async def scheduled_circular(self, now: float | None = None) -> None:
        """The daily run: on the month's first working day, the previous month's circular."""
        settings = self.inventory().notices
        now = time.time() if now is None else now
        today = datetime.fromtimestamp(now, ZoneInfo(settings.timezone)).date()
        if today == first_working_day(today.year, today.month, settings):
            await self.issue_circular(previous_month(today), now)

    async def issue_circular(self, month: str, now: float | None = None) -> None:
        """Issue (or find) the month's circular, write its files, remember the run. Nothing
        while the circular is disabled or has no prefix; the store away: the next day's
        run, or the next start's catch-up, tries again (issuing is idempotent per month)."""
        inventory = self.inventory()
        circular = inventory.notices.circular
        if not circular.enabled or not circular.prefix:
            log.info("the circular of %s is not issued: %s", month,
                     "notices.circular.enabled is false" if circular.prefix
                     else "notices.circular.prefix is not set")
            return
        try:
            issued = await self.db.call(issue_circular, inventory, month,
                                        time.time() if now is None else now,
                                        demonstration=is_demo_inventory(Path(inventory.path)))
        except CircularError as exc:
            log.error("the circular of %s not issued: %s", month, exc)
            return
        except OperationalError as exc:
            log.warning("the circular of %s not issued, the store is away (%s)", month, exc)
            return
        await self.db.call(mark_run, CIRCULAR_JOB, time.time())
        # laying out the PDF takes seconds: never on the event loop the probes run on
        await in_thread(self.executor, write_circular_files, issued.record, self.notice_dir)
        if issued.created:
            log.info("issued the circular %s of %s", issued.record.number, month)
            await self.deliver()

    async def _catch_up(self, trigger: Any, zone: str) -> None:
        """Issue soon a scheduled issue missed while no instance ran the duties."""
        missed = await self._missed(trigger, datetime.now(ZoneInfo(zone)))
        if missed is not None:
            log.info("the scheduled notices of %s were missed: issuing them now", missed)
            self.scheduler.add_job("duty:notices-catch-up", self._led(self.scheduled_issue),
                                   DateTrigger(datetime.now(ZoneInfo(zone))
                                               + timedelta(seconds=CATCH_UP_DELAY)))

    async def _missed(self, trigger: Any, now: datetime) -> datetime | None:
        """The last fire time, when the daemon has run the schedule before but not since."""
        ran = await self.db.call(last_run, NOTICES_JOB)
        fired = last_fire(trigger, now)
        if ran is None or fired is None or fired.timestamp() <= ran:
            return None
        return fired

    async def scheduled_issue(self) -> None:
        """The cron's run: issue, and remember that the schedule ran; while the store is
        away, try again every ``ISSUE_RETRY`` seconds (issuing is idempotent)."""
        try:
            await self.issue()
            await self.db.call(mark_run, NOTICES_JOB, time.time())
        except OperationalError as exc:
            log.warning("scheduled notices not issued, the store is away (%s); trying again "
                        "in %.0f s", exc, ISSUE_RETRY)
            zone = ZoneInfo(self.inventory().notices.timezone)
            self.scheduler.add_job(RETRY_JOB, self._led(self.scheduled_issue), DateTrigger(
                datetime.now(zone) + timedelta(seconds=ISSUE_RETRY)))

    async def check_store(self) -> None:
        """Whether the store takes writes: ``/readyz`` and ``netwatch_store_up`` follow it
        even when nothing else writes (the database thread says when it goes or comes)."""
        await self.db.check()

    async def analyse(self) -> None:
        """Analyse coverage again (in a thread) when a reading or a site fault changed it."""
        runs = self.coverage.runs
        report = await self.coverage.refresh(self.db, self.inventory())
        if self.coverage.runs != runs:
            log.debug("coverage analysed: %d verdicts, %d blind spots", len(report.verdicts),
                      len(report.blind_spots))

    async def on_sweep(self, key: str, touched: list[DeviceState]) -> None:
        """The monitor's listener: first checks are taken as each sweep finishes and written
        then; the sweep waits for the write no longer than for its fault changes
        (``WRITE_WAIT``), and the write carries on without it."""
        self._take_first_checks(touched)
        task = asyncio.ensure_future(self._write_first_checks())
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        await asyncio.wait({task}, timeout=self.scheduler.monitor.write_wait)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("first checks not recorded (again at the next sweep): %s",
                        task.exception())

    async def record_monitored(self, states: Iterable[DeviceState] | None = None) -> None:
        """Record from when each device's online time counts (the notice's denominator).

        A device counts from its first check in this run once that check is settled:
        it answered (up), or its outage fault has opened (whose first-seen time is that
        first failing check, so it counts as down from then). A device checked but not
        yet settled gets an infinite ``since`` — no time, no rate — so a notice issued in
        a daemon's first minutes never claims 100 % for time nothing was measured.
        Earlier rows (a previous run) are kept: the earliest time wins.
        """
        self._take_first_checks(states)
        await self._write_first_checks()

    def _take_first_checks(self, states: Iterable[DeviceState] | None = None) -> None:
        """Decide the rows now, from the states as they are (a write may come later)."""
        monitor = self.scheduler.monitor
        if self._monitored.issuperset(monitor.states):  # the usual case: no loop
            return
        for state in monitor.states.values() if states is None else states:
            device = state.device.id
            if not state.checked_at or device in self._monitored or not monitor.active(
                    state.device.county):
                continue  # a standby's shadow checks start no county's time
            first = self._first_check.get(device)
            if state.up or any(f in OFFLINE_FAULTS for f in monitor.faults.get(device, ())):
                self._unwritten.append((device, state.checked_at if first is None else first))
                self._first_check.pop(device, None)
                self._monitored.add(device)
            elif first is None:
                self._first_check[device] = state.checked_at
                self._unwritten.append((device, math.inf))

    async def _write_first_checks(self) -> None:
        """Write the rows taken so far, in order, under their counties' leases; kept for
        the next try if the store is away, dropped if a lease moved on (the county's new
        active records its own, and the earliest wins)."""
        async with self._recording:
            rows, self._unwritten = self._unwritten, []
            if not rows:
                return
            fence = None
            if self.ownership is not None:
                states = self.scheduler.monitor.states
                fence = self.ownership.guard({states[d].device.county for d, _ in rows
                                              if d in states})
            try:
                with guarded(fence):
                    await self.db.call(record_first_checks, rows)
            except Fenced as exc:
                log.warning("first checks of %d device(s) not recorded: %s", len(rows), exc)
            except BaseException:
                self._unwritten[:0] = rows
                raise

    async def sync(self) -> None:
        """Bring notice items up to date with fault episodes and coverage verdicts."""
        await self.record_monitored()
        inventory = self.inventory()
        extra = candidates_of(await self.coverage.refresh(self.db, inventory), inventory)
        report = await self.db.call(sync_items, inventory, time.time(), extra,
                                    coverage_judged=True)
        log.debug("notice items: %s", report)

    async def issue(self) -> None:
        """Issue today's notices (idempotent: a county's notice of the day is found, not redone)."""
        await self.record_monitored()
        inventory = self.inventory()
        extra = candidates_of(await self.coverage.refresh(self.db, inventory), inventory)
        now = time.time()
        try:
            outcomes = await self.db.call(issue_notices, inventory, now=now, extra=extra,
                                          coverage_judged=True)
        except IssueError as exc:
            log.error("scheduled notices not issued: %s", exc)
            return
        # laying out PDFs takes seconds: never on the event loop the probes run on
        outcomes = await in_thread(self.executor, write_files, outcomes, self.notice_dir,
                                   ("zh", "en"))
        for o in outcomes:
            if o.created and o.record is not None:
                log.info("issued %s to %s (%d items)", o.record.number, o.county,
                         len(o.record.items))
        await self.deliver()

    async def deliver(self) -> None:
        """Send the outbox's due deliveries (notices' and circulars'); failures are retried
        later with backoff."""
        report = await deliver_due(self.db, self.inventory(), executor=self.executor,
                                   circulars=CIRCULARS_OUTBOX)
        log.debug("deliveries: %s", report)

    async def prune(self) -> None:
        """Delete readings, closed fault episodes and sent deliveries past their retention.

        Each table's owner prunes its own rows. Both histories grow with time and
        nothing reads them past a while: closed episodes serve recurrence checks and a
        notice period's online rates (the settings demand a retention longer than
        both), sent deliveries only the audit of a recent send. Kept whatever their
        age: open episodes, episodes a notice item cites (an issued notice's
        evidence; asked of the items in the same transaction), deliveries pending or
        failed, and sent ones that needed retries (their failures feed a counter that
        must never go down).
        """
        inventory, now = self.inventory(), time.time()
        removed = await self.db.call(prune_readings, inventory, now)
        if removed:
            log.info("pruned %d survey reading(s) past retention", removed)
        settings = inventory.notices
        faults = await self.db.call(_prune_episodes, now - settings.fault_retention_seconds)
        sent = await self.db.call(prune_sent, now - settings.delivery_retention_seconds)
        if faults or sent:
            log.info("pruned %d closed fault episode(s) and %d sent deliveries past retention",
                     faults, sent)
