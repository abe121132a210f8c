"""Book-keeping for the ICMP engine: one ping's echoes, and one family's ids and sequences.

``Ping`` counts a target's echoes as they are sent, answered, lost or refused and
reports itself, finished, once every echo is settled; a finished ``Ping`` is the
engine's answer (no second object per target: at 100k targets a sweep it shows).
``Family`` hands out the ``(socket, id, seq)`` of each new echo: a counter runs over
ids x 65,536 sequences and skips any ``(address, id, seq)`` still in flight, so
wrap-around never confuses two echoes.
"""

from __future__ import annotations

import errno
import heapq
import struct
import time
from collections.abc import Callable, Container, Iterator
from typing import Generic, TypeVar

from probes.base import LOCAL_ERRNOS, Reason
from probes.icmp.channels import Channel
from probes.icmp.packet import EchoBuilder, unreach_text

_IDSEQ = struct.Struct("!HH")
T = TypeVar("T")


def unreach_detail(code: int, v6: bool) -> str:
    """The text of a destination-unreachable with this code."""
    return f"destination unreachable ({unreach_text(code, v6)})"


class Ping:
    """One target's echoes: in flight, then (``finished``) the figures of what came back.

    Read after it finished: ``rtts`` per echo in send order (None = no reply in time),
    ``sent``, ``unreachable`` (the first unreachable, as text), ``error`` (the engine
    could not do its job: no socket, saturated, send refused), ``skip`` (the reason when
    that error was the monitor's own limit, not the target's: saturated, overran, out of
    buffers or descriptors), ``unknown`` (echoes unanswered whose reply the kernel may
    have dropped on our full receive queue: the ping then says nothing of the target,
    ``skip`` is ``LOCAL_RESOURCES``) and ``duration`` (seconds from admission to the last
    echo settled; 0 if never admitted).
    """

    __slots__ = (
        "address", "count", "interval", "timeout", "on_done", "packed", "family",
        "builder", "rtts", "sent", "resolved", "admitted", "finished", "admit_by",
        "unreachable", "error", "skip", "started", "duration", "unknown",
    )  # fmt: skip

    def __init__(
        self,
        address: str,
        count: int,
        interval: float,
        timeout: float,
        on_done: Callable[[Ping], None],
    ) -> None:
        self.address = address
        self.count = count
        self.interval = interval
        self.timeout = timeout
        self.on_done = on_done
        self.packed = b""
        self.family: Family
        self.builder: EchoBuilder
        self.rtts: list[float | None] = [None] * count
        self.sent = 0
        self.resolved = 0
        self.admitted = False
        self.finished = False
        self.admit_by = 0.0
        self.unreachable: str | None = None
        self.error: str | None = None
        self.skip: Reason | None = None  # set when the engine's own limits caused the error
        self.started = 0.0
        self.duration = 0.0
        self.unknown = 0

    @property
    def received(self) -> int:
        """How many echoes were answered in time."""
        return self.count - self.rtts.count(None)

    def answer(self, index: int, rtt: float) -> None:
        """A reply to echo ``index``; one later than the timeout counts as lost."""
        if rtt <= self.timeout:
            self.rtts[index] = rtt
        self.resolved += 1  # resolve(), inlined: once per reply
        if self.resolved >= self.count:
            self._finish()

    def mark_unreachable(self, text: str) -> None:
        """An unreachable quoting one of our echoes."""
        if self.unreachable is None:
            self.unreachable = text
        self.resolve()

    def mark_unknown(self, text: str) -> None:
        """An echo unanswered whose reply may have been dropped by our own kernel queue."""
        self.unknown += 1
        if self.unknown == 1:
            self.error = text
            self.skip = Reason.LOCAL_RESOURCES
        self.resolve()

    def send_failed(self, exc: OSError) -> None:
        """The kernel refused to send an echo (no route, or a local firewall rule)."""
        if exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN):
            self.mark_unreachable(f"destination unreachable (send: {exc.strerror})")
            return
        if self.error is None:
            self.error = f"send failed: {exc.strerror or exc}"
            if exc.errno in LOCAL_ERRNOS:
                self.skip = Reason.LOCAL_RESOURCES
        self.resolve()

    def resolve(self) -> None:
        """One more echo settled; report when it was the last."""
        self.resolved += 1
        if self.resolved >= self.count:
            self._finish()

    def fail(self, error: str, skip: Reason | None = None) -> None:
        """End the ping now with an engine error (unsent echoes stay unsent)."""
        if not self.finished:
            self.error = error
            self.skip = skip
            self._finish()

    def _finish(self) -> None:
        """Report once."""
        if self.finished:
            return
        self.finished = True
        if self.admitted:
            self.duration = time.monotonic() - self.started
        self.on_done(self)


