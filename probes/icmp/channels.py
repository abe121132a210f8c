"""ICMP sockets: opening the best one the process may use and reading errors off them.

Raw sockets (root or CAP_NET_RAW) come first: one socket per family carries several
echo ids of our own choosing. The kernel hands every raw ICMP socket on the host a
copy of every ICMP message, so a kernel-side type filter keeps only replies and
unreachables, and a socket filter (``probes.icmp.filter``) drops other pingers' echo
replies before they take room in our receive queue; the engine still checks ids.
Without raw privileges, unprivileged "ping" sockets (``SOCK_DGRAM``, allowed when the
process's group is in ``net.ipv4.ping_group_range``) work too: the kernel assigns each
one its own echo id (its "port", learnt after the first send) and delivers it only its
own replies, so several sockets give several ids. Their unreachables arrive on the error queue
(``IP_RECVERR``) rather than as datagrams.

Every socket asks the kernel to stamp each datagram with its arrival time
(``SO_TIMESTAMPNS``, else ``SO_TIMESTAMP``, on ``CLOCK_REALTIME``), delivered as
ancillary data, so that RTTs do not include the time a reply waits in our queue.

Every socket also asks for the kernel's count of datagrams it dropped because our
receive queue was full (``SO_RXQ_OVFL``: a cumulative uint32 in each datagram's
ancillary data, once any drop happened), and the engine can read that count at any
time (``SO_MEMINFO``). ``Channel.drops`` keeps the running total, wrap-safe: an echo
whose reply may have been one of them is unknown, never lost (``probes.icmp.engine``).
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
import struct
from dataclasses import dataclass, field

from probes.icmp.filter import accept_only
from probes.icmp.packet import (
    ECHO_REPLY_V4,
    ECHO_REPLY_V6,
    UNREACH_V4,
    UNREACH_V6,
    Reply,
    echo_key,
)

RCVBUF_BYTES = 8 << 20
_SO_RCVBUFFORCE = 33  # Linux; not exported by the socket module
_SOL_RAW = 255
_ICMP_FILTER = 1
_ICMP6_FILTER = 1
_IP_RECVERR = 11
_IPV6_RECVERR = 25
_SO_EE_ORIGIN_ICMP = 2
_SO_EE_ORIGIN_ICMP6 = 3
_EXTENDED_ERR = struct.Struct("=IBBBBII")
_PING_GROUP_RANGE = "/proc/sys/net/ipv4/ping_group_range"
_MAX_ERRORS = 1024  # error-queue entries read per wake-up (the rest on the next)
# The kernel's receive timestamps (Linux values; SCM_* equal SO_*): ns, else us resolution.
SO_TIMESTAMPNS: int = getattr(socket, "SO_TIMESTAMPNS", 35)
SO_TIMESTAMP: int = getattr(socket, "SO_TIMESTAMP", 29)
# The kernel's count of datagrams dropped on a full receive queue (Linux values).
SO_RXQ_OVFL: int = getattr(socket, "SO_RXQ_OVFL", 40)
_SO_MEMINFO = 55  # u32 sk_meminfo[]: index 8 is the socket's drop count (Linux >= 4.7)
_MEMINFO = struct.Struct("=9I")
_HALF = 1 << 31


class IcmpUnavailable(Exception):
    """Neither a raw nor a ping socket can be opened; the message says what to change."""


@dataclass(slots=True)
class Channel:
    """One open ICMP socket and the echo ids it carries (a ping socket learns its id late).

    ``drops`` counts the datagrams the kernel dropped on this socket's full receive queue
    since it was opened; ``backlogged`` is set while a full read could not empty it.
    """

    sock: socket.socket
    v6: bool
    raw: bool
    idents: list[int] = field(default_factory=list)
    drops: int = 0
    drops_seen: int = 0  # the kernel's last uint32 drop counter we saw
    backlogged: bool = False

    def note_drops(self, counter: int) -> None:
        """Take the kernel's cumulative (wrapping) drop counter into ``drops``.

        A counter behind the last one seen (a datagram queued before an earlier reading)
        adds nothing.
        """
        delta = (counter - self.drops_seen) & 0xFFFFFFFF
        if 0 < delta < _HALF:
            self.drops += delta
            self.drops_seen = counter

    def refresh_drops(self) -> None:
        """Read the kernel's drop counter now (drops no later datagram has reported yet)."""
        try:
            info = self.sock.getsockopt(socket.SOL_SOCKET, _SO_MEMINFO, _MEMINFO.size)
        except OSError:
            return
        if len(info) >= _MEMINFO.size:
            self.note_drops(_MEMINFO.unpack_from(info)[8])


