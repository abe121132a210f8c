"""Other pingers' echo replies never take room in our raw socket's receive queue.

Every raw ICMP socket on a host gets a copy of every echo reply: without the socket
filter, a flood ping or another monitor on the same machine fills our queue and the
kernel drops our own replies with theirs (echoes that would look lost).
"""

from __future__ import annotations

import os
import select
import socket
import time
from collections.abc import Iterator

import pytest

from probes.icmp.channels import Channel, open_channels
from probes.icmp.filter import program
from probes.icmp.packet import EchoBuilder

ADDRESSES = [f"127.101.200.{i}" for i in range(1, 41)]


@pytest.fixture
def ours() -> Iterator[Channel]:
    if os.geteuid() != 0:
        pytest.skip("raw ICMP sockets need root")
    channels = open_channels(False, allow_raw=True, ids=4)
    assert channels[0].raw
    yield channels[0]
    channels[0].sock.close()


@pytest.fixture
def foreign() -> Iterator[socket.socket]:
    """Another pinger on the host: a plain raw ICMP socket of its own."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    yield sock
    sock.close()


def queued(sock: socket.socket, wait: float = 0.2) -> list[bytes]:
    """Every datagram in the socket's queue (after a short wait for stragglers)."""
    found = []
    deadline = time.monotonic() + wait
    while select.select([sock], [], [], max(0.0, deadline - time.monotonic()))[0]:
        found.append(sock.recv(4096))
    return found


def replies_from_our_targets(data: list[bytes]) -> list[bytes]:
    """The echo replies from this test's addresses (the host may carry other pings)."""
    sources = {socket.inet_aton(a) for a in ADDRESSES}
    return [d for d in data if d[20] == 0 and d[12:16] in sources]


def test_echo_replies_to_other_ids_are_dropped_by_the_kernel(
        ours: Channel, foreign: socket.socket) -> None:
    stranger = next(i for i in range(1, 0x10000) if i not in ours.idents)
    builder = EchoBuilder(56)
    for seq, address in enumerate(ADDRESSES):
        foreign.sendto(builder.build(stranger, seq), (address, 0))
    # the kernel answered every one of them: the other pinger has its replies ...
    assert len(replies_from_our_targets(queued(foreign))) == len(ADDRESSES)
    # ... and none of them took room in our queue
    assert replies_from_our_targets(queued(ours.sock, wait=0.0)) == []


def test_echo_replies_to_our_ids_still_arrive(ours: Channel, foreign: socket.socket) -> None:
    builder = EchoBuilder(56)
    for seq, address in enumerate(ADDRESSES):
        foreign.sendto(builder.build(ours.idents[seq % len(ours.idents)], seq), (address, 0))
    got = replies_from_our_targets(queued(ours.sock))
    assert len(got) == len(ADDRESSES)
    assert {int.from_bytes(d[24:26], "big") for d in got} == set(ours.idents)


@pytest.mark.parametrize("count", [0, 201])
def test_a_filter_takes_a_bounded_number_of_ids(count: int) -> None:
    with pytest.raises(ValueError, match="echo ids"):
        program(list(range(count)), v6=False)
