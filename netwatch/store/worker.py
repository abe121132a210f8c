"""The database thread: where the daemon's store calls run, never on its event loop.

The event loop times every probe. A store call made on it is harmless with a local
SQLite file and fatal with a network round trip or a stalled server: the loop waits,
the probes' deadlines pass meanwhile, and they turn into false faults. So the daemon
opens its ``Store`` on a thread of its own, and async code hands that thread work:
``await db.call(fn, *args)`` runs the owner function ``fn(store, *args)`` there and
returns its result (or raises its exception). The store is opened, used and closed
on that one thread (SQLite connections belong to the thread that made them).

The queue is bounded (``QUEUE_SIZE``, more than the web's connections and the
daemon's own work together): a call that finds it full raises ``StoreUnavailable``
at once. A slow database is netwatch's local trouble, answered as such (a 503 with
``Retry-After``, a fault episode written later), never a device fault. A caller that
stops waiting before its call starts takes it off the queue; a call that has started
runs to its end, so a write is never half-known.

Whether the store answers (``status``): a call that fails with ``OperationalError``
(busy past its timeout, locked, read-only, the server gone) marks it away. While it is
away the thread tries an empty write transaction every ``PROBE_EVERY`` seconds, and
only that (or ``check``) marks it back: a read that works says nothing of writes. A
call running longer than ``STALL_SECONDS`` reports the store away until it ends.

A call made under ``guarded(guard)`` runs ``guard`` first in each transaction it opens
(``Store.guard``): the fencing of an instance's lease (``netwatch.monitor.leases``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Concatenate, Final, ParamSpec, TypeVar
from urllib.parse import urlsplit, urlunsplit

from netwatch.store.store import DatabaseError, Guard, OperationalError, Store
from netwatch.store.target import Target

log = logging.getLogger(__name__)

QUEUE_SIZE = 1024  # calls waiting for the thread; the web has at most 512 connections
PROBE_EVERY = 2.0  # seconds between checks while the store is away
STALL_SECONDS = 15.0  # a call running longer reports the store away (busy timeouts are 5 s)
CLOSE_WAIT = 10.0  # seconds ``close`` waits for queued calls to finish
THREAD_NAME = "netwatch-db"

P = ParamSpec("P")
T = TypeVar("T")


class StoreUnavailable(OperationalError):
    """The database thread cannot take the call: its queue is full, or it has stopped."""


@dataclass(frozen=True, slots=True)
class StoreStatus:
    """What ``/readyz`` and ``/metrics`` say of the store."""

    up: bool
    problem: str | None  # why not up, in words
    queued: int  # calls waiting for the thread
    refused: int  # calls refused because the queue was full, since start
    failures: int  # calls and checks that found the store away, since start


def _label(where: Target | str) -> str:
    """The store's name for messages: a path, or a URL without its user and password."""
    text = str(where)
    if "://" not in text:
        return text
    parts = urlsplit(text)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


# The guard of the calls made from this context (a task and the tasks it starts): every
# transaction those calls open runs it first (``Store.guard``). Fencing: a duty or a
# fault write of an instance whose lease moved on is refused in the database itself.
GUARD: ContextVar[Guard | None] = ContextVar("netwatch_store_guard", default=None)


@contextmanager
def guarded(guard: Guard | None) -> Iterator[None]:
    """Calls made inside (and from tasks started inside) run under ``guard``."""
    token = GUARD.set(guard)
    try:
        yield
    finally:
        GUARD.reset(token)


class _Job:
    """One call: the function, its arguments and where its outcome goes."""

    __slots__ = ("args", "cancelled", "fn", "future", "guard", "kwargs", "loop")

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
                 loop: asyncio.AbstractEventLoop | None,
                 future: asyncio.Future[Any] | None, guard: Guard | None = None) -> None:
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.loop, self.future = loop, future
        self.guard = guard
        self.cancelled = False  # set on the loop when the caller stops waiting

    def settle(self, result: Any, error: BaseException | None) -> None:
        """Hand the outcome to the caller's loop (if it is still there to take it)."""
        if self.loop is None or self.future is None:
            return
        try:
            self.loop.call_soon_threadsafe(_resolve, self.future, result, error)
        except RuntimeError:  # the loop has closed: nobody waits for this any more
            pass