def open_channels(v6: bool, allow_raw: bool, ids: int) -> list[Channel]:
    """Open the sockets for one family: a raw one with ``ids`` ids, else ``ids`` ping sockets."""
    family = socket.AF_INET6 if v6 else socket.AF_INET
    proto = socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP
    raw_error: OSError | None = None
    if allow_raw:
        try:
            sock = socket.socket(family, socket.SOCK_RAW, proto)
        except PermissionError as exc:
            raw_error = exc
        else:
            _setup(sock, raw=True, v6=v6)
            base = random.randrange(0x10000)
            idents = [(base + i) & 0xFFFF for i in range(ids)]
            with contextlib.suppress(OSError):  # without it the engine still matches ids
                accept_only(sock, idents, v6)
            return [Channel(sock, v6, True, idents)]
    channels: list[Channel] = []
    try:
        for _ in range(ids):
            sock = socket.socket(family, socket.SOCK_DGRAM, proto)
            _setup(sock, raw=False, v6=v6)
            channels.append(Channel(sock, v6, False))
    except OSError as exc:
        for channel in channels:
            channel.sock.close()
        raise IcmpUnavailable(_unavailable_message(v6, raw_error, exc)) from exc
    return channels


def _setup(sock: socket.socket, raw: bool, v6: bool) -> None:
    """Non-blocking, a large receive buffer, and only the ICMP messages we parse."""
    sock.setblocking(False)
    try:
        sock.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, RCVBUF_BYTES)
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF_BYTES)
    _stamp_arrivals(sock)
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RXQ_OVFL, 1)
    except OSError:  # not Linux: drops are still read at expiry where SO_MEMINFO exists
        pass
    if raw and v6:
        blocked = [0xFFFFFFFF] * 8  # a set bit blocks that ICMPv6 type
        for kind in (ECHO_REPLY_V6, UNREACH_V6):
            blocked[kind >> 5] &= ~(1 << (kind & 31))
        sock.setsockopt(socket.IPPROTO_ICMPV6, _ICMP6_FILTER, struct.pack("=8I", *blocked))
    elif raw:
        passed = (1 << ECHO_REPLY_V4) | (1 << UNREACH_V4)
        sock.setsockopt(_SOL_RAW, _ICMP_FILTER, struct.pack("=I", ~passed & 0xFFFFFFFF))
    elif v6:
        sock.setsockopt(socket.IPPROTO_IPV6, _IPV6_RECVERR, 1)
    else:
        sock.setsockopt(socket.IPPROTO_IP, _IP_RECVERR, 1)


def _stamp_arrivals(sock: socket.socket) -> None:
    """Have the kernel stamp arrivals; without either option RTTs fall back to read time."""
    for option in (SO_TIMESTAMPNS, SO_TIMESTAMP):
        try:
            sock.setsockopt(socket.SOL_SOCKET, option, 1)
        except OSError:
            continue
        return


def _unavailable_message(v6: bool, raw_error: OSError | None, exc: OSError) -> str:
    """Why no ICMP socket could be opened, and the two ways to fix it."""
    try:
        with open(_PING_GROUP_RANGE) as fh:
            group_range = " ".join(fh.read().split())
    except OSError:
        group_range = "unknown"
    family = "ICMPv6" if v6 else "ICMP"
    raw = ("raw sockets were not tried" if raw_error is None
           else "no raw socket (not root, no CAP_NET_RAW)")
    return (
        f"cannot open an {family} socket: {raw}, and unprivileged ping sockets are not "
        f"allowed ({exc.strerror or exc}; net.ipv4.ping_group_range is '{group_range}', "
        f"gid {os.getgid()}). Run as root, grant CAP_NET_RAW (AmbientCapabilities=CAP_NET_RAW "
        f"in the service unit, or setcap cap_net_raw+ep on the Python binary), or allow ping "
        f"sockets with "
        f"sysctl -w net.ipv4.ping_group_range='0 2147483647'"
    )


def read_errors(channel: Channel) -> list[Reply]:
    """Drain a ping socket's error queue into unreachables for the echoes they quote."""
    found: list[Reply] = []
    origin = _SO_EE_ORIGIN_ICMP6 if channel.v6 else _SO_EE_ORIGIN_ICMP
    where = (socket.IPPROTO_IPV6, _IPV6_RECVERR) if channel.v6 else (socket.IPPROTO_IP, _IP_RECVERR)
    unreach = UNREACH_V6 if channel.v6 else UNREACH_V4
    family = socket.AF_INET6 if channel.v6 else socket.AF_INET
    for _ in range(_MAX_ERRORS):
        try:
            data, ancdata, _flags, addr = channel.sock.recvmsg(64, 512, socket.MSG_ERRQUEUE)
        except OSError:  # BlockingIOError when drained
            return found
        if len(data) < 8 or not addr:
            continue
        for level, kind, cdata in ancdata:  # the error, and the arrival stamp
            if (level, kind) != where or len(cdata) < _EXTENDED_ERR.size:
                continue
            fields = _EXTENDED_ERR.unpack_from(cdata)
            if fields[1] != origin or fields[2] != unreach:
                continue
            try:
                packed = socket.inet_pton(family, addr[0])
            except (OSError, TypeError, ValueError):
                break
            ident, seq = struct.unpack_from("!HH", data, 4)
            found.append(Reply(echo_key(packed, ident, seq), fields[3]))
            break
    return found
