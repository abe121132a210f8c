"""Notice files laid out for the web: a small pool of their own, one render per file, bounded.

A notice's PDF takes from a fraction of a second to several to lay out, its Word and
Excel files less: CPU work that must not run on the event loop. Web renders run on a
pool of ``workers`` threads of their own, and nowhere else: not on the loop's default
executor (the daemon's duties have a pool of their own, ``netwatch.daemon.threads``,
but libraries and aiohttp itself use the default one), and not on the web-worker pool
(``netwatch.web.workers``), where a render would hold up readings.

- **Single flight.** Requests for the same file (notice, format, language) while it is
  being laid out wait for that one layout and all get its bytes.
- **Bounded wait.** At most ``queue`` renders wait for a thread, and none is queued when
  the renders ahead of it are expected to take more than ``wait`` seconds (from how
  long recent renders of each format held their thread). Such a request is refused at
  once: 503 with a ``Retry-After`` of the expected wait, rather than queued without end.
- **Abandoned renders are dropped.** A render that has not started yet and whose every
  waiting client has disconnected is taken off the queue; one already started
  finishes into the cache (the client may ask again).
- **Bounded memory.** Finished files are kept (notices never change) up to
  ``cache_entries`` files and ``cache_bytes`` bytes, least recently used out first.

One thread by default: laying out is Python work that holds the interpreter lock, and
PDFs are laid out one at a time anyway (``netwatch.notices.pdf``), so a second thread
adds little throughput, and contention with the event loop and a second layout's
memory. ``bench/bench_renders.py`` (40 clients, 30 s) measured 209 files laid out with
one thread against 239 with two, and a peak RSS of 394 MiB against 485 MiB.

``RenderStats`` counts what happened, for ``/metrics`` (``render_families``).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from aiohttp import web

from netwatch.metrics import Family, FamilySpec, labels
from netwatch.web.limits import RenderLimits

THREAD_PREFIX = "netwatch-render"
POLL_SECONDS = 0.5  # how often a waiting request checks that its client is still there
SMOOTHING = 0.3  # weight of the latest render's time in a format's estimate
FIRST_GUESS = {"pdf": 1.0}  # seconds per render before one of the format has been timed
OTHER_GUESS = 0.1

Key = tuple[int, str, str]  # notice id, format, language; or circular id, format, "circular"


@dataclass(slots=True)
class RenderStats:
    """What the render pool did, for the daemon's own metrics."""

    rendered: Counter[str] = field(default_factory=Counter)  # layouts finished, per format
    refused: int = 0  # answered 503: the wait would have been too long
    coalesced: int = 0  # requests served by a render another request started
    abandoned: int = 0  # renders dropped before they started: every client had gone
    pending: int = 0  # renders laid out or waiting for a thread now
    cached_bytes: int = 0


class RenderBusy(Exception):
    """The render would wait too long; ``retry_after`` is the expected wait in seconds."""

    def __init__(self, retry_after: int, detail: str) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class ClientGone(Exception):
    """Every client waiting for the render disconnected before it was done."""


class RenderCache:
    """Least recently used renderings, bounded in entries and in bytes."""

    def __init__(self, entries: int, size: int, stats: RenderStats) -> None:
        self.entries, self.size, self.stats = entries, size, stats
        self.kept: OrderedDict[Key, bytes] = OrderedDict()

    def get(self, key: Key) -> bytes | None:
        data = self.kept.get(key)
        if data is not None:
            self.kept.move_to_end(key)
        return data

    def put(self, key: Key, data: bytes) -> None:
        if key in self.kept or len(data) > self.size or not self.entries:
            return
        self.kept[key] = data
        self.stats.cached_bytes += len(data)
        while len(self.kept) > self.entries or self.stats.cached_bytes > self.size:
            _, old = self.kept.popitem(last=False)
            self.stats.cached_bytes -= len(old)


@dataclass(eq=False, slots=True)
class _Flight:
    """One render on its way: the thread's job, the loop's view of it, who waits for it."""

    fmt: str
    job: Future[tuple[bytes, float]]
    done: asyncio.Future[bytes]
    waiters: int = 0


