"""When sweeps run: one APScheduler 3 job per device group, at the group's interval.

Every job starts once at startup (spread over a few seconds), then repeats at
its interval with jitter. A group never sweeps twice at once (``max_instances``
1); a run that comes due while the previous one still runs is counted as an
overrun rather than silently dropped, and late runs are never discarded
(APScheduler's default 1 s misfire grace would drop them under load).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from netwatch.monitor import Monitor
from netwatch.store import OperationalError

log = logging.getLogger(__name__)

JOB_PREFIX = "sweep:"
MAX_JITTER = 5.0  # seconds; spreads groups that share an interval
START_SPREAD = 2.0  # seconds over which the first sweeps of all groups start


STOP_WAIT = 5.0  # seconds to let cancelled jobs unwind at shutdown


def _name(func: Callable[[], Awaitable[None]]) -> str:
    """A job's function in words for the log: ``duty prune``, ``sweep camera@60s``."""
    if isinstance(func, partial):
        return f"sweep {func.args[0]}" if func.args else "sweep"
    return f"duty {getattr(func, '__name__', 'job')}"


class _Executor(AsyncIOExecutor):
    """APScheduler's asyncio executor, which can say which jobs are still in flight."""

    def running(self) -> list[asyncio.Future[object]]:
        return [f for f in self._pending_futures if not f.done()]


class SweepScheduler:
    """Keeps one job per monitor group; ``sync`` after a reload adds and removes jobs."""

    def __init__(self, monitor: Monitor, timezone: str) -> None:
        self.monitor = monitor
        self.tz = ZoneInfo(timezone)
        self._executor = _Executor()
        self.scheduler = AsyncIOScheduler(
            timezone=self.tz,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            executors={"default": self._executor},
        )
        self.scheduler.add_listener(self._on_skip, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)
        self._intervals: dict[str, float] = {}
        self._stopping = False

    def start(self) -> None:
        """Start inside the running loop (APScheduler binds to it at start)."""
        self.sync()
        self.scheduler.start()

    async def shutdown(self) -> None:
        """Stop scheduling, cancel running jobs and wait (briefly) until they have unwound."""
        if not self.scheduler.running:
            return
        self._stopping = True
        running = self._executor.running()
        self.scheduler.shutdown(wait=False)  # cancels the running jobs' tasks
        if running:
            await asyncio.wait(running, timeout=STOP_WAIT)

    def add_job(self, job_id: str, func: Callable[[], Awaitable[None]], trigger: object) -> None:
        """For other periodic work (notices later): same scheduler, same rules."""
        self.scheduler.add_job(self._quiet, trigger, args=[func], id=job_id, name=job_id,
                               replace_existing=True)

    def sync(self) -> None:
        """Make the jobs match the monitor's groups (after start and after every reload)."""
        now = datetime.now(self.tz)
        wanted = {key: group.interval for key, group in self.monitor.groups.items()}
        for key in set(self._intervals) - set(wanted):
            self.scheduler.remove_job(JOB_PREFIX + key)
            del self._intervals[key]
        for key, interval in wanted.items():
            if self._intervals.get(key) == interval:
                continue
            first = now + timedelta(seconds=random.uniform(0, min(START_SPREAD, interval)))
            self.scheduler.add_job(
                self._quiet,
                IntervalTrigger(seconds=interval, jitter=min(MAX_JITTER, interval / 10)),
                args=[partial(self.monitor.run_group, key)],
                id=JOB_PREFIX + key,
                name=f"sweep {key}",
                replace_existing=True,
                next_run_time=first,
            )
            self._intervals[key] = interval

    async def _quiet(self, func: Callable[[], Awaitable[None]]) -> None:
        """Run one job; its cancellation by our own shutdown is not an error worth a traceback,
        nor is the store being away (the database thread logs that once; the job runs again)."""
        try:
            await func()
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            log.debug("job cancelled at shutdown")
        except OperationalError as exc:
            log.warning("%s not done, the store is away: %s", _name(func), exc)

    def _on_skip(self, event: JobEvent) -> None:
        key = event.job_id.removeprefix(JOB_PREFIX)
        stats = self.monitor.stats.get(key)
        if stats is not None:
            stats.overruns += 1
        log.warning("sweep %s skipped: the previous one is still running", key)

