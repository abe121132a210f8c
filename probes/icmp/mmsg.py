"""Reading a raw IPv4 ICMP socket many datagrams per system call (Linux ``recvmmsg``).

Why: in a 100k sweep one ``recvmsg`` per reply was a quarter of the engine's time, and
most of it was the call itself (entering the kernel, building the address, the data,
the ancillary list and their tuples), not the reply. ``recvmmsg`` fills up to ``BATCH``
preallocated buffers per call; the fields the engine needs are unpacked in place. What
is read, and how, is ``icmp_receive.read_raw4``'s: at most ``MAX_DRAIN`` datagrams per
call, every datagram parsed defensively, the kernel's arrival stamp (``SO_TIMESTAMPNS``)
for the RTT and its drop counter (``SO_RXQ_OVFL``) for the channel. Where ``recvmmsg``
cannot be called (not Linux/glibc, not 64-bit), ``raw4_reader`` gives ``read_raw4``.
"""

from __future__ import annotations

import ctypes
import socket
import struct
import time
from typing import cast

from probes.icmp.channels import SO_RXQ_OVFL, SO_TIMESTAMPNS, Channel
from probes.icmp.packet import parse_raw_v4
from probes.icmp.receive import (
    ANC_SPACE,
    MAX_DRAIN,
    READ_SIZE,
    Pending,
    Reader,
    Unreachable,
    note_drops,
    read_raw4,
    rtt,
)

BATCH = 64  # datagrams per recvmmsg call
_MSG_DONTWAIT = 0x40
_SOL_SOCKET = socket.SOL_SOCKET


class _Iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


class _Msghdr(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32),
        ("iov", ctypes.c_void_p), ("iovlen", ctypes.c_size_t),
        ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
        ("flags", ctypes.c_int),
    ]  # fmt: skip


class _Mmsghdr(ctypes.Structure):
    _fields_ = [("hdr", _Msghdr), ("len", ctypes.c_uint)]


_MMSG = ctypes.sizeof(_Mmsghdr)
_CTL_AT = _Msghdr.controllen.offset
_FLAGS_AT = _Msghdr.flags.offset
_LEN_AT = _Mmsghdr.len.offset
# Per message, what the kernel wrote: control length, flags, datagram length.
_TAIL = struct.Struct(f"=Q{_FLAGS_AT - _CTL_AT - 8}xi{_LEN_AT - _FLAGS_AT - 4}xI")
# An echo reply behind a plain IPv4 header: version/IHL, source, ICMP type, code, id+seq.
_HEAD = struct.Struct("!B11x4s4xBB2x4s")
# The lone arrival stamp: cmsg length, level, type, then struct timespec.
_CMSG_HEAD = struct.Struct("=Qii")
_CMSG_STAMP = struct.Struct("=Qiiqq")
_STAMP_ONLY = socket.CMSG_SPACE(16)
# The drop counter after it (SO_RXQ_OVFL): cmsg length, level, type, uint32.
_CMSG_DROPS = struct.Struct("=QiiI")
_DROPS_LEN = socket.CMSG_LEN(4)


def _recvmmsg() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    """libc's recvmmsg, or None where it cannot be used as laid out here."""
    if ctypes.sizeof(ctypes.c_size_t) != 8 or socket.CMSG_LEN(0) != _CMSG_HEAD.size:
        return None
    try:
        func = ctypes.CDLL(None, use_errno=True).recvmmsg
    except (OSError, AttributeError):
        return None
    func.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_void_p]
    func.restype = ctypes.c_int
    return func


_RECVMMSG = _recvmmsg()


def raw4_reader() -> Reader:
    """A reader for one raw IPv4 socket: batched where possible, else ``read_raw4``."""
    return BatchReader() if _RECVMMSG is not None else read_raw4