def _resolve(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


_PROBE: Final = object()  # the thread's own check, between calls


class StoreThread:
    """A ``Store`` living on a thread of its own; see the module docstring."""

    def __init__(self, path: Target, opener: Callable[[], Store] | None = None, *,
                 queue_size: int = QUEUE_SIZE, probe_every: float = PROBE_EVERY,
                 stall_after: float = STALL_SECONDS) -> None:
        if queue_size < 1:
            raise ValueError(f"database queue {queue_size}: expected at least 1")
        self.path = path  # what ``Store.open`` takes; other connections open it too
        self.label = _label(path)  # for messages: never a URL's password
        self._opener = opener or (lambda: Store.open(path))
        self.queue_size = queue_size
        self.probe_every = probe_every
        self.stall_after = stall_after
        self._jobs: deque[_Job] = deque()
        self._cond = threading.Condition()
        self._closing = False
        self._stopped = False
        self._away: str | None = None  # why the store is away, None while it answers
        self._probe_at = 0.0  # monotonic time of the next check while away
        self._running_since: float | None = None  # monotonic start of the call in progress
        self._refused = 0
        self._failures = 0
        self._opened = threading.Event()
        self._open_error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)

    @classmethod
    def open(cls, path: Target, **options: Any) -> StoreThread:
        """Start the thread and open (and migrate) the store there; returns once it is open.

        Raises what ``Store.open`` raised (``StoreError``): the thread has then ended.
        """
        db = cls(path, **options)
        db.start()
        return db

    def start(self) -> None:
        """Start the thread; blocks until the store is open or has failed to open."""
        self._thread.start()
        self._opened.wait()
        if self._open_error is not None:
            self._thread.join()
            raise self._open_error

    # -- the loop's side ------------------------------------------------------------

    async def call(self, fn: Callable[Concatenate[Store, P], T], *args: P.args,
                   **kwargs: P.kwargs) -> T:
        """``fn(store, *args, **kwargs)`` on the database thread; its result or its error.

        ``StoreUnavailable`` at once when the queue is full or the thread has stopped.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        job = _Job(fn, args, kwargs, loop, future, GUARD.get())
        self._put(job)

        def left(done: asyncio.Future[T]) -> None:
            if done.cancelled():
                job.cancelled = True  # not started yet: the thread skips it

        future.add_done_callback(left)
        return await future

    async def check(self) -> StoreStatus:
        """Try an empty write transaction now (after the calls queued before it)."""
        return await self.call(self._check)

    def status(self) -> StoreStatus:
        """Up, or why not; safe to call from the loop at any time (it never waits)."""
        with self._cond:
            away, since = self._away, self._running_since
            queued, refused, failures = len(self._jobs), self._refused, self._failures
            stopped = self._stopped or self._closing
        problem = away
        if problem is None and stopped:
            problem = "the database thread has stopped"
        if problem is None and since is not None:
            running = time.monotonic() - since
            if running >= self.stall_after:
                problem = f"a database call has been running for {running:.0f} s"
        return StoreStatus(problem is None, problem, queued, refused, failures)

    def close(self, wait: float = CLOSE_WAIT) -> None:
        """Take no more calls, let the queued ones finish (up to ``wait`` s), close the store."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(wait)
            if self._thread.is_alive():
                log.error("%s: the database thread is still busy after %.0f s; leaving it",
                          self.label, wait)

    def __repr__(self) -> str:
        return f"StoreThread({self.label!r})"

    def _put(self, job: _Job) -> None:
        with self._cond:
            if self._closing or self._stopped:
                raise StoreUnavailable(f"{self.label}: the database thread has stopped")
            if len(self._jobs) >= self.queue_size:
                self._refused += 1
                raise StoreUnavailable(
                    f"{self.label}: {len(self._jobs)} database calls already waiting; the "
                    "database is slow or away, try again shortly")
            self._jobs.append(job)
            self._cond.notify()

    # -- the thread's side ----------------------------------------------------------

    def _run(self) -> None:
        try:
            store = self._opener()
        except BaseException as exc:
            self._open_error = exc
            with self._cond:
                self._stopped = True
            self._opened.set()
            return
        self._opened.set()
        try:
            while True:
                job = self._next()
                if job is None:
                    break
                if job is _PROBE:
                    self._check(store)
                elif isinstance(job, _Job) and not job.cancelled:
                    self._work(store, job)
        finally:
            with self._cond:
                self._stopped = True
                left = list(self._jobs)
                self._jobs.clear()
            for job in left:
                job.settle(None, StoreUnavailable(f"{self.label}: the database thread stopped"))
            try:
                store.close()
            except DatabaseError as exc:
                log.warning("%s: closing the store: %s", self.label, exc)

    def _next(self) -> _Job | object | None:
        """The next call, the thread's own check when due, or None once closed and drained."""
        with self._cond:
            while True:
                if self._away is not None and time.monotonic() >= self._probe_at:
                    return _PROBE
                if self._jobs:
                    return self._jobs.popleft()
                if self._closing:
                    return None
                wait = None if self._away is None else max(0.0, self._probe_at - time.monotonic())
                self._cond.wait(wait)

    def _work(self, store: Store, job: _Job) -> None:
        result: Any = None
        error: BaseException | None = None
        with self._cond:
            self._running_since = time.monotonic()
        store.guard = job.guard
        try:
            result = job.fn(store, *job.args, **job.kwargs)
        except OperationalError as exc:
            if not isinstance(exc, StoreUnavailable):
                self._went_away(str(exc))
            error = exc
        except BaseException as exc:
            error = exc
        finally:
            store.guard = None
            with self._cond:
                self._running_since = None
        job.settle(result, error)

    def _check(self, store: Store) -> StoreStatus:
        """An empty write transaction: the store takes writes again, or is still away."""
        with self._cond:
            self._running_since = time.monotonic()
        try:
            with store.transaction():
                pass
        except DatabaseError as exc:
            self._went_away(str(exc))
        else:
            self._came_back()
        finally:
            with self._cond:
                self._running_since = None
        return self.status()

    def _went_away(self, why: str) -> None:
        with self._cond:
            self._failures += 1
            self._probe_at = time.monotonic() + self.probe_every
            if self._away is None:
                log.error("%s: the store is away: %s", self.label, why)
            self._away = why

    def _came_back(self) -> None:
        with self._cond:
            if self._away is not None:
                log.warning("%s: the store answers again", self.label)
            self._away = None
