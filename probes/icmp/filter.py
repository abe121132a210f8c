"""A kernel filter so a raw ICMP socket queues only the echo replies to our own ids.

The kernel hands every raw ICMP socket on the host a copy of every ICMP message. The
type filter (``ICMP_FILTER``) already keeps only echo replies and unreachables, but
the echo replies of every other pinger on the host (fping, another monitor, a flood
ping, or replies forged from outside) still land in our receive queue: at tens of
thousands per second they fill it, the kernel drops our own replies with theirs, and
our echoes would look lost. So, as iputils' ping does for its single id, a classic BPF
program attached with ``SO_ATTACH_FILTER`` drops any echo reply whose id is not one of
ours before it is queued; unreachables (which quote our echo deeper in the packet) pass
and are matched by the engine. Ping (datagram) sockets need none: the kernel delivers
each one only its own replies.

Layouts the program reads: a raw IPv4 socket sees the IP header first (its length in
the low nibble of byte 0, scaled by ``BPF_MSH``), then the ICMP header; a raw ICMPv6
socket sees the ICMPv6 header at offset 0. Type at +0, id at +4.
"""

from __future__ import annotations

import ctypes
import socket
import struct

SO_ATTACH_FILTER = 26  # Linux
# Classic BPF opcodes (linux/filter.h).
_LD_B_ABS = 0x30
_LD_B_IND = 0x50
_LD_H_ABS = 0x28
_LD_H_IND = 0x48
_LDX_B_MSH = 0xB1
_JEQ_K = 0x15
_RET_K = 0x06
_ACCEPT = 0xFFFFFFFF
_INSN = struct.Struct("=HBBI")
_MAX_IDS = 200  # jump offsets are 8 bits


def program(idents: list[int], v6: bool) -> list[tuple[int, int, int, int]]:
    """The filter's instructions: pass non-replies and replies to ``idents``, drop the rest."""
    if not 1 <= len(idents) <= _MAX_IDS:
        raise ValueError(f"a filter takes 1 to {_MAX_IDS} echo ids, got {len(idents)}")
    reply = 129 if v6 else 0
    n = len(idents)
    if v6:
        head = [(_LD_B_ABS, 0, 0, 0)]  # A = type
        load_id = (_LD_H_ABS, 0, 0, 4)
    else:
        head = [(_LDX_B_MSH, 0, 0, 0), (_LD_B_IND, 0, 0, 0)]  # X = IP header length; A = type
        load_id = (_LD_H_IND, 0, 0, 4)
    # type == reply: go on to the ids; else jump to accept (over the id checks and the drop)
    insns = [*head, (_JEQ_K, 0, n + 2, reply), load_id]
    for i, ident in enumerate(idents):  # a match jumps over the remaining checks and the drop
        insns.append((_JEQ_K, n - i, 0, ident & 0xFFFF))
    insns += [(_RET_K, 0, 0, 0), (_RET_K, 0, 0, _ACCEPT)]
    return insns


def accept_only(sock: socket.socket, idents: list[int], v6: bool) -> None:
    """Attach the filter to a raw ICMP socket (the kernel copies the program)."""
    insns = program(idents, v6)
    code = b"".join(_INSN.pack(*insn) for insn in insns)
    buffer = ctypes.create_string_buffer(code, len(code))
    fprog = struct.pack("@HP", len(insns), ctypes.addressof(buffer))  # struct sock_fprog
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