class BatchReader:
    """``read_raw4`` over ``recvmmsg``, with its own preallocated buffers (one per socket)."""

    __slots__ = ("_bufs", "_ctrl", "_iov", "_msgs", "_template", "_msgs_at")

    def __init__(self) -> None:
        self._bufs = ctypes.create_string_buffer(BATCH * READ_SIZE)
        self._ctrl = ctypes.create_string_buffer(BATCH * ANC_SPACE)
        self._iov = (_Iovec * BATCH)()
        self._msgs = (_Mmsghdr * BATCH)()
        for i in range(BATCH):
            self._iov[i].base = ctypes.addressof(self._bufs) + i * READ_SIZE
            self._iov[i].len = READ_SIZE
            hdr = self._msgs[i].hdr
            hdr.iov = ctypes.addressof(self._iov[i])
            hdr.iovlen = 1
            hdr.control = ctypes.addressof(self._ctrl) + i * ANC_SPACE
            hdr.controllen = ANC_SPACE
        self._template = bytes(self._msgs)  # the kernel rewrites lengths: reset per call
        self._msgs_at = ctypes.addressof(self._msgs)

    def __call__(self, channel: Channel, pending: Pending, unreachable: Unreachable) -> int:
        """Drain up to ``MAX_DRAIN`` datagrams; how many were read."""
        fd = channel.sock.fileno()
        msgs, bufs, ctrl = self._msgs, self._bufs, self._ctrl
        template, msgs_at = self._template, self._msgs_at
        recvmmsg, memmove, clock = _RECVMMSG, ctypes.memmove, time.monotonic
        tail, head, stamp = _TAIL.unpack_from, _HEAD.unpack_from, _CMSG_STAMP.unpack_from
        drops = _CMSG_DROPS.unpack_from
        done = 0
        while done < MAX_DRAIN:
            memmove(msgs_at, template, len(template))
            got = recvmmsg(fd, msgs_at, min(BATCH, MAX_DRAIN - done), _MSG_DONTWAIT, None)  # type: ignore[misc]
            if got <= 0:  # drained (EAGAIN), or the socket is gone
                return done
            done += got
            now = clock()  # after the call: no datagram of the batch arrived later
            for i in range(got):
                controllen, _flags, length = tail(msgs, i * _MMSG + _CTL_AT)
                cmsg_at = i * ANC_SPACE
                cmsg_len, level, ckind, seconds, nanos = stamp(ctrl, cmsg_at)
                ancdata = None  # the arrival stamp first, then maybe the drop counter
                if cmsg_len != _STAMP_ONLY or ckind != SO_TIMESTAMPNS or level != _SOL_SOCKET:
                    ancdata = _ancillary(ctrl, i, controllen)
                elif controllen != _STAMP_ONLY:
                    dlen, dlevel, dkind, counter = drops(ctrl, cmsg_at + _STAMP_ONLY)
                    if (controllen != ANC_SPACE or dlen != _DROPS_LEN or dkind != SO_RXQ_OVFL
                            or dlevel != _SOL_SOCKET):
                        ancdata = _ancillary(ctrl, i, controllen)
                    elif counter != channel.drops_seen:  # once dropped, every datagram says so
                        channel.note_drops(counter)
                if ancdata is not None:
                    note_drops(channel, ancdata)
                at = i * READ_SIZE
                if length >= 28:
                    version, src, kind, code, idseq = head(bufs, at)
                else:
                    version = -1
                if version == 0x45 and kind == 0 and code == 0:
                    key = src + idseq
                else:
                    # A c_char array's slice is bytes (the stubs say list[bytes]).
                    reply = parse_raw_v4(cast(bytes, bufs[at : at + min(length, READ_SIZE)]))
                    if reply is None:
                        continue
                    if reply.unreach_code is not None:
                        unreachable(reply.key, reply.unreach_code, False)
                        continue
                    key = reply.key
                entry = pending.pop(key, None)
                if entry is not None and not entry[0].finished:
                    ping, index, sent_at, sent_ns, _channel, _drops = entry
                    waited = now - sent_at
                    if ancdata is None:  # the common case: rtt(), inlined
                        stamped = (seconds * 1_000_000_000 + nanos - sent_ns) * 1e-9
                        ping.answer(index, stamped if 0.0 <= stamped <= waited else waited)
                    else:
                        ping.answer(index, rtt(ancdata, sent_ns, waited))
        return done


def _ancillary(ctrl: ctypes.Array[ctypes.c_char], i: int, controllen: int) -> list[
    tuple[int, int, bytes]
]:
    """Message ``i``'s control data as ``recvmsg`` gives it: (level, type, data) items."""
    found: list[tuple[int, int, bytes]] = []
    pos = i * ANC_SPACE
    end = pos + min(controllen, ANC_SPACE)
    while pos + _CMSG_HEAD.size <= end:
        cmsg_len, level, kind = _CMSG_HEAD.unpack_from(ctrl, pos)
        if cmsg_len < _CMSG_HEAD.size or pos + cmsg_len > end:
            break
        data = cast(bytes, ctrl[pos + _CMSG_HEAD.size : pos + cmsg_len])  # a c_char slice: bytes
        found.append((level, kind, data))
        pos += (cmsg_len + 7) & ~7
    return found
