"""The daemon's own threads: a bounded pool for its duties, which no web request can fill.

Reloading the inventory, writing the scheduled notices' files, analysing coverage,
laying out a delivery's PDF and sending mail block or take seconds, so they run in
threads. They get a pool of their own, created by the daemon and handed to each duty,
rather than the loop's default executor. Reserving the default executor for them would
be a promise nobody could keep: anything may call ``asyncio.to_thread`` or
``run_in_executor(None, …)`` (aiohttp for file responses and compression, the resolver
for a webhook's host name, a library), and a web request running there would queue in
front of a reload again. A pool of the daemon's own is filled by the daemon alone. The
web has its own pools, bounded: ``netwatch.web.workers`` (readings, scrapes) and
``netwatch.web.renders`` (notice files).

Size: every duty is one at a time (reloads hold a lock, coverage analyses too, the
scheduled issue is one job) except deliveries, at most ``outbox.CONCURRENCY`` sends per
channel, each a PDF then an SMTP send. So ``THREADS`` leaves a reload a thread even
while every other duty has one.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import TypeVar

from netwatch.notices import CONCURRENCY

THREADS = CONCURRENCY + 4  # SMTP sends or their PDFs; reload, coverage, notice files; spare
THREAD_PREFIX = "netwatch-duty"

T = TypeVar("T")


def duty_pool() -> ThreadPoolExecutor:
    """The pool the daemon owns for its duties (shut down when the daemon stops)."""
    return ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix=THREAD_PREFIX)


async def in_thread(executor: Executor | None, fn: Callable[..., T], *args: object) -> T:
    """``fn(*args)`` in ``executor`` (None: the loop's default, for commands run by hand)."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(executor, functools.partial(fn, *args))
