"""The ICMP engine: one per event loop, multiplexing every in-flight echo of a sweep.

How it works (the way fping does, in asyncio):

- one raw socket per family with several echo ids, or several ping sockets (one id
  each), read by the pump every ``READ_EVERY`` while echoes are in flight rather than
  on every readable event: a paced sweep's replies trickle in one by one, and a loop
  wake-up per reply cost more than the reply itself. The kernel stamps each arrival,
  so reading later changes no RTT, and a reply still queued when its echo's time is up
  is read before the echo counts as lost. A raw IPv4 socket is read 64 datagrams per
  system call (``recvmmsg``, ``icmp_mmsg``); sends stay one ``sendto`` per echo, so
  each echo's send time is read just before it leaves (a batched send would date a
  whole batch by its first echo and inflate the RTTs of the rest);
- replies are matched on ``(target address, id, seq)``; the counter behind id and seq
  spans ids x 65,536 values and skips any key still in flight, so sequence wrap at
  100k targets x 5 echoes never mismatches;
- one pump callback admits waiting pings, drives two 1 ms timer wheels (echoes due,
  replies overdue) and sends at most ``rate`` echoes per second from one FIFO queue,
  in bursts of at most ``BURST`` so replies are read between bursts (``icmp_receive``);
  no Task, timer or closure per echo.

The queueing bound (why ``probes.icmp.deadline`` holds under load): a ping is
*admitted* only while the echoes admitted but not yet sent stay within
``rate x max_queue_delay``; the send queue is FIFO at ``rate``, so every echo leaves
within ``max_queue_delay`` of the moment it is due, and a ping that cannot be
admitted within ``max_queue_delay`` fails as "saturated" instead of waiting longer.
A single ping therefore ends within ``2 x max_queue_delay + (count - 1) x interval +
timeout`` (+ one tick and loop lag) of its call, as long as the process can actually
send ``rate`` echoes per second (measured: see ``bench/bench_icmp.py``). A batch
(``ping_many``) waits for admission behind single pings, target by target, at its own
pace (a sweep spread over its interval), sharing the free room of the queue equally with
the other batches waiting; it queues rather than drops, up to the window it is given.
A ping that ends unsent because of the engine's own limits (saturated, window over, no
buffers) carries ``Ping.skip``: the monitor counts it as skipped, never as the target's
failure.

A reply the kernel dropped is not a lost echo. When our receive queue is full (the
loop stalled on a full GC, a burst of replies) the kernel drops replies and counts
them per socket (``probes.icmp.channels``: ``SO_RXQ_OVFL`` on every datagram, ``SO_MEMINFO``
on demand). The rule: each echo records its socket's drop total when it is sent; when
its time is up unanswered, the sockets are first read until empty (``FULL_DRAIN``
datagrams at most, so a flood still cannot hold the loop) and the drop total read
again. If it grew during the echo's flight, or the socket could not be emptied, the
reply may have been among the dropped or unread ones: the echo is *unknown*, not lost,
and its ping ends skipped (``Reason.LOCAL_RESOURCES``, "N replies dropped by the
kernel ..."), judged neither way. A drop of some other process's ICMP on our raw
socket makes echoes in flight unknown too: conservative, never a false loss.
``IcmpEngine.receive_drops`` is the running total, for a metric.

RTTs run from the realtime clock read just before each ``sendto`` to the kernel's
arrival stamp of the reply (``icmp_receive``), so the time a reply waits in our receive
queue while the rest of a burst goes out (up to ``BURST`` sends, milliseconds) is not
counted: a reply's RTT in a 100k sweep is the RTT of a lone ping.
"""

from __future__ import annotations

import asyncio
import logging
import math
import socket
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from time import time_ns

from probes.base import Reason
from probes.icmp.channels import Channel, IcmpUnavailable, open_channels
from probes.icmp.mmsg import raw4_reader
from probes.icmp.packet import echo_key
from probes.icmp.receive import MAX_DRAIN, Pending, Reader, read_other
from probes.icmp.track import Family, Ping, Wheel, unreach_detail

