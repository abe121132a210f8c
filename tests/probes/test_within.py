"""``within``: a result in time, ``DeadlinePassed`` past it, the work cancelled either way."""

from __future__ import annotations

import asyncio

import pytest

from probes.base import DeadlinePassed, within


async def test_result_in_time_is_returned() -> None:
    async def work() -> int:
        await asyncio.sleep(0)
        return 7

    assert await within(work(), 5.0) == 7


async def test_work_past_the_deadline_is_cancelled() -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def silent() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(DeadlinePassed):
        await within(silent(), 0.01)
    await asyncio.sleep(0)
    assert started.is_set() and cancelled.is_set()


async def test_cancelling_the_caller_cancels_the_work() -> None:
    cancelled = asyncio.Event()

    async def silent() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    caller = asyncio.ensure_future(within(silent(), 60.0))
    await asyncio.sleep(0.01)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    await asyncio.sleep(0)
    assert cancelled.is_set()


async def test_a_finished_wait_leaves_no_timer_behind() -> None:
    """Thousands of checks per sweep: each wait's deadline timer goes when the work ends."""
    loop = asyncio.get_running_loop()
    timers = len(loop._scheduled)  # type: ignore[attr-defined]

    async def work() -> None:
        await asyncio.sleep(0)

    await asyncio.gather(*(within(work(), 60.0) for _ in range(100)))
    await asyncio.sleep(0)
    active = sum(1 for handle in loop._scheduled  # type: ignore[attr-defined]
                 if not handle.cancelled())
    assert active <= timers
