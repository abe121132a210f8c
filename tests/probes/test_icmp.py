"""The ICMP probe and engine against real loopback targets in 127.101.0.0/16."""

from __future__ import annotations

import asyncio
import errno
import os
import random
import shutil
import socket
import statistics
import struct
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import pytest

from probes import icmp
from probes.base import ParamError, ProbeContext, Reason, Target
from probes.icmp.channels import SO_TIMESTAMP, SO_TIMESTAMPNS, Channel
from probes.icmp.check import MARGIN
from probes.icmp.engine import IcmpEngine
from probes.icmp.packet import (
    EchoBuilder,
    checksum,
    echo_key,
    parse_dgram_v4,
    parse_raw_v4,
    parse_v6,
)
from probes.icmp.receive import rtt
from probes.icmp.track import Family, Ping

DROPPED = "127.101.9.3"
REJECTED = "127.101.9.2"
PING_GROUP_RANGE = Path("/proc/sys/net/ipv4/ping_group_range")


def need_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("raw ICMP sockets and nftables need root")


def targets(n: int, third: int = 10, timeout: float = 1.0) -> list[Target]:
    return [
        Target(f"t{i}", f"127.101.{third + i // 250}.{i % 250 + 1}", 0, timeout) for i in range(n)
    ]


@pytest.fixture
async def ctx() -> AsyncIterator[ProbeContext]:
    need_root()
    async with ProbeContext() as context:
        yield context


@pytest.fixture
def nft_table() -> Iterator[None]:
    """Our own table: echo requests to DROPPED vanish, to REJECTED get host-unreachable."""
    need_root()
    if shutil.which("nft") is None:
        pytest.skip("nft (nftables) is not installed")
    name = f"netwatch_test_icmp_{os.getpid()}"
    script = (
        f"table ip {name} {{ chain input {{ type filter hook input priority 0; policy accept;\n"
        f"ip daddr {DROPPED} icmp type echo-request drop\n"
        f"ip daddr {REJECTED} icmp type echo-request reject with icmp type host-unreachable\n"
        "}\n}\n"
    )
    subprocess.run(["nft", "-f", "-"], input=script, text=True, check=True)
    try:
        yield
    finally:
        subprocess.run(["nft", "delete", "table", "ip", name], check=False)


@contextmanager
def ping_group_range(value: str) -> Iterator[None]:
    """Set net.ipv4.ping_group_range for the block and restore it after."""
    try:
        old = PING_GROUP_RANGE.read_text()
        PING_GROUP_RANGE.write_text(value)
    except OSError as exc:
        pytest.skip(f"cannot set net.ipv4.ping_group_range: {exc}")
    try:
        yield
    finally:
        PING_GROUP_RANGE.write_text(old)


def test_parse_params_defaults_and_units() -> None:
    """Defaults are 5 echoes 20 ms apart of 56 bytes; intervals take seconds or '20ms'."""
    assert icmp.parse_params({}) == icmp.Params(5, 0.02, 56)
    assert icmp.parse_params({"count": 3, "interval": "50ms", "size": 0}) == icmp.Params(3, 0.05, 0)
    assert icmp.parse_params({"interval": 1}).interval == 1.0


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        ({"cuont": 5}, "cuont", "unknown setting"),
        ({"count": 0}, "count", "between 1 and 100"),
        ({"count": 101}, "count", "between 1 and 100"),
        ({"count": "5"}, "count", "whole number"),
        ({"count": True}, "count", "whole number"),
        ({"interval": -1}, "interval", "between 0 and 10"),
        ({"interval": "fast"}, "interval", "duration"),
        ({"size": 70000}, "size", "between 0 and 65507"),
    ],
)
def test_parse_params_rejects(raw: dict[str, Any], field: str, words: str) -> None:
    """A bad setting raises ParamError naming the field and the problem."""
    with pytest.raises(ParamError) as err:
        icmp.parse_params(raw)
    assert err.value.field == field
    assert words in str(err.value)


def test_checksum_of_built_echo_verifies() -> None:
    """The incrementally computed checksum equals RFC 1071 over the whole packet."""
    for size, ident, seq in [(0, 0, 0), (56, 0xFFFF, 0xFFFF), (7, 0x1234, 0xABCD)]:
        assert checksum(EchoBuilder(size).build(ident, seq)) == 0