TICK = 0.001
DEFAULT_RATE = 30_000.0
DEFAULT_MAX_QUEUE_DELAY = 1.0
BURST = 256
PACE_STEP = 0.005  # seconds: the finest step at which paced batches are admitted
YIELD_EVERY = 1000  # pings set up or settled between turns given back to the event loop
READ_EVERY = 0.005  # seconds between reads of the sockets while echoes are in flight
FULL_DRAIN = 64 * MAX_DRAIN  # datagrams read per socket before echoes expire (beyond: unknown)

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Batch:
    """A batch waiting for admission: its pings in order, its pace, its last moment.

    ``pace`` is pings per second (``math.inf``: as fast as the engine sends); by time
    ``t`` at most ``1 + (t - started) x pace`` of its pings have been admitted.
    """

    pings: deque[Ping]
    admit_by: float
    pace: float = math.inf
    started: float = 0.0
    admitted: int = 0

    def allowance(self, now: float) -> int:
        """How many more pings the pace lets in now."""
        if self.pace == math.inf:
            return len(self.pings)
        return int((now - self.started) * self.pace) + 1 - self.admitted

    def next_at(self) -> float:
        """When the pace lets the next ping in."""
        return self.started + self.admitted / self.pace if self.pace < math.inf else 0.0


class IcmpEngine:
    """Sends echoes for many pings over shared sockets and matches the replies."""

    def __init__(
        self,
        *,
        rate: float = DEFAULT_RATE,
        max_queue_delay: float = DEFAULT_MAX_QUEUE_DELAY,
        allow_raw: bool = True,
        ids: int = 4,
    ) -> None:
        if rate <= 0 or max_queue_delay <= 0 or not 1 <= ids <= 64:
            raise ValueError("IcmpEngine: rate and max_queue_delay must be > 0, ids 1..64")
        self.rate = rate
        self.max_queue_delay = max_queue_delay
        self._allow_raw = allow_raw
        self._ids = ids
        self._capacity = max(100, int(rate * max_queue_delay))
        self._burst = max(16.0, rate * 0.01)  # the most echoes sent at once after a pause
        self._loop = asyncio.get_running_loop()
        self._families: dict[bool, Family] = {}
        self._readers: list[tuple[Reader, Channel]] = []
        self._pending: Pending = {}
        self._ready: deque[Ping] = deque()
        self._due: Wheel[Ping] = Wheel()
        self._expiry: Wheel[bytes] = Wheel()
        self._singles: deque[Ping] = deque()
        self._batches: deque[_Batch] = deque()
        self._committed = 0
        self._tokens = 0.0
        self._last = time.monotonic()
        self._handle: asyncio.Handle | None = None
        self._wake = math.inf
        self._closed = False

    @classmethod
    @asynccontextmanager
    async def open(cls, **options: object) -> AsyncIterator[IcmpEngine]:
        """An engine on the running loop (IPv4 sockets opened now), closed on exit."""
        engine = cls(**options)  # type: ignore[arg-type]
        engine._family(False)
        try:
            yield engine
        finally:
            engine.close()

    @property
    def error(self) -> str | None:
        """Why IPv4 echoes cannot be sent (no raw nor ping socket), for a CLI to print once."""
        return self._family(False).error

    @property
    def raw(self) -> bool:
        """Whether IPv4 uses a raw socket (else unprivileged ping sockets)."""
        fam = self._family(False)
        return bool(fam.channels) and fam.channels[0].raw

    @property
    def receive_drops(self) -> int:
        """Replies (or other ICMP) the kernel dropped on our full receive queues, in total."""
        return sum(c.drops for fam in self._families.values() for c in fam.channels)

    @property
    def queued(self) -> int:
        """Echoes admitted but not sent yet (the bounded send queue, due or not)."""
        return self._committed

    def close(self) -> None:
        """Stop reading, close the sockets and end every unfinished ping with an error."""
        if self._closed:
            return
        self._closed = True
        if self._handle is not None:
            self._handle.cancel()
        for fam in self._families.values():
            for channel in fam.channels:
                channel.sock.close()
        unfinished = {entry[0] for entry in self._pending.values()}
        unfinished.update(self._ready, self._singles, *(b.pings for b in self._batches))
        unfinished.update(self._due.items())
        for ping in unfinished:
            ping.fail("ICMP engine closed")

    async def ping(
        self, address: str, count: int, interval: float, reply_timeout: float, size: int
    ) -> Ping:
        """Send ``count`` echoes to ``address``; the finished ping tells what came back."""
        fut: asyncio.Future[Ping] = self._loop.create_future()

        def done(finished: Ping) -> None:
            if not fut.done():
                fut.set_result(finished)

        ping = Ping(address, count, interval, reply_timeout, done)
        if not self._prepare(ping, size):
            self._singles.append(ping)
            ping.admit_by = time.monotonic() + self.max_queue_delay
            self._schedule(time.monotonic())
        try:
            return await fut
        finally:
            self._cancel(ping)

    async def ping_many(
        self,
        addresses: Sequence[str],
        count: int,
        interval: float,
        reply_timeout: float,
        size: int,
        window: float,
        pace: float = math.inf,
    ) -> list[Ping]:
        """Ping every address; stats in input order.

        Pings are admitted in order, at most ``pace`` per second, sharing the send queue
        fairly with other batches; one not admitted within ``window`` s ends unsent,
        marked as the batch's overrun (the engine's limit, never the target's).
        """
        fut: asyncio.Future[None] = self._loop.create_future()
        left = [len(addresses)]

        def done(_finished: Ping) -> None:
            left[0] -= 1
            if not left[0] and not fut.done():
                fut.set_result(None)

        pings: list[Ping] = []
        queue: deque[Ping] = deque()
        for address in addresses:
            ping = Ping(address, count, interval, reply_timeout, done)
            pings.append(ping)
            if not self._prepare(ping, size):
                queue.append(ping)
            if not len(pings) % YIELD_EVERY:  # a city's batch: let the loop turn meanwhile
                await asyncio.sleep(0)
        now = time.monotonic()
        batch = _Batch(queue, now + window, pace, now)
        if batch.pings:
            self._batches.append(batch)
            self._schedule(time.monotonic())
        try:
            if left[0]:
                await fut
        finally:
            for ping in pings:
                self._cancel(ping)
        return pings

    def _prepare(self, ping: Ping, size: int) -> bool:
        """Resolve the ping's address and family; True if it already finished (bad input)."""
        try:
            packed = socket.inet_pton(socket.AF_INET, ping.address)
            v6 = False
        except OSError:
            try:
                packed = socket.inet_pton(socket.AF_INET6, ping.address)
                v6 = True
            except OSError:
                ping.fail(f"not an IP address: {ping.address!r}")
                return True
        if self._closed:
            ping.fail("ICMP engine closed")
            return True
        fam = self._family(v6)
        if fam.error is not None:
            ping.fail(fam.error)
            return True
        ping.packed = packed
        ping.family = fam
        ping.builder = fam.builder(size)
        return False

    def _family(self, v6: bool) -> Family:
        """The sockets of one family, opened (and registered with the loop) on first use."""
        fam = self._families.get(v6)
        if fam is None:
            try:
                channels = open_channels(v6, self._allow_raw, self._ids)
            except IcmpUnavailable as exc:
                fam = Family(v6, [], str(exc))
            else:
                fam = Family(v6, channels)
                if self._allow_raw and not channels[0].raw:
                    log.warning("ICMP%s: no raw socket (no CAP_NET_RAW): using unprivileged "
                                "datagram ping sockets (net.ipv4.ping_group_range allows them)",
                                "v6" if v6 else "")
                for channel in channels:
                    reader = raw4_reader() if channel.raw and not v6 else read_other
                    self._readers.append((reader, channel))
            self._families[v6] = fam
        return fam

    def _cancel(self, ping: Ping) -> None:
        """Withdraw a ping whose caller stopped waiting; give back its unsent echoes."""
        if ping.finished:
            return
        ping.finished = True
        if ping.admitted:
            self._committed -= ping.count - ping.sent

    # -- the pump: admission, sends, expiries ------------------------------------------

    def _schedule(self, when: float) -> None:
        """Make sure the pump runs by monotonic time ``when``."""
        if when >= self._wake or self._closed:
            return
        if self._handle is not None:
            self._handle.cancel()
        self._wake = when
        delay = when - time.monotonic()
        if delay <= 0:
            self._handle = self._loop.call_soon(self._pump)
        else:
            self._handle = self._loop.call_at(self._loop.time() + delay, self._pump)

    def _pump(self) -> None:
        """Admit waiting pings, move due echoes to the queue, send a burst, expire echoes."""
        self._handle = None
        self._wake = math.inf
        if self._pending:
            self._read()
        now = time.monotonic()
        tick = int(now / TICK)
        ready = self._ready
        for pings in self._due.pop_due(tick):
            ready.extend(pings)
        self._admit(now, tick)
        self._tokens = min(self._tokens + (now - self._last) * self.rate, self._burst)
        self._last = now
        budget = min(int(self._tokens), BURST)
        sent = 0
        if ready and budget:
            send = self._send
            popleft = ready.popleft
            expiry: dict[float, list[bytes]] = {}  # per reply timeout: this burst's expiry list
            while ready and sent < budget:
                ping = popleft()
                if not ping.finished:
                    send(ping, now, expiry)
                    sent += 1
        self._tokens -= sent
        self._expire(now, tick)
        self._next(now, budget)

    def _admit(self, now: float, tick: int) -> None:
        """Admit single pings first, then batch pings, while the send queue stays bounded."""
        singles = self._singles
        while singles:
            ping = singles[0]
            if ping.finished:
                singles.popleft()
            elif self._committed + ping.count <= self._capacity:
                self._start(singles.popleft(), now, tick)
            elif now > ping.admit_by:
                singles.popleft().fail(self._saturated(), Reason.ENGINE_SATURATED)
            else:
                break
        if self._batches:
            self._admit_batches(now, tick)

    def _admit_batches(self, now: float, tick: int) -> None:
        """Share the free queue between batches in turn, each within its pace.

        A batch never waits behind another one's whole backlog: every round gives each
        an equal part of the free room. Pings still waiting past their batch's
        ``admit_by`` end unsent as an overrun (``Reason.BATCH_OVERRAN``).
        """
        batches = self._batches
        if not self._singles:  # a single ping still waiting goes first
            progress = True
            while progress and batches:
                free = self._capacity - self._committed
                if free <= 0:
                    break
                share = max(1, free // len(batches))
                progress = False
                for batch in list(batches):
                    progress |= self._admit_some(batch, now, tick, share)
                    if not batch.pings:
                        batches.remove(batch)
        for batch in [b for b in batches if now > b.admit_by]:
            batches.remove(batch)
            for ping in batch.pings:
                ping.fail(
                    f"not sent: the batch's {batch.admit_by - batch.started:.1f} s admission "
                    "window ran out (ICMP engine over its rate)", Reason.BATCH_OVERRAN)

    def _admit_some(self, batch: _Batch, now: float, tick: int, share: int) -> bool:
        """Admit up to ``share`` echoes' worth of the batch's pings; True if any went in."""
        pings = batch.pings
        allowed = batch.allowance(now)
        taken = 0
        while pings and allowed > 0 and taken < share:
            ping = pings[0]
            if ping.finished:
                pings.popleft()
                continue
            if self._committed + ping.count > self._capacity:
                break
            pings.popleft()
            self._start(ping, now, tick)
            batch.admitted += 1
            allowed -= 1
            taken += ping.count
        return taken > 0

    def _saturated(self) -> str:
        """The error of a ping that found the send queue full for too long."""
        return (
            f"not sent: ICMP engine saturated ({self._capacity} echoes queued at "
            f"{self.rate:g}/s for over {self.max_queue_delay:g} s)"
        )

    def _start(self, ping: Ping, now: float, tick: int) -> None:
        """Commit a ping's echoes: the first joins the queue now, the rest when due."""
        ping.admitted = True
        ping.started = now
        self._committed += ping.count
        self._ready.append(ping)
        for i in range(1, ping.count):
            at = math.ceil((now + i * ping.interval) / TICK)
            if at <= tick:
                self._ready.append(ping)
            else:
                self._due.add(at, ping)

    def _send(self, ping: Ping, now: float, expiry: dict[float, list[bytes]]) -> None:
        """Send the ping's next echo on a free (id, seq) and file it under its expiry."""
        index = ping.sent
        ping.sent = index + 1
        self._committed -= 1
        pending = self._pending
        channel, ident, seq, key = ping.family.allocate(ping.packed, pending)
        packet = ping.builder.build(ident or 0, seq)
        sent_ns = time_ns()  # the clock of the kernel's arrival stamps
        try:
            channel.sock.sendto(packet, (ping.address, 0))
        except OSError as exc:
            ping.send_failed(exc)
            return
        if key is None:  # a ping socket's first send: the kernel has just chosen its id
            key = echo_key(ping.packed, ping.family.learn_ident(channel), seq)
        pending[key] = (ping, index, now, sent_ns, channel, channel.drops)
        bucket = expiry.get(ping.timeout)
        if bucket is None:
            bucket = expiry[ping.timeout] = self._expiry.bucket(
                math.ceil((now + ping.timeout) / TICK))
        bucket.append(key)

    def _read(self) -> None:
        """Read every socket's queued datagrams (their arrival stamps give the RTTs)."""
        for reader, channel in self._readers:
            reader(channel, self._pending, self._unreachable)

    def _read_all(self) -> None:
        """Read every socket until it is empty (at most ``FULL_DRAIN``), then its drop count."""
        for reader, channel in self._readers:
            left = FULL_DRAIN
            while left > 0 and reader(channel, self._pending, self._unreachable) == MAX_DRAIN:
                left -= MAX_DRAIN
            channel.backlogged = left <= 0
            channel.refresh_drops()

    def _expire(self, now: float, tick: int) -> None:
        """Count as lost every echo whose reply is overdue, unless it may have been dropped.

        The sockets are read until empty first: a reply that arrived in time but still
        waits in our receive queue (a busy loop) is the process's delay, not a lost echo;
        one the kernel dropped, or left unread, makes the echo unknown (module docstring).
        """
        next_tick = self._expiry.next_tick
        if next_tick is None or next_tick > tick:
            return
        self._read_all()
        pending = self._pending
        for keys in self._expiry.pop_due(tick):
            for key in keys:
                entry = pending.get(key)
                if entry is None:
                    continue
                ping, _index, sent_at, _sent_ns, channel, drops = entry
                if sent_at + ping.timeout > now and not ping.finished:
                    continue  # the key was reused by a later echo
                del pending[key]
                if ping.finished:
                    ping.resolve()
                elif channel.drops > drops:
                    ping.mark_unknown(
                        f"{channel.drops - drops} replies dropped by the kernel (receive "
                        "queue full): result unknown")
                elif channel.backlogged:
                    ping.mark_unknown(
                        f"over {FULL_DRAIN} replies queued unread when the echo expired "
                        "(ICMP engine behind): result unknown")
                else:
                    ping.resolve()

    def _next(self, now: float, budget: int) -> None:
        """Arm the pump for the earliest thing it has to do next."""
        when = math.inf
        if self._ready:
            want = min(len(self._ready), BURST)
            when = now if self._tokens >= want else now + (want - self._tokens) / self.rate
        elif self._due.next_tick is not None:
            # Echoes falling due while others wait in the FIFO queue would only queue
            # behind them: no wake-up for them then (a paced sweep's pump would run
            # every 1 ms tick for a few sends each, a fixed cost per wake-up).
            when = self._due.next_tick * TICK
        if self._expiry.next_tick is not None:
            when = min(when, self._expiry.next_tick * TICK)
        if self._pending:
            when = min(when, now + READ_EVERY)
        if self._singles:
            when = min(when, self._singles[0].admit_by)
        for batch in self._batches:
            when = min(when, batch.admit_by, max(batch.next_at(), now + PACE_STEP))
        if when < math.inf:
            self._schedule(when)

    def _unreachable(self, key: bytes, code: int, v6: bool) -> None:
        """An unreachable quoting one of our echoes: that echo is lost, the target unreachable."""
        entry = self._pending.pop(key, None)
        if entry is not None and not entry[0].finished:
            entry[0].mark_unreachable(unreach_detail(code, v6))
