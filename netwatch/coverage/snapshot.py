"""The latest coverage analysis, shared by the metrics, the blind-spot items and the daemon.

An analysis of a large survey takes a second or more (``bench/bench_coverage.py``),
too long for the event loop that times the probes, and too long to hold the daemon's
database thread, which every other store call waits for. The daemon refreshes it in a
worker thread (of its own pool, given as ``executor``) on a connection of its own
(SQLite connections stay in their thread) whenever what it reads has changed (a new
reading, a site fault opened or closed: asked of the database thread) or the window
has moved on (``TTL_SECONDS``); scrapes read the latest one. An instance that does not
run the city's duties analyses on demand instead (``recent``), for its web API, no more
often than the leading instance's duty would.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import Executor

from netwatch.coverage.analysis import CoverageReport, analyse
from netwatch.inventory import Inventory
from netwatch.store import Store, StoreThread, Target, open_mark
from netwatch.survey import newest_id

TTL_SECONDS = 60.0  # after this, readings may have aged out of the window


def inputs(store: Store) -> tuple[object, ...]:
    """What the analysis reads, in brief: the newest reading and the open fault episodes."""
    return (newest_id(store), *open_mark(store))


def analyse_apart(path: Target, inventory: Inventory, now: float) -> CoverageReport:
    """The analysis on a connection of its own, for a worker thread."""
    with Store.open(path, create=False) as store:
        return analyse(store, inventory, now)


class Snapshot:
    """The latest report with what it was computed from; refreshed only when stale."""

    def __init__(self, ttl: float = TTL_SECONDS, executor: Executor | None = None) -> None:
        self.ttl = ttl
        self.executor = executor  # None: the loop's default (tests, commands)
        self.report: CoverageReport | None = None
        self.runs = 0  # analyses made: the daemon logs the new ones
        self._key: tuple[object, ...] = ()
        self._at = 0.0
        self._lock = asyncio.Lock()

    async def refresh(self, db: StoreThread, inventory: Inventory,
                      now: float | None = None) -> CoverageReport:
        """The current report, analysed again in a thread when stale (one analysis at a time)."""
        async with self._lock:
            now = time.time() if now is None else now
            # taken first: a reading landing meanwhile makes the next refresh analyse again
            key = (inventory, *await db.call(inputs))
            if self.report is None or self._key != key or not 0 <= now - self._at < self.ttl:
                report = await asyncio.get_running_loop().run_in_executor(
                    self.executor, analyse_apart, db.path, inventory, now)
                self._keep(report, key, now)
            assert self.report is not None
            return self.report

    async def recent(self, db: StoreThread, inventory: Inventory, within: float,
                     now: float | None = None) -> CoverageReport:
        """The report, refreshed (``refresh``: analysed only when its inputs changed) unless
        one for this inventory was made less than ``within`` seconds ago."""
        now = time.time() if now is None else now
        if (self.report is not None and self._key[0] is inventory
                and 0 <= now - self._at < within):
            return self.report
        return await self.refresh(db, inventory, now)

    async def latest(self, db: StoreThread, inventory: Inventory,
                     now: float | None = None) -> CoverageReport:
        """For scrapes: the latest report, analysed only when there is none for this
        inventory (at start and after a reload) and never merely because it is stale."""
        if self.report is None or self._key[0] is not inventory:
            return await self.refresh(db, inventory, now)
        return self.report

    def _keep(self, report: CoverageReport, key: tuple[object, ...], now: float) -> None:
        self.report, self._key, self._at = report, key, now
        self.runs += 1