def test_parsers_never_raise_on_garbage() -> None:
    """Random, truncated and malformed datagrams parse to None, never an exception."""
    rng = random.Random(4)
    src = socket.inet_aton("127.101.0.1")
    inner = bytes([0x45, 0, 0, 84, 0, 0, 0, 0, 64, 1, 0, 0]) + src + src
    reply = bytes([0x45]) + bytes(11) + src + src + struct.pack("!BBHHH", 0, 0, 0, 7, 9)
    unreach = (
        reply[:20] + struct.pack("!BBHI", 3, 1, 0, 0) + inner + struct.pack("!BBHHH", 8, 0, 0, 7, 9)
    )
    samples = [rng.randbytes(rng.randrange(0, 120)) for _ in range(3000)]
    samples += [reply[:n] for n in range(len(reply))] + [unreach[:n] for n in range(len(unreach))]
    samples += [bytes([0x4F]) + reply[1:], bytes([0x41]) + reply[1:], b"\x60" + reply[1:]]
    for data in samples:
        parse_raw_v4(data)
        parse_dgram_v4(data, src)
        parse_v6(data, bytes(16))
    assert parse_raw_v4(reply[:-1]) is None
    assert parse_raw_v4(unreach[:-1]) is None
    assert parse_raw_v4(reply) is not None and parse_raw_v4(reply).key == echo_key(src, 7, 9)
    parsed = parse_raw_v4(unreach)
    assert parsed is not None and parsed.key == echo_key(src, 7, 9) and parsed.unreach_code == 1


