"""Fault changes on their way to the store: written in order, kept while the store is away.

The monitor decides in memory, from its probes alone: a fault opens, closes or is
re-marked there whatever the store says, and never because of it. Each evaluation's
changes become one ``Batch`` (the opened faults with their evidence, the re-marked
ones, the closed ones with their closing time, all taken when they happened), and one
task writes the batches in order, one transaction each, on the database thread. When
the store is away (``OperationalError``: locked, gone, its queue full) the first batch
stays first in line and is tried again after a pause growing to ``RETRY_MAX`` (or at
once on ``flush``, or at the first sweep that finds the store answering again): nothing
is lost, nothing is written twice, and an episode keeps the first-seen and closing
times it had when it happened. While the store is known away a sweep does not wait for
the writer at all. A batch the fault log refuses as a contradiction (``FaultLogError``,
a bug) is logged and dropped, so it cannot hold back the ones after it.

With several instances, a batch holds one county's changes and carries the guard of
its lease (``netwatch.monitor.leases``): once the county's lease has moved on, the
store refuses it (``Fenced``) and it is dropped, as are the county's batches still
waiting when the monitor lets the county go (``drop``): the new active has the
episodes and judges them from now on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from netwatch.monitor.faults import OpenFault
from netwatch.monitor.leases import Fenced
from netwatch.runtime import stop_task, wait_done
from netwatch.store import (
    Episode,
    FaultLog,
    FaultLogError,
    Guard,
    NewEpisode,
    OperationalError,
    Store,
    guarded,
)
from netwatch.store import StoreThread as Database

log = logging.getLogger(__name__)

RETRY_FIRST = 1.0  # seconds before the first retry while the store is away
RETRY_MAX = 30.0


@dataclass(slots=True)
class Batch:
    """One evaluation's changes, as they were when the monitor made them."""

    opened: list[tuple[OpenFault, NewEpisode]] = field(default_factory=list)
    updated: list[tuple[OpenFault, str | None, str]] = field(default_factory=list)
    closed: list[tuple[OpenFault, float, str]] = field(default_factory=list)
    county: str | None = None  # the county of every change (None: not kept apart)
    guard: Guard | None = None  # the county's lease fence, when several instances run

    def __len__(self) -> int:
        return len(self.opened) + len(self.updated) + len(self.closed)


def _apply(store: Store, opened: Sequence[NewEpisode],
           updated: Sequence[tuple[int, str | None, str]],
           closed: Sequence[tuple[int, float, str]]) -> list[Episode]:
    """On the database thread: one batch, one transaction."""
    return FaultLog(store).apply(opened, updated, closed)


class EpisodeWriter:
    """Writes the monitor's batches in order through the database thread."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._batches: deque[Batch] = deque()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()  # retry now (``flush``)
        self._idle = asyncio.Event()  # nothing being written: done, or waiting to retry
        self._idle.set()
        self.retries = 0  # attempts that found the store away, since start

    @property
    def pending(self) -> int:
        """Fault changes decided but not yet in the store."""
        return sum(len(b) for b in self._batches)

    def add(self, batch: Batch) -> None:
        """Queue a batch behind the others and make sure the writer runs."""
        if not batch:
            return
        self._batches.append(batch)
        if self._task is None or self._task.done():
            self._idle.clear()
            self._task = asyncio.get_running_loop().create_task(self._drain(),
                                                                 name="netwatch-fault-writer")

    async def settle(self, within: float) -> None:
        """Wait (up to ``within`` s) until the batches are written or the store is away;
        not at all while it is known away (a retry under way then is likely to fail, and
        may wait on a lock or a connection: the sweeps must not)."""
        if not self.db.status().up:
            return
        if self._batches and self._task is not None and not self._task.done():
            self._idle.clear()  # wait for that retry below
            self._wake.set()  # the store answers (again): retry now, not after the pause
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                await self._idle.wait()

    async def flush(self, within: float | None = None) -> bool:
        """Try the waiting batches now and wait for them (up to ``within`` s); True when
        none is left."""
        task = self._task
        if task is None or task.done():
            return not self._batches
        self._wake.set()
        await wait_done(task, within)
        return not self._batches

    def drop(self, county: str) -> None:
        """Forget the county's batches still waiting (the one being written, if any, meets
        the fence); the county's lease has moved on."""
        busy = self._task is not None and not self._task.done()
        writing = self._batches[0] if self._batches and busy else None
        kept = [b for b in self._batches if b is writing or b.county != county]
        gone = len(self._batches) - len(kept)
        if gone:
            self._batches = deque(kept)
            log.warning("%d batch(es) of fault changes of %s not recorded: the county's "
                        "active instance has its episodes now", gone, county)

    async def close(self) -> None:
        """Stop retrying (at shutdown); what is still waiting is said in the log."""
        await stop_task(self._task)
        if self._batches:
            log.error("%d fault change(s) not recorded: the store was away at shutdown; the "
                      "faults open again at the next run's sweeps", self.pending)

    async def _drain(self) -> None:
        delay = RETRY_FIRST
        while self._batches:
            batch = self._batches[0]
            try:
                await self._write(batch)
            except OperationalError as exc:
                self.retries += 1
                if delay == RETRY_FIRST:
                    log.error("%d fault change(s) kept in memory, the store is away: %s",
                              self.pending, exc)
                self._idle.set()
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._wake.wait()
                self._idle.clear()
                delay = min(delay * 2, RETRY_MAX)
                continue
            except Fenced as exc:
                log.warning("%d fault change(s) not recorded: %s", len(batch), exc)
            except FaultLogError as exc:
                log.error("fault changes dropped, the fault log refuses them: %s", exc)
            else:
                if delay != RETRY_FIRST:
                    log.warning("fault changes kept while the store was away are recorded")
            delay = RETRY_FIRST
            self._batches.popleft()
        self._idle.set()

    async def _write(self, batch: Batch) -> None:
        updated = [(f.episode_id, by, detail) for f, by, detail in batch.updated
                   if f.episode_id is not None]
        closed = [(f.episode_id, at, reason) for f, at, reason in batch.closed
                  if f.episode_id is not None]
        with guarded(batch.guard):
            episodes = await self.db.call(_apply, [new for _, new in batch.opened], updated,
                                          closed)
        for (fault, _), episode in zip(batch.opened, episodes, strict=True):
            fault.episode_id = episode.id
