"""Reading ICMP sockets: drain every pending datagram and settle the echoes it answers.

Called by the engine's pump; each call reads at most ``MAX_DRAIN`` datagrams (and
returns how many it read) so a flood cannot stall the loop; the engine loops until a
socket is empty before it counts any echo as lost. Every datagram is parsed defensively
(``probes.icmp.packet``): garbage, truncated, oversized or foreign datagrams are skipped,
and a reply counts only if its (source, id, seq) matches an echo still in flight. An echo
reply settles its echo with its RTT; an unreachable quoting one of our echoes goes to
the engine's ``unreachable(key, code, v6)``.

The RTT is the kernel's arrival stamp of the reply (``SO_TIMESTAMPNS`` ancillary data,
``CLOCK_REALTIME``) minus the realtime clock read just before ``sendto``: the time a
reply waits in our receive queue while a burst is being sent does not count. With no
stamp, a malformed one, or one that cannot be right (a clock step between send and
read), the RTT is the read time on the monotonic clock minus the send time. A
datagram's ``SO_RXQ_OVFL`` drop counter, when present, goes to ``Channel.note_drops``.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable, Sequence

from probes.icmp.channels import SO_RXQ_OVFL, SO_TIMESTAMP, SO_TIMESTAMPNS, Channel, read_errors
from probes.icmp.packet import Reply, parse_dgram_v4, parse_raw_v4, parse_v6
from probes.icmp.track import Ping

# An echo in flight: its ping, its index, sent at (monotonic s) and (realtime ns), the
# channel its reply comes back on and that channel's drop count when it was sent.
Pending = dict[bytes, tuple[Ping, int, float, int, Channel, int]]
Unreachable = Callable[[bytes, int, bool], None]
Reader = Callable[[Channel, Pending, Unreachable], int]

_STAMP = struct.Struct("@ll")  # struct timespec (SO_TIMESTAMPNS) or timeval (SO_TIMESTAMP)
_DROPS = struct.Struct("=I")  # SO_RXQ_OVFL: the socket's cumulative drop count
# Room for both ancillary items: the arrival stamp and the drop counter.
ANC_SPACE = socket.CMSG_SPACE(_STAMP.size) + socket.CMSG_SPACE(_DROPS.size)
_SOL_SOCKET = socket.SOL_SOCKET
_NO_STAMP = (-1, -1, b"")
# Datagrams read per wake-up: a flood (hostile or not) cannot hold the loop; the loop
# calls the reader again on its next turn while more are queued.
MAX_DRAIN = 1024
READ_SIZE = 4096  # bytes read of a datagram: a bigger one is truncated, never copied whole


def read_raw4(channel: Channel, pending: Pending, unreachable: Unreachable) -> int:
    """Drain a raw IPv4 socket (the hot path: the source address is in the IP header)."""
    recvmsg = channel.sock.recvmsg
    clock = time.monotonic
    unpack_stamp = _STAMP.unpack
    for done in range(MAX_DRAIN):
        try:
            data, ancdata, _flags, _addr = recvmsg(READ_SIZE, ANC_SPACE)
        except OSError:  # BlockingIOError: drained
            return done
        if len(ancdata) != 1 or ancdata[0][1] == SO_RXQ_OVFL:
            note_drops(channel, ancdata)
        if len(data) >= 28 and data[0] == 0x45 and data[20] == 0 and data[21] == 0:
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
            ping, index, sent_at, sent_ns, _channel, _drops = entry
            waited = clock() - sent_at
            level, kind, cdata = ancdata[0] if ancdata else _NO_STAMP
            if kind == SO_TIMESTAMPNS and level == _SOL_SOCKET and len(cdata) == _STAMP.size:
                seconds, nanos = unpack_stamp(cdata)  # the common case, inlined: rtt()
                stamped = (seconds * 1_000_000_000 + nanos - sent_ns) * 1e-9
                ping.answer(index, stamped if 0.0 <= stamped <= waited else waited)
            else:
                ping.answer(index, rtt(ancdata, sent_ns, waited))
    return MAX_DRAIN


def read_other(channel: Channel, pending: Pending, unreachable: Unreachable) -> int:
    """Drain a ping socket or an ICMPv6 socket, then a ping socket's error queue."""
    recvmsg = channel.sock.recvmsg
    clock = time.monotonic
    family = socket.AF_INET6 if channel.v6 else socket.AF_INET
    errors = 0
    done = 0
    while done < MAX_DRAIN:
        try:
            data, ancdata, _flags, addr = recvmsg(READ_SIZE, ANC_SPACE)
        except BlockingIOError:
            break
        except OSError:  # a ping socket reports an ICMP error once this way
            errors += 1
            if errors > 64:
                break
            continue
        done += 1
        if len(ancdata) != 1 or ancdata[0][1] == SO_RXQ_OVFL:
            note_drops(channel, ancdata)
        reply = _parse(data, addr, family)
        if reply is None:
            continue
        if reply.unreach_code is not None:
            unreachable(reply.key, reply.unreach_code, channel.v6)
            continue
        entry = pending.pop(reply.key, None)
        if entry is not None and not entry[0].finished:
            ping, index, sent_at, sent_ns, _channel, _drops = entry
            ping.answer(index, rtt(ancdata, sent_ns, clock() - sent_at))
    if not channel.raw:
        for reply in read_errors(channel):
            unreachable(reply.key, reply.unreach_code or 0, channel.v6)
    return done


def note_drops(channel: Channel, ancdata: Sequence[tuple[int, int, bytes]]) -> None:
    """Pass a datagram's drop counter (``SO_RXQ_OVFL``), if it has one, to its channel."""
    for level, kind, cdata in ancdata:
        if level == _SOL_SOCKET and kind == SO_RXQ_OVFL and len(cdata) >= _DROPS.size:
            channel.note_drops(_DROPS.unpack_from(cdata)[0])


def rtt(ancdata: Sequence[tuple[int, int, bytes]], sent_ns: int, waited: float) -> float:
    """Seconds from send (realtime ns) to the kernel's arrival stamp; ``waited`` if none fits.

    ``waited`` (read time minus send time, monotonic) bounds the true RTT from above, so a
    stamp giving a negative RTT or a longer one comes from a clock step and is ignored.
    """
    for level, kind, cdata in ancdata:
        if level != _SOL_SOCKET or len(cdata) < _STAMP.size:
            continue
        if kind == SO_TIMESTAMPNS:
            seconds, nanos = _STAMP.unpack_from(cdata)
        elif kind == SO_TIMESTAMP:
            seconds, micros = _STAMP.unpack_from(cdata)
            nanos = micros * 1000
        else:
            continue
        stamped = (seconds * 1_000_000_000 + nanos - sent_ns) * 1e-9
        return stamped if 0.0 <= stamped <= waited else waited
    return waited


def _parse(data: bytes, addr: tuple[str, int], family: int) -> Reply | None:
    """Parse one datagram from a socket that gives the peer's address apart."""
    try:
        src = socket.inet_pton(family, addr[0].split("%", 1)[0])
    except (OSError, TypeError, ValueError, IndexError):
        return None
    if family == socket.AF_INET:
        return parse_dgram_v4(data, src)
    return parse_v6(data, src)
