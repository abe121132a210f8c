"""Bookkeeping over a whole fleet in slices, giving the event loop a turn between them.

At city scale a sweep's end touches ~100,000 devices (results, state, faults,
metrics); done in one go it holds the loop for seconds, and every probe reply,
deadline and ``/healthz`` answer waits behind it. Each slice is a few
milliseconds of work; ``asyncio.sleep(0)`` then lets everything that is ready run.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import TypeVar

T = TypeVar("T")

SLICE = 1000  # devices per slice: a few ms of bookkeeping at most between loop turns


async def in_slices(items: Sequence[T], size: int = SLICE) -> AsyncIterator[Sequence[T]]:
    """``items`` in consecutive slices of ``size``, yielding to the loop between slices."""
    for start in range(0, len(items), size):
        if start:
            await asyncio.sleep(0)
        yield items[start:start + size]