class Renders:
    """The pool, the renders in flight and the cache; one per application."""

    def __init__(self, limits: RenderLimits, stats: RenderStats) -> None:
        self.limits, self.stats = limits, stats
        self.pool = ThreadPoolExecutor(max_workers=limits.workers,
                                       thread_name_prefix=THREAD_PREFIX)
        self.cache = RenderCache(limits.cache_entries, limits.cache_bytes, stats)
        self.flights: dict[Key, _Flight] = {}
        self.estimate: dict[str, float] = {}  # seconds a render holds its thread, per format

    def close(self) -> None:
        """Stop taking work; renders not started are dropped."""
        self.pool.shutdown(wait=False, cancel_futures=True)

    def seconds(self, fmt: str) -> float:
        return self.estimate.get(fmt, FIRST_GUESS.get(fmt, OTHER_GUESS))

    def expected_wait(self, fmt: str) -> float:
        """Seconds a render of ``fmt`` asked for now would wait: none while a thread is free,
        else the work ahead shared by the threads; a PDF also waits for the PDFs ahead,
        which are laid out one at a time (``netwatch.notices.pdf``)."""
        flights = list(self.flights.values())
        shared = (sum(self.seconds(f.fmt) for f in flights) / self.limits.workers
                  if len(flights) >= self.limits.workers else 0.0)
        pdfs = sum(self.seconds(f.fmt) for f in flights if f.fmt == "pdf") if fmt == "pdf" \
            else 0.0
        return max(shared, pdfs)

    async def get(self, key: Key, render: Callable[[], bytes],
                  gone: Callable[[], bool]) -> bytes:
        """The file for ``key``: cached, joined to its render in flight, or rendered now.

        Raises ``RenderBusy`` when a new render would wait too long, ``ClientGone`` when
        ``gone()`` says the client has disconnected while it waited.
        """
        data = self.cache.get(key)
        if data is not None:
            return data
        flight = self.flights.get(key)
        if flight is None:
            self._admit(key[1])
            flight = self._start(key, render)
        else:
            self.stats.coalesced += 1
        flight.waiters += 1
        try:
            while True:
                finished, _ = await asyncio.wait((flight.done,), timeout=POLL_SECONDS)
                if finished:
                    return flight.done.result()
                if gone():
                    raise ClientGone
        finally:
            flight.waiters -= 1
            if not flight.waiters and not flight.done.done():
                self._abandon(key, flight)

    def _admit(self, fmt: str) -> None:
        """Refuse a new render that would find the queue full or wait too long."""
        limits = self.limits
        wait = self.expected_wait(fmt)
        if len(self.flights) >= limits.workers + limits.queue or wait > limits.wait:
            self.stats.refused += 1
            raise RenderBusy(max(1, math.ceil(wait)),
                             f"{len(self.flights)} notice renders ahead (about {wait:.0f} s); "
                             "ask again later")

    def _start(self, key: Key, render: Callable[[], bytes]) -> _Flight:
        fmt = key[1]

        def timed() -> tuple[bytes, float]:
            start = time.perf_counter()
            data = render()
            return data, time.perf_counter() - start

        job = self.pool.submit(timed)
        loop = asyncio.get_running_loop()
        done: asyncio.Future[bytes] = loop.create_future()
        flight = _Flight(fmt, job, done)
        self.flights[key] = flight
        self.stats.pending += 1

        def finished(job: Future[tuple[bytes, float]]) -> None:  # on the loop
            if self.flights.get(key) is flight:
                del self.flights[key]
                self.stats.pending -= 1
            if job.cancelled():
                if not done.done():
                    done.cancel()
                return
            error = job.exception()
            if error is not None:
                if flight.waiters and not done.done():  # else nobody would retrieve it
                    done.set_exception(error)
                elif not done.done():
                    done.cancel()
                return
            data, took = job.result()
            self.stats.rendered[fmt] += 1
            old = self.estimate.get(fmt)
            self.estimate[fmt] = took if old is None else old + SMOOTHING * (took - old)
            self.cache.put(key, data)
            if not done.done():
                done.set_result(data)

        def hand_back(job: Future[tuple[bytes, float]]) -> None:  # in the render thread
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits
                loop.call_soon_threadsafe(finished, job)

        job.add_done_callback(hand_back)
        return flight

    def _abandon(self, key: Key, flight: _Flight) -> None:
        """Nobody waits any more: drop the render if it has not started (else let it finish
        into the cache)."""
        if flight.job.cancel():
            self.stats.abandoned += 1
            if self.flights.get(key) is flight:
                del self.flights[key]
                self.stats.pending -= 1


RENDERS = web.AppKey("netwatch.renders", Renders)


def renders_context(limits: RenderLimits,
                    stats: RenderStats) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context that owns the render pool for the application's lifetime."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        app[RENDERS] = Renders(limits, stats)
        yield
        app[RENDERS].close()

    return context


RENDERED = FamilySpec("netwatch_notice_renders_total", "counter",
                      "Notice files laid out for web requests, per format.")
REFUSED = FamilySpec("netwatch_notice_renders_refused_total", "counter",
                     "Notice file requests refused (503) because the render would wait too long.")
ABANDONED = FamilySpec("netwatch_notice_renders_abandoned_total", "counter",
                       "Notice renders dropped before they started: every client had gone.")
PENDING = FamilySpec("netwatch_notice_renders_pending", "gauge",
                     "Notice renders being laid out or waiting for a thread.")
CACHED = FamilySpec("netwatch_notice_render_cache_bytes", "gauge",
                    "Bytes of notice files kept for the web.")


def render_families(stats: RenderStats) -> list[Family]:
    """The render pool's work, for ``/metrics``; every format always appears."""
    rendered = Family(RENDERED)
    for fmt in ("html", "pdf", "docx", "xlsx", "md"):
        rendered.add(labels((("format", fmt),)), stats.rendered[fmt])
    out = [rendered]
    for spec, value in ((REFUSED, stats.refused), (ABANDONED, stats.abandoned),
                        (PENDING, stats.pending), (CACHED, stats.cached_bytes)):
        family = Family(spec)
        family.add("", value)
        out.append(family)
    return out