def test_allocation_skips_keys_in_flight_and_wraps_to_the_next_id() -> None:
    """The (id, seq) counter never hands out a key still in flight and rolls over to the next id."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        family = Family(False, [Channel(sock, False, True, [7, 8])])
        addr = socket.inet_aton("127.101.0.1")
        pending: dict[bytes, object] = {echo_key(addr, 7, 0): None}
        assert family.allocate(addr, pending)[1:3] == (7, 1)
        seen = {family.allocate(addr, pending)[1:3] for _ in range(65534)}
        assert (7, 0) not in seen and len(seen) == 65534
        assert family.allocate(addr, pending)[1:3] == (8, 0)


async def test_all_echoes_answered(ctx: ProbeContext) -> None:
    """A live loopback target answers every echo: loss 0, counts, ordered RTT figures, jitter."""
    res = await icmp.probe(targets(1)[0], icmp.parse_params({}), ctx)
    assert res.success and res.reason is Reason.OK, res.detail
    m = res.measurements
    assert (m["sent"], m["received"], m["loss_ratio"]) == (5, 5, 0.0)
    assert 0 < m["rtt_min_seconds"] <= m["rtt_seconds"] <= m["rtt_max_seconds"] < 1
    assert m["jitter_seconds"] >= 0
    assert set(m) <= set(icmp.MEASUREMENTS)


async def test_many_targets_each_accounted(ctx: ProbeContext) -> None:
    """2,000 targets in one batch and 300 concurrent single probes all get their own 3 replies."""
    params = icmp.Params(count=3, interval=0.01)
    batch = await icmp.probe_batch(targets(2000), params, ctx)
    singles = await asyncio.gather(*(icmp.probe(t, params, ctx) for t in targets(300, 30)))
    for res in [*batch, *singles]:
        assert res.success, res.detail
        assert (res.measurements["sent"], res.measurements["received"]) == (3, 3)
    assert all(res.duration_seconds > 0 for res in batch)


async def test_dropped_target_times_out_within_deadline(ctx: ProbeContext, nft_table: None) -> None:
    """Echoes that vanish give timeout, loss 1.0, in a batch without disturbing its neighbours."""
    params = icmp.Params(count=5, interval=0.02)
    started = time.monotonic()
    res = await icmp.probe(Target("d", DROPPED, 0, 0.3), params, ctx)
    assert time.monotonic() - started < icmp.deadline(params, 0.3)
    assert res.reason is Reason.TIMEOUT and res.detail == "no reply to 5 echoes"
    assert (res.measurements["loss_ratio"], res.measurements["sent"]) == (1.0, 5)
    mixed = [*targets(3), Target("d", DROPPED, 0, 0.3)]
    results = await icmp.probe_batch(mixed, params, ctx)
    assert [r.success for r in results] == [True, True, True, False]
    assert results[3].measurements["received"] == 0


async def test_unreachable_is_reported_before_the_timeout(
    ctx: ProbeContext, nft_table: None
) -> None:
    """A destination-unreachable quoting our echoes gives reason unreachable, without waiting."""
    started = time.monotonic()
    res = await icmp.probe(Target("r", REJECTED, 0, 5.0), icmp.Params(count=3), ctx)
    assert time.monotonic() - started < 4.0
    assert res.reason is Reason.UNREACHABLE and "host unreachable" in res.detail
    assert res.measurements["loss_ratio"] == 1.0


async def test_datagram_ping_sockets(nft_table: None) -> None:
    """Without raw sockets the engine uses kernel ping sockets: replies and unreachables match."""
    with ping_group_range(f"{os.getgid()} {os.getgid()}"):
        async with IcmpEngine.open(allow_raw=False) as engine:
            assert engine.error is None and not engine.raw
            ok = await engine.ping_many(
                [t.address for t in targets(200)], 2, 0.01, 1.0, 56, window=5.0
            )
            bad = await engine.ping(REJECTED, 2, 0.01, 5.0, 56)
    assert all(s.received == 2 for s in ok)
    assert bad.received == 0 and bad.unreachable and "host unreachable" in bad.unreachable


async def test_no_permitted_socket_gives_a_clear_error() -> None:
    """With raw sockets off and ping sockets forbidden, every ping is an error that says why."""
    with ping_group_range("1 0"):
        async with IcmpEngine.open(allow_raw=False) as engine:
            stats = await engine.ping("127.101.0.1", 5, 0.02, 1.0, 56)
    assert engine.error is not None and "ping_group_range" in engine.error
    res = icmp.result(stats)
    assert res.reason is Reason.ERROR and res.detail == engine.error


async def test_ipv6_loopback(ctx: ProbeContext) -> None:
    """::1 is pinged over ICMPv6 on the same engine."""
    if not socket.has_ipv6:
        pytest.skip("no IPv6 in this Python")
    res = await icmp.probe(Target("v6", "::1", 0, 1.0), icmp.Params(count=2), ctx)
    assert res.success and res.measurements["received"] == 2, res.detail


async def test_sequence_wrap_within_one_sweep() -> None:
    """With one id, 67,600 echoes wrap the 16-bit sequence and every target still gets its own."""
    need_root()
    async with IcmpEngine.open(ids=1, rate=1e6) as engine:
        addresses = [t.address for t in targets(1300, 40)]
        stats = await engine.ping_many(addresses, 52, 0.0, 2.0, 0, window=30.0)
    assert [s.received for s in stats] == [52] * 1300


async def test_garbage_on_the_socket_never_breaks_the_engine() -> None:
    """Malformed ICMP arriving on the engine's raw socket is ignored; pinging goes on."""
    need_root()
    loop = asyncio.get_running_loop()
    errors: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    try:
        async with IcmpEngine.open() as engine:
            rng = random.Random(7)
            with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as sender:
                for _ in range(200):
                    body = bytes([rng.choice([0, 3, 8, 42]), rng.randrange(4)])
                    sender.sendto(body + rng.randbytes(rng.randrange(0, 60)), ("127.101.3.1", 0))
            stats = await engine.ping("127.101.3.2", 3, 0.01, 1.0, 56)
    finally:
        loop.set_exception_handler(None)
    assert stats.received == 3 and errors == []


async def test_saturated_engine_keeps_every_call_within_its_bound() -> None:
    """Past its queue bound the engine fails pings as saturated rather than let any overrun."""
    need_root()
    count, interval, timeout = 5, 0.01, 0.3
    async with IcmpEngine.open(rate=400, max_queue_delay=0.25) as engine:
        bound = 2 * engine.max_queue_delay + (count - 1) * interval + timeout + MARGIN

        async def timed(target: Target) -> tuple[float, Any]:
            started = time.monotonic()
            stats = await engine.ping(target.address, count, interval, timeout, 56)
            return time.monotonic() - started, stats

        runs = await asyncio.gather(*(timed(t) for t in targets(120, 50)))
        assert engine.queued == 0
    assert max(elapsed for elapsed, _ in runs) < bound
    outcomes = {("saturated" in (s.error or "")) for _, s in runs}
    assert outcomes == {True, False}
    assert all(s.received == count for _, s in runs if not s.error)


