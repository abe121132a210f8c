"""The ICMP engine at its limits: batches share it fairly, pace, queue rather than drop,
and whatever it cannot send is the engine's own limit (a skip), never the target's.

Also the reply path under hostile input: a flood of odd datagrams is read in bounded
slices so it cannot hold the event loop. Targets are loopback addresses in 127.62.0.0/16.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import struct

import pytest

from probes import icmp
from probes.base import ProbeContext, Reason, Target
from probes.icmp.channels import Channel
from probes.icmp.engine import IcmpEngine
from probes.icmp.mmsg import BatchReader
from probes.icmp.receive import MAX_DRAIN, read_other, read_raw4


def need_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("raw ICMP sockets need root")


def addresses(n: int, third: int) -> list[str]:
    return [f"127.62.{third + i // 250}.{i % 250 + 1}" for i in range(n)]


async def test_two_batches_share_the_engine_and_neither_is_dropped() -> None:
    """A batch queued behind another gets its turn at once (fair share), and every echo of
    both leaves the machine even though together they need twice the engine's rate."""
    need_root()
    async with IcmpEngine.open(rate=2000, max_queue_delay=0.05) as engine:
        first = engine.ping_many(addresses(400, 10), 2, 0.0, 1.0, 0, window=30.0)
        second = engine.ping_many(addresses(400, 20), 2, 0.0, 1.0, 0, window=30.0)
        a, b = await asyncio.gather(first, second)
    assert all(p.received == 2 and p.error is None for p in a + b)
    # fair share: the second batch started long before the first one had finished
    assert min(p.started for p in b) < max(p.started for p in a)


async def test_unsent_pings_of_an_overrun_batch_are_skips_not_failures() -> None:
    """Pings a batch could not admit within its window end unsent, as ``batch_overran``."""
    need_root()
    async with IcmpEngine.open(rate=1000, max_queue_delay=0.05) as engine:
        pings = await engine.ping_many(addresses(400, 30), 1, 0.0, 1.0, 0, window=0.0)
    results = [icmp.result(p) for p in pings]
    reasons = {r.reason for r in results}
    assert reasons == {Reason.OK, Reason.BATCH_OVERRAN}
    assert all(r.skipped for r in results if not r.success)


async def test_a_saturated_single_ping_is_a_skip() -> None:
    """A single ping refused by a full engine is ``engine_saturated``: not the target's doing."""
    need_root()
    async with IcmpEngine.open(rate=400, max_queue_delay=0.05) as engine:
        pings = await asyncio.gather(
            *(engine.ping(a, 5, 0.01, 0.3, 56) for a in addresses(120, 40))
        )
    results = [icmp.result(p) for p in pings]
    assert {r.reason for r in results} == {Reason.OK, Reason.ENGINE_SATURATED}
    assert all(r.skipped for r in results if not r.success)


async def test_a_paced_probe_batch_answers_every_target() -> None:
    """``probe_batch`` with ``spread``: every target answered, nothing left queued."""
    need_root()
    params = icmp.Params(count=2, interval=0.0, size=0)
    targets = [Target(f"t{i}", a, 0, 1.0) for i, a in enumerate(addresses(60, 50))]
    async with ProbeContext({"icmp": {"rate": 5000.0}}) as ctx:
        results = await icmp.probe_batch(targets, params, ctx, spread=0.3)
        engine = await ctx.resource("icmp", IcmpEngine.open)
        assert engine.rate == 5000.0 and engine.queued == 0
    assert all(r.success and r.measurements["received"] == 2 for r in results)


async def test_admission_follows_the_pace() -> None:
    """With ``pace`` pings per second, the last of n starts at least (n - 1) / pace later."""
    need_root()
    async with IcmpEngine.open() as engine:
        pings = await engine.ping_many(addresses(30, 60), 1, 0.0, 1.0, 0, window=10.0, pace=100.0)
    starts = [p.started for p in pings]
    assert all(p.received == 1 for p in pings)
    assert max(starts) - min(starts) >= 29 / 100.0 * 0.99


def _hostile(rng: random.Random) -> bytes:
    """An odd ICMP-ish datagram: truncated, wrong type, forged id/seq, or huge."""
    choice = rng.randrange(5)
    if choice == 0:
        return rng.randbytes(rng.randrange(0, 8))  # truncated
    if choice == 1:
        return bytes([rng.choice([3, 11, 42, 128, 129])]) + rng.randbytes(rng.randrange(1, 80))
    if choice == 2:
        return struct.pack("!BBHHH", 0, 0, 0, rng.randrange(65536), rng.randrange(65536))
    if choice == 3:
        return bytes([3, 1, 0, 0, 0, 0, 0, 0, 0x4F]) + rng.randbytes(40)  # bad inner header
    return bytes([0, 0]) + rng.randbytes(60000)  # huge


@pytest.mark.parametrize(
    "reader", [read_other, read_raw4, BatchReader()], ids=["ping-socket", "raw", "raw-recvmmsg"]
)
def test_a_flood_of_hostile_datagrams_is_read_in_bounded_slices(reader: object) -> None:
    """More hostile datagrams than one wake-up may read: a call reads at most MAX_DRAIN,
    never raises and settles nothing; later calls drain the rest."""
    rng = random.Random(13)
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        receiver.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 20)
        receiver.bind(("127.62.9.1", 0))
        receiver.setblocking(False)
        sent = 0
        for _ in range(MAX_DRAIN + 500):
            data = _hostile(rng)
            if len(data) > 2000 and sent % 50:
                data = data[:64]
            sender.sendto(data, receiver.getsockname())
            sent += 1
        channel = Channel(receiver, v6=False, raw=reader is not read_other)
        pending: dict[bytes, object] = {}
        refused: list[bytes] = []
        reader(channel, pending, lambda key, code, v6: refused.append(key))  # type: ignore[operator]
        left = 0
        while True:
            try:
                receiver.recv(1)
            except BlockingIOError:
                break
            left += 1
        assert left >= 400  # the first call stopped after MAX_DRAIN datagrams
        assert pending == {}
    finally:
        receiver.close()
        sender.close()
