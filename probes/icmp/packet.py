"""ICMP echo packets: building requests and parsing whatever arrives on an ICMP socket.

Parsing never raises: a truncated, garbage or foreign datagram yields ``None``. A parsed
datagram becomes a ``Reply``: the echo it answers, as the match key
``packed target address + id + seq`` (4 or 16 address bytes, then 2 + 2 bytes, network
order), and for a destination-unreachable, the ICMP code. Keys are built the same way
on the send side by ``echo_key``, so matching is one dict lookup on bytes.

Layouts: a raw IPv4 socket delivers the IP header first; raw ICMPv6 and datagram
("ping") sockets deliver the ICMP message alone, with the peer in the socket address.
An error (unreachable) carries the offending packet: its IP header, whose destination
is our target, then the first 8 bytes of our echo request.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

ECHO_REQUEST_V4 = 8
ECHO_REPLY_V4 = 0
UNREACH_V4 = 3
ECHO_REQUEST_V6 = 128
ECHO_REPLY_V6 = 129
UNREACH_V6 = 1

_HEADER = struct.Struct("!BBHHH")
_IDSEQ = struct.Struct("!HH")
_CSUM_IDSEQ = struct.Struct("!HHH")

UNREACH_CODES_V4 = {
    0: "network unreachable",
    1: "host unreachable",
    2: "protocol unreachable",
    3: "port unreachable",
    9: "network administratively prohibited",
    10: "host administratively prohibited",
    13: "communication administratively prohibited",
}
UNREACH_CODES_V6 = {
    0: "no route to destination",
    1: "communication administratively prohibited",
    3: "address unreachable",
    4: "port unreachable",
}


@dataclass(frozen=True, slots=True)
class Reply:
    """One parsed datagram: the key of the echo it concerns; unreach_code is None for a reply."""

    key: bytes
    unreach_code: int | None = None


def checksum(data: bytes | bytearray) -> int:
    """The Internet checksum (RFC 1071) of ``data``."""
    if len(data) % 2:
        data = data + b"\0"  # a copy: a bytearray is never padded in place
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


class EchoBuilder:
    """Builds echo requests of one payload size; the checksum is updated from a precomputed sum.

    ``build`` rewrites checksum, id and seq in one reused buffer (no new packet per echo):
    its result is valid until the next ``build``, long enough for the ``sendto`` that
    follows it.
    """

    __slots__ = ("_packet", "_base")

    def __init__(self, size: int, v6: bool = False) -> None:
        payload = bytes(i & 0xFF for i in range(size))
        kind = ECHO_REQUEST_V6 if v6 else ECHO_REQUEST_V4
        self._packet = bytearray(_HEADER.pack(kind, 0, 0, 0, 0) + payload)
        # One's-complement sum of everything but id and seq; folded per packet.
        self._base = 0xFFFF & ~checksum(bytes(self._packet))

    def build(self, ident: int, seq: int) -> bytearray:
        """The echo request with this id and seq (ICMPv6 checksums are filled in by the kernel)."""
        total = self._base + ident + seq
        total = (total >> 16) + (total & 0xFFFF)
        total = (total >> 16) + (total & 0xFFFF)
        _CSUM_IDSEQ.pack_into(self._packet, 2, ~total & 0xFFFF, ident, seq)
        return self._packet


def echo_key(packed_addr: bytes, ident: int, seq: int) -> bytes:
    """The match key of the echo sent to ``packed_addr`` with this id and seq."""
    return packed_addr + _IDSEQ.pack(ident, seq)


def parse_raw_v4(data: bytes) -> Reply | None:
    """Parse what a raw IPv4 ICMP socket received (IP header included)."""
    if len(data) < 20 or data[0] >> 4 != 4:
        return None
    ihl = (data[0] & 0x0F) * 4
    if ihl < 20 or len(data) < ihl + 8:
        return None
    return _parse_icmp_v4(data[ihl:], data[12:16])


def parse_dgram_v4(data: bytes, src: bytes) -> Reply | None:
    """Parse what an IPv4 ping socket received from packed address ``src`` (no IP header)."""
    if len(data) < 8:
        return None
    return _parse_icmp_v4(data, src)


def _parse_icmp_v4(icmp: bytes, src: bytes) -> Reply | None:
    """An echo reply from ``src``, or an unreachable quoting our echo request."""
    kind = icmp[0]
    if kind == ECHO_REPLY_V4 and icmp[1] == 0:
        return Reply(src + icmp[4:8])
    if kind != UNREACH_V4 or len(icmp) < 8 + 20 + 8:
        return None
    inner = icmp[8:]
    if inner[0] >> 4 != 4 or inner[9] != socket.IPPROTO_ICMP:
        return None
    ihl = (inner[0] & 0x0F) * 4
    if ihl < 20 or len(inner) < ihl + 8 or inner[ihl] != ECHO_REQUEST_V4:
        return None
    return Reply(inner[16:20] + inner[ihl + 4 : ihl + 8], icmp[1])


def parse_v6(data: bytes, src: bytes) -> Reply | None:
    """Parse what an ICMPv6 socket (raw or ping) received from packed address ``src``."""
    if len(data) < 8:
        return None
    kind = data[0]
    if kind == ECHO_REPLY_V6 and data[1] == 0:
        return Reply(src + data[4:8])
    if kind != UNREACH_V6 or len(data) < 8 + 40 + 8:
        return None
    inner = data[8:]
    # Only a quoted echo request directly after the fixed header (no extension headers).
    if inner[0] >> 4 != 6 or inner[6] != socket.IPPROTO_ICMPV6 or inner[40] != ECHO_REQUEST_V6:
        return None
    return Reply(inner[24:40] + inner[44:48], data[1])


def unreach_text(code: int, v6: bool) -> str:
    """A human name for an unreachable code."""
    names = UNREACH_CODES_V6 if v6 else UNREACH_CODES_V4
    return names.get(code, f"unreachable code {code}")