async def test_cancelled_probe_gives_back_its_queue_share(
    ctx: ProbeContext, nft_table: None
) -> None:
    """A probe its caller gives up on leaves nothing queued and later probes still work."""
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(icmp.probe(Target("d", DROPPED, 0, 2.0), icmp.Params(), ctx), 0.05)
    engine = await ctx.resource("icmp", IcmpEngine.open)
    assert engine.queued == 0
    res = await icmp.probe(targets(1, 60)[0], icmp.Params(count=2), ctx)
    assert res.success


@pytest.mark.parametrize(
    ("raw", "v6"),
    [(True, False), (False, False), (True, True), (False, True)],
    ids=["raw-v4", "ping-socket-v4", "raw-v6", "ping-socket-v6"],
)
async def test_rtt_in_a_burst_stays_that_of_a_lone_ping(raw: bool, v6: bool) -> None:
    """1,000 pings at once get loopback RTTs (median < 0.5 ms), not their wait in our queue."""
    need_root()
    if v6 and not socket.has_ipv6:
        pytest.skip("no IPv6 in this Python")
    addresses = ["::1"] * 1000 if v6 else [t.address for t in targets(1000, 70)]
    group: AbstractContextManager[None] = (
        nullcontext() if raw else ping_group_range(f"{os.getgid()} {os.getgid()}")
    )
    with group:
        async with IcmpEngine.open(allow_raw=raw) as engine:
            lone = await engine.ping(addresses[0], 3, 0.01, 1.0, 56)
            stats = await engine.ping_many(addresses, 2, 0.01, 1.0, 56, window=10.0)
            assert engine.raw is raw
    rtts = [r for s in stats for r in s.rtts if r is not None]
    assert len(rtts) == 2000 and min(rtts) > 0
    median = statistics.median(rtts)
    assert median < 0.0005, f"burst median {median * 1e3:.3f} ms, lone {lone.rtts} s"


def test_rtt_falls_back_to_read_time_without_a_sane_stamp() -> None:
    """Missing, foreign, truncated or impossible arrival stamps give the read-time RTT."""
    sent_ns, waited = 1_700_000_000_123_456_789, 0.004
    ns = struct.pack("@ll", 1_700_000_000, 123_456_789 + 1_000_000)  # 1 ms after the send
    us = struct.pack("@ll", 1_700_000_000, 124_457)
    stamped = rtt([(socket.SOL_SOCKET, SO_TIMESTAMPNS, ns)], sent_ns, waited)
    assert stamped == pytest.approx(1e-3)
    stamped = rtt([(socket.SOL_SOCKET, SO_TIMESTAMP, us)], sent_ns, waited)
    assert stamped == pytest.approx(1e-3, abs=1e-6)
    before = struct.pack("@ll", 1_700_000_000, 0)
    late = struct.pack("@ll", 1_700_000_001, 0)
    for ancdata in (
        [],
        [(socket.SOL_SOCKET, SO_TIMESTAMPNS, ns[:7])],
        [(socket.IPPROTO_IP, SO_TIMESTAMPNS, ns)],
        [(socket.SOL_SOCKET, 99, ns)],
        [(socket.SOL_SOCKET, SO_TIMESTAMPNS, before)],
        [(socket.SOL_SOCKET, SO_TIMESTAMPNS, late)],
    ):
        assert rtt(ancdata, sent_ns, waited) == waited


async def test_sockets_without_stamps_still_measure() -> None:
    """With the kernel's arrival stamps turned off, replies still get a positive RTT."""
    need_root()
    async with IcmpEngine.open() as engine:
        for channel in engine._family(False).channels:
            channel.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 0)
        stats = await engine.ping("127.101.74.1", 3, 0.01, 1.0, 56)
    assert stats.received == 3 and all(0 < r < 1 for r in stats.rtts if r is not None)


def test_an_echo_our_own_kernel_refused_to_send_is_no_loss() -> None:
    """4 replies, then ENOBUFS on the 5th send: the monitor's shortage, not 20 % loss."""
    finished: list[Ping] = []
    ping = Ping("127.101.9.9", 5, 0.02, 1.0, finished.append)
    for index in range(4):
        ping.answer(index, 0.001)
    ping.send_failed(OSError(errno.ENOBUFS, "No buffer space available"))
    assert finished == [ping]
    found = icmp.result(ping)
    assert found.reason is Reason.LOCAL_RESOURCES and found.skipped
    assert "loss_ratio" not in found.measurements
