"""Replies our own kernel dropped or we had not read yet are never a target's lost echo.

Real raw sockets on loopback, targets in 127.63.0.0/16.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import struct
import subprocess
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from probes import icmp
from probes.base import Reason
from probes.icmp.channels import SO_RXQ_OVFL, SO_TIMESTAMPNS, Channel
from probes.icmp.engine import IcmpEngine
from probes.icmp.mmsg import BatchReader
from probes.icmp.packet import checksum
from probes.icmp.receive import MAX_DRAIN, read_other, read_raw4

SILENT = "127.63.64.0/18"  # echo requests to these vanish; the test forges the replies


def need_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("raw ICMP sockets and nftables need root")


def addresses(n: int, third: int) -> list[str]:
    return [f"127.63.{third + i // 250}.{i % 250 + 1}" for i in range(n)]


@pytest.fixture
def silent_targets() -> Iterator[None]:
    """Our own nftables table: the kernel does not answer echoes to SILENT."""
    need_root()
    if shutil.which("nft") is None:
        pytest.skip("nft (nftables) is not installed")
    name = f"netwatch_test_icmp_drops_{os.getpid()}"
    script = (
        f"table ip {name} {{ chain input {{ type filter hook input priority 0; policy accept;\n"
        f"ip daddr {SILENT} icmp type echo-request drop\n}}\n}}\n"
    )
    subprocess.run(["nft", "-f", "-"], input=script, text=True, check=True)
    try:
        yield
    finally:
        subprocess.run(["nft", "delete", "table", "ip", name], check=False)


def forged_reply(key: bytes) -> bytes:
    """An IPv4 echo reply from the key's target to 127.0.0.1 answering the key's id and seq."""
    icmp_part = b"\0\0\0\0" + key[4:8]
    icmp_part = icmp_part[:2] + struct.pack("!H", checksum(icmp_part)) + icmp_part[4:]
    # version/IHL, TOS, total length and IP id (the kernel fills both in), flags, TTL,
    # protocol, header checksum (filled in), source, destination
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 0, 0, 0, 64, socket.IPPROTO_ICMP, 0,
                         key[:4], socket.inet_aton("127.0.0.1"))
    return header + icmp_part


def test_drop_counter_is_wrap_safe_and_ignores_stale_readings() -> None:
    """The kernel's uint32 counter wraps; a datagram queued before a later reading adds nothing."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        channel = Channel(sock, v6=False, raw=True)
        channel.note_drops(0x7000_0000)
        channel.note_drops(0xE000_0000)
        channel.note_drops(0xDFFF_FFF0)  # queued before the last reading
        channel.note_drops(5)  # wrapped
        assert channel.drops == (1 << 32) + 5


@pytest.mark.parametrize(
    "reader", [read_other, read_raw4, BatchReader()], ids=["ping-socket", "raw", "raw-recvmmsg"]
)
def test_readers_take_the_drop_counter_from_each_datagram(reader: object) -> None:
    """The kernel's SO_RXQ_OVFL counter, read off the datagrams alone, reaches the channel."""
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        receiver.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        receiver.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        receiver.setsockopt(socket.SOL_SOCKET, SO_RXQ_OVFL, 1)
        receiver.bind(("127.63.9.1", 0))
        receiver.setblocking(False)
        for _ in range(200):  # far more than the queue holds: the kernel drops the rest
            sender.sendto(b"\0" * 60, receiver.getsockname())
        channel = Channel(receiver, v6=False, raw=reader is not read_other)
        reader(channel, {}, lambda key, code, v6: None)  # type: ignore[operator]
        assert channel.drops == 0  # the queued ones were stored before any drop
        sender.sendto(b"\0" * 60, receiver.getsockname())  # queued after the drops
        reader(channel, {}, lambda key, code, v6: None)  # type: ignore[operator]
        assert channel.drops > 100
    finally:
        receiver.close()
        sender.close()


async def test_replies_the_kernel_dropped_make_pings_skipped_never_lost() -> None:
    """With a receive queue too small for a burst's replies, the kernel drops most of them:
    those pings end skipped (local_resources), none as a timeout or a loss."""
    need_root()
    async with IcmpEngine.open(rate=1e6) as engine:
        for channel in engine._family(False).channels:
            channel.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stats = await engine.ping_many(addresses(600, 10), 2, 0.0, 0.5, 56, window=10.0)
        drops = engine.receive_drops
    results = [icmp.result(s) for s in stats]
    reasons = Counter(r.reason for r in results)
    assert drops > 0
    assert set(reasons) <= {Reason.OK, Reason.LOCAL_RESOURCES}, reasons
    assert reasons[Reason.LOCAL_RESOURCES] > 0
    for ping, res in zip(stats, results, strict=True):
        if res.reason is Reason.OK:
            assert ping.received == 2 and res.measurements["loss_ratio"] == 0
        else:
            assert res.skipped and "dropped by the kernel" in res.detail
            assert "loss_ratio" not in res.measurements


async def test_a_backlog_larger_than_one_read_is_read_before_echoes_expire(
    silent_targets: None,
) -> None:
    """Replies that arrived while the loop was stalled past the echoes' timeout, more than
    several reads' worth, are all read and counted before any echo expires."""
    n = 3 * MAX_DRAIN
    targets = addresses(n, 64)
    async with IcmpEngine.open(rate=1e6) as engine:
        task = asyncio.create_task(engine.ping_many(targets, 1, 0.0, 0.3, 0, window=10.0))
        async with asyncio.timeout(10):
            # every echo sent (the engine has no event for it)
            while len(engine._pending) < n:  # noqa: ASYNC110
                await asyncio.sleep(0.002)
        # The replies arrive while the loop is stalled (no await until past the timeout).
        with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW) as forger:
            for key in list(engine._pending):
                forger.sendto(forged_reply(key), ("127.0.0.1", 0))
        time.sleep(0.5)  # noqa: ASYNC251 - the stall under test: no read until past timeout
        stats = await task
        assert engine.receive_drops == 0
    assert Counter(s.received for s in stats) == {1: n}
