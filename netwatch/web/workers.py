"""The threads request handlers may use: a small pool of their own.

Work that must not run on the event loop (validating a batch of readings,
compressing a large scrape) goes to this pool rather than the loop's default
executor, which the daemon needs for its own work (inventory reloads, coverage
analyses, name lookups). However many requests arrive, at most ``workers`` of them
hold a thread; the rest wait their turn without taking one from the daemon.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from aiohttp import web

THREAD_PREFIX = "netwatch-web"
POOL = web.AppKey("netwatch.web_pool", ThreadPoolExecutor)

T = TypeVar("T")


def pool_context(workers: int) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context that owns the pool for the application's lifetime."""
    if workers < 1:
        raise ValueError(f"web workers {workers}: expected at least 1")

    async def context(app: web.Application) -> AsyncIterator[None]:
        app[POOL] = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=THREAD_PREFIX)
        yield
        app[POOL].shutdown(wait=False, cancel_futures=True)

    return context


async def offload(request: web.Request, fn: Callable[..., T], *args: object) -> T:
    """Run ``fn(*args)`` in the request handlers' pool."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(request.app[POOL], lambda: fn(*args))
