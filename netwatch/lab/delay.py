"""The NFQUEUE delayer: holds each queued echo request for its address's latency, then lets it go.

The kernel hands packets that the lab table sends to queue N over a netlink socket
(PyPI ``netfilterqueue``, on Debian's ``libnetfilter-queue``). The callback never
sleeps: it puts (release time, packet) on a heap and one loop timer, always set for
the earliest packet, accepts every packet that is due, so thousands of delayed
echoes cost one timer and none blocks another.
"""

from __future__ import annotations

import asyncio
import heapq
import ipaddress
import itertools
import logging
from collections.abc import Mapping
from typing import Any

log = logging.getLogger(__name__)
MAX_HELD = 4096  # packets the kernel may queue before it drops new ones


class DelayUnavailable(RuntimeError):
    """The delayer cannot run here (no root, no netfilterqueue, queue taken)."""


class Delayer:
    """Releases each queued packet ``delays[destination]`` seconds after it arrived."""

    def __init__(self, queue: int, delays: Mapping[str, float]) -> None:
        self.queue = queue
        self.delays = {ipaddress.IPv4Address(a).packed: s for a, s in delays.items()}
        self.held: list[tuple[float, int, Any]] = []
        self.delayed = 0  # packets held so far, for reports
        self._order = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._nfq: Any = None

    def start(self) -> None:
        """Bind the queue and start reading it on the running loop."""
        try:
            from netfilterqueue import NetfilterQueue
        except ImportError as exc:
            raise DelayUnavailable(f"PyPI netfilterqueue is not installed ({exc})") from None
        self._loop = asyncio.get_running_loop()
        try:
            nfq = NetfilterQueue()
            nfq.bind(self.queue, self._arrived, max_len=MAX_HELD, range=64)
        except OSError as exc:
            raise DelayUnavailable(f"cannot bind NFQUEUE {self.queue}: {exc}") from None
        self._nfq = nfq
        self._loop.add_reader(nfq.get_fd(), nfq.run, False)

    def _arrived(self, packet: Any) -> None:
        delay = self.delays.get(packet.get_payload()[16:20])
        if delay is None or self._loop is None:
            packet.accept()
            return
        due = self._loop.time() + delay
        heapq.heappush(self.held, (due, next(self._order), packet))
        self.delayed += 1
        if self.held[0][2] is packet:
            self._arm()

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        if self.held and self._loop is not None:
            self._timer = self._loop.call_at(self.held[0][0], self._release)

    def _release(self) -> None:
        assert self._loop is not None
        now = self._loop.time()
        while self.held and self.held[0][0] <= now:
            heapq.heappop(self.held)[2].accept()
        self._timer = None
        self._arm()

    def close(self) -> None:
        """Let every held packet go and give the queue back to the kernel."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self.held:
            heapq.heappop(self.held)[2].accept()
        if self._nfq is not None and self._loop is not None:
            self._loop.remove_reader(self._nfq.get_fd())
            self._nfq.unbind()
            self._nfq = None
