"""The event loop every netwatch program runs on: uvloop where it is installed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop when it is installed: it halves the CPU cost of a service check."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


async def wait_done(task: asyncio.Task[Any] | None, within: float | None) -> None:
    """Wait up to ``within`` s for a background task to finish, without cancelling it (a
    writer's flush at a clean stop: whatever it has not written by then stays queued)."""
    if task is None or task.done():
        return
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(within):
            await asyncio.shield(task)


async def stop_task(task: asyncio.Task[Any] | None) -> None:
    """Cancel a background task and wait until it has ended (at shutdown)."""
    if task is not None and not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
