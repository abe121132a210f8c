"""Connection limits of the web listener: a cap, a per-address cap and a request-head deadline.

Every open web connection holds a file descriptor, and descriptors are what the
probes need to open sockets: an unbounded listener lets idle or slow clients starve
the probes until every device looks down. So the listener keeps at most
``max_connections`` open (``per_address`` from any one client address), closing an
excess connection at once, and closes a connection that has not delivered a
complete request head within ``header_timeout`` seconds of opening (slowloris). Between
requests aiohttp's keep-alive timeout applies (``keepalive_timeout``). Counts are
kept in ``GuardStats`` for ``/metrics`` (``guard_families``).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from aiohttp import web

from netwatch.metrics import Family, FamilySpec, labels
from netwatch.web.limits import WebLimits

log = logging.getLogger(__name__)

@dataclass(slots=True)
class GuardStats:
    """What the guard did, for the daemon's own metrics."""

    open: int = 0
    refused: int = 0  # closed at once: over a cap
    timed_out: int = 0  # closed: no complete request head in time
    by_address: Counter[str] = field(default_factory=Counter)


class Guard:
    """The protocol factory handed to ``create_server``: wraps aiohttp's request handlers.

    At the cap a new connection takes the place of the oldest one still waiting for its
    first request head (closed at once), so clients that open connections and send
    nothing cannot keep Prometheus or a browser out; with none waiting, the new
    connection is closed instead.
    """

    def __init__(self, make_handler: Callable[[], asyncio.Protocol], limits: WebLimits,
                 stats: GuardStats) -> None:
        self.make_handler = make_handler
        self.limits = limits
        self.stats = stats
        self.waiting: OrderedDict[GuardedProtocol, None] = OrderedDict()  # no head yet

    def __call__(self) -> GuardedProtocol:
        return GuardedProtocol(self)

    def admit(self, conn: GuardedProtocol) -> bool:
        stats, limits = self.stats, self.limits
        if limits.per_address and stats.by_address[conn.address] >= limits.per_address:
            stats.refused += 1
            return False
        if stats.open >= limits.max_connections:
            if not self.waiting:
                stats.refused += 1
                return False
            oldest = next(iter(self.waiting))
            stats.refused += 1
            oldest.close()
        stats.open += 1
        stats.by_address[conn.address] += 1
        self.waiting[conn] = None
        return True

    def release(self, conn: GuardedProtocol) -> None:
        self.waiting.pop(conn, None)
        self.stats.open -= 1
        self.stats.by_address[conn.address] -= 1
        if self.stats.by_address[conn.address] <= 0:
            del self.stats.by_address[conn.address]


class GuardedProtocol(asyncio.Protocol):
    """One connection: admitted or closed at once, then handed to aiohttp's handler."""

    def __init__(self, guard: Guard) -> None:
        self.guard = guard
        self.inner: asyncio.Protocol | None = None
        self.transport: asyncio.Transport | None = None
        self.address = ""
        self.deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        peer = transport.get_extra_info("peername")
        self.address = str(peer[0]) if isinstance(peer, tuple) and peer else "unknown"
        if not self.guard.admit(self):
            transport.abort()
            return
        self.transport = transport
        self.inner = self.guard.make_handler()
        self.deadline = asyncio.get_running_loop().call_later(
            self.guard.limits.header_timeout, self._too_slow)
        self.inner.connection_made(transport)

    def close(self) -> None:
        """Close at once and give the slot back now (not when the loop reports the loss)."""
        transport, inner = self.transport, self.inner
        self._stop_clock()
        if inner is None or transport is None:
            return
        self.guard.release(self)
        self.inner = self.transport = None
        transport.abort()
        inner.connection_lost(None)

    def _too_slow(self) -> None:
        self.deadline = None
        if self.transport is not None and not self._head_received():
            self.guard.stats.timed_out += 1
            log.debug("closed a web connection from %s: no request head within %g s",
                      self.address, self.guard.limits.header_timeout)
            self.close()

    def _stop_clock(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None
        self.guard.waiting.pop(self, None)

    def _head_received(self) -> bool:
        """Whether aiohttp has parsed a whole request head on this connection."""
        return getattr(self.inner, "_request_count", 0) > 0

    def data_received(self, data: bytes) -> None:
        if self.inner is not None:
            self.inner.data_received(data)
            if self.deadline is not None and self._head_received():
                self._stop_clock()

    def eof_received(self) -> bool | None:
        return self.inner.eof_received() if self.inner is not None else None

    def pause_writing(self) -> None:
        if self.inner is not None:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.inner is not None:
            self.inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_clock()
        if self.inner is None:
            return
        self.guard.release(self)
        inner, self.inner, self.transport = self.inner, None, None
        inner.connection_lost(exc)


class GuardedSite(web.TCPSite):
    """A TCP site whose connections pass through a ``Guard``."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, *, limits: WebLimits,
                 stats: GuardStats, **kwargs: Any) -> None:
        super().__init__(runner, host, port, **kwargs)
        self._limits = limits
        self._stats = stats
        self._bound_port = port

    async def start(self) -> None:
        await web.BaseSite.start(self)
        server = self._runner.server
        assert server is not None
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            Guard(server, self._limits, self._stats), self._host, self._port,
            ssl=self._ssl_context, backlog=self._backlog, reuse_address=self._reuse_address,
            reuse_port=self._reuse_port)
        sockets = self._server.sockets
        self._bound_port = sockets[0].getsockname()[1] if sockets else self._port

    @property
    def bound_port(self) -> int:
        # TCPSite declares it int | None; here it is the port asked for, then the one bound.
        assert self._bound_port is not None
        return self._bound_port


OPEN = FamilySpec("netwatch_web_connections", "gauge", "Web connections open now.")
LIMIT = FamilySpec("netwatch_web_connections_limit", "gauge",
                   "Most web connections kept open at once (after the descriptor reserve).")
CLOSED = FamilySpec("netwatch_web_connections_closed_total", "counter",
                    "Web connections the listener closed: over a cap, or no request head "
                    "in time.")


def guard_families(stats: GuardStats, limits: WebLimits) -> list[Family]:
    """The listener's own health, for ``/metrics``."""
    now, cap, closed = Family(OPEN), Family(LIMIT), Family(CLOSED)
    now.add("", stats.open)
    cap.add("", limits.max_connections)
    closed.add(labels((("reason", "over_cap"),)), stats.refused)
    closed.add(labels((("reason", "header_timeout"),)), stats.timed_out)
    return [now, cap, closed]