class Family:
    """One address family's sockets and the allocator of their (id, seq) pairs."""

    __slots__ = ("v6", "channels", "error", "_lanes", "_counter", "_limit", "_builders")

    def __init__(self, v6: bool, channels: list[Channel], error: str | None = None) -> None:
        self.v6 = v6
        self.channels = channels
        self.error = error
        # A lane is one id: (channel, index into channel.idents); ping sockets have one each.
        self._lanes = [
            (channel, slot)
            for channel in channels
            for slot in range(len(channel.idents) if channel.raw else 1)
        ]
        self._counter = 0
        self._limit = len(self._lanes) << 16
        self._builders: dict[int, EchoBuilder] = {}

    def builder(self, size: int) -> EchoBuilder:
        """The echo builder for one payload size, shared by all pings of that size."""
        built = self._builders.get(size)
        if built is None:
            built = self._builders[size] = EchoBuilder(size, self.v6)
        return built

    def allocate(
        self, packed: bytes, pending: Container[bytes]
    ) -> tuple[Channel, int | None, int, bytes | None]:
        """The next free (channel, id, seq, key) for an echo to ``packed``.

        A ping socket's id is unknown (None) until its first send, when nothing of it
        can be in flight yet. Once per echo: no modulo, no range object.
        """
        lanes = self._lanes
        limit = self._limit
        counter = self._counter
        tries = limit
        while True:
            channel, slot = lanes[counter >> 16]
            seq = counter & 0xFFFF
            counter += 1
            if counter == limit:
                counter = 0
            idents = channel.idents
            if slot >= len(idents):
                self._counter = counter
                return channel, None, seq, None
            ident = idents[slot]
            key = packed + _IDSEQ.pack(ident, seq)  # echo_key, inlined
            tries -= 1
            if key not in pending or not tries:  # every pair in flight to one address: reuse
                self._counter = counter
                return channel, ident, seq, key

    def learn_ident(self, channel: Channel) -> int:
        """A ping socket's id, which the kernel assigned at its first send."""
        ident: int = channel.sock.getsockname()[1]
        channel.idents.append(ident)
        return ident


class Wheel(Generic[T]):
    """A timer wheel (one list per tick) so the engine arms one loop timer, not one per echo."""

    __slots__ = ("_buckets", "_heap")

    def __init__(self) -> None:
        self._buckets: dict[int, list[T]] = {}
        self._heap: list[int] = []

    def add(self, tick: int, item: T) -> None:
        """File ``item`` under ``tick``."""
        self.bucket(tick).append(item)

    def bucket(self, tick: int) -> list[T]:
        """The list of ``tick``'s items, to append to (a burst files many under one tick)."""
        bucket = self._buckets.get(tick)
        if bucket is None:
            self._buckets[tick] = bucket = []
            heapq.heappush(self._heap, tick)
        return bucket

    def pop_due(self, tick: int) -> Iterator[list[T]]:
        """Take out the lists of every tick up to ``tick``, earliest first."""
        heap = self._heap
        while heap and heap[0] <= tick:
            yield self._buckets.pop(heapq.heappop(heap))

    @property
    def next_tick(self) -> int | None:
        """The earliest tick holding items."""
        return self._heap[0] if self._heap else None

    def items(self) -> Iterator[T]:
        """Every item still filed."""
        for bucket in self._buckets.values():
            yield from bucket
