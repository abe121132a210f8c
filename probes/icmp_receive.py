"""Reading ICMP sockets: drain every pending datagram and settle the echoes it answers.

Called by the loop when a socket is readable. Every datagram is parsed defensively
(``probes.icmp_packet``): garbage, truncated or foreign datagrams are skipped. An echo
reply settles its echo with the RTT measured now; an unreachable quoting one of our
echoes goes to the engine's ``unreachable(key, code, v6)``.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

from probes.icmp_packet import Reply, parse_dgram_v4, parse_raw_v4, parse_v6
from probes.icmp_socket import Channel, read_errors
from probes.icmp_track import Ping

Pending = dict[bytes, tuple[Ping, int, float]]
Unreachable = Callable[[bytes, int, bool], None]


def read_raw4(channel: Channel, pending: Pending, unreachable: Unreachable) -> None:
    """Drain a raw IPv4 socket (the hot path: the source address is in the IP header)."""
    recv = channel.sock.recv
    clock = time.monotonic
    while True:
        try:
            data = recv(4096)
        except OSError:  # BlockingIOError: drained
            return
        if len(data) >= 28 and data[0] == 0x45 and data[20] == 0:
            key = data[12:16] + data[24:28]  # an echo reply behind a plain IPv4 header
        else:
            reply = parse_raw_v4(data)
            if reply is None:
                continue
            if reply.unreach_code is not None:
                unreachable(reply.key, reply.unreach_code, False)
                continue
            key = reply.key
        entry = pending.pop(key, None)
        if entry is not None and not entry[0].finished:
            entry[0].answer(entry[1], clock() - entry[2])


def read_other(channel: Channel, pending: Pending, unreachable: Unreachable) -> None:
    """Drain a ping socket or an ICMPv6 socket, then a ping socket's error queue."""
    recvfrom = channel.sock.recvfrom
    family = socket.AF_INET6 if channel.v6 else socket.AF_INET
    errors = 0
    while True:
        try:
            data, addr = recvfrom(4096)
        except BlockingIOError:
            break
        except OSError:  # a ping socket reports an ICMP error once this way
            errors += 1
            if errors > 64:
                break
            continue
        now = time.monotonic()
        reply = _parse(data, addr, family)
        if reply is None:
            continue
        if reply.unreach_code is not None:
            unreachable(reply.key, reply.unreach_code, channel.v6)
            continue
        entry = pending.pop(reply.key, None)
        if entry is not None and not entry[0].finished:
            entry[0].answer(entry[1], now - entry[2])
    if not channel.raw:
        for reply in read_errors(channel):
            unreachable(reply.key, reply.unreach_code or 0, channel.v6)


def _parse(data: bytes, addr: tuple[str, int], family: int) -> Reply | None:
    """Parse one datagram from a socket that gives the peer's address apart."""
    try:
        src = socket.inet_pton(family, addr[0].split("%", 1)[0])
    except (OSError, TypeError, ValueError, IndexError):
        return None
    if family == socket.AF_INET:
        return parse_dgram_v4(data, src)
    return parse_v6(data, src)
