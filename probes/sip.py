"""The ``sip`` probe: does an endpoint's SIP stack answer an OPTIONS request.

Any final SIP status line answering *our* request (same Call-ID, our Via branch
on top) proves the stack alive: 200, 401, 403, 404, 405, 483, 501 alike; replies
for other requests are ignored. A provisional 1xx keeps us waiting for the final
reply, but a 1xx alone at the timeout still proves the stack alive (success, the
detail says so). ``rtt_seconds`` is the time to the first reply of ours.

UDP (default): one connected datagram socket per check, so the kernel drops
datagrams from anyone but the target and reports ICMP port-unreachable as
``refused``; the request is sent again once, identically, at half the timeout if
nothing has answered (a lost datagram should not fail a check). Garbage in a
datagram from the target is noted, not final: a forged datagram (UDP sources
are easy to spoof) must not fail a check whose real reply is on its way, so the
check is ``protocol`` only if no reply of ours comes within the timeout. A
datagram is at most 64 KiB and parsed in linear time (``probes.textproto``).
TCP: one connection, replies framed by Content-Length, heads capped at
``HEAD_LIMIT``; garbage there is ``protocol`` at once.

Deadline: UDP one step, ``timeout``; TCP two steps (connect, reply), ``2 × timeout``.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any

from probes import textconn
from probes.base import (
    Measurement,
    ParamError,
    ProbeContext,
    ProbeResult,
    Reason,
    Target,
    reason_for_oserror,
)
from probes.textproto import HEAD_LIMIT, Head, ProtocolError, find_head_end, parse_head, request

NAME = "sip"
DEFAULT_PORT: int | None = 5060
MEASUREMENTS = (Measurement.STATUS_CODE, Measurement.RTT_SECONDS)
USER_AGENT = "netwatch/0.1"
TRANSPORTS = ("udp", "tcp")
COMPACT = {"i": "call-id", "v": "via", "l": "content-length", "f": "from", "t": "to"}


@dataclass(frozen=True, slots=True)
class Params:
    """Which transport OPTIONS travels over."""

    transport: str = "udp"


def parse_params(raw: Mapping[str, Any] | None) -> Params:
    """Build Params from the inventory, naming the first bad or unknown setting."""
    raw = raw or {}
    unknown = sorted(set(raw) - {"transport"})
    if unknown:
        raise ParamError(unknown[0], "unknown setting (known: transport)")
    transport = raw.get("transport", "udp")
    if transport not in TRANSPORTS:
        raise ParamError("transport", f"{transport!r} is not one of udp, tcp")
    return Params(transport)


def deadline(params: Params, timeout: float) -> float:
    """UDP: the exchange alone; TCP: connect, then the exchange."""
    return (2 if params.transport == "tcp" else 1) * timeout


@dataclass(frozen=True, slots=True)
class _Dialog:
    """The identifiers that tie replies to our request."""

    call_id: str
    branch: str
    tag: str

    @classmethod
    def new(cls) -> _Dialog:
        return cls(os.urandom(12).hex(), "z9hG4bK" + os.urandom(10).hex(), os.urandom(6).hex())

    def matches(self, head: Head) -> bool:
        top_via = head.get("via").split(",")[0]
        return head.get("call-id") == self.call_id and f"branch={self.branch}" in top_via


def _host(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def _options(target: Target, transport: str, local: tuple[Any, ...], dialog: _Dialog) -> bytes:
    """An OPTIONS request with the headers RFC 3261 requires of it."""
    me = f"{_host(local[0])}:{local[1]}"
    uri = f"sip:{_host(target.address)}"
    if target.port != DEFAULT_PORT:
        uri += f":{target.port}"
    headers = (
        ("Via", f"SIP/2.0/{transport.upper()} {me};branch={dialog.branch};rport"),
        ("Max-Forwards", "70"),
        ("From", f"<sip:netwatch@{me}>;tag={dialog.tag}"),
        ("To", f"<{uri}>"),
        ("Call-ID", dialog.call_id),
        ("CSeq", "1 OPTIONS"),
        ("Contact", f"<sip:netwatch@{me};transport={transport}>"),
        ("Accept", "application/sdp"),
        ("User-Agent", USER_AGENT),
        ("Content-Length", "0"),
    )
    return request("OPTIONS", uri, "SIP/2.0", headers)


class _Waiter:
    """What arrived so far for our request: the first provisional reply and its time."""

    def __init__(self, dialog: _Dialog) -> None:
        self.dialog = dialog
        self.final: asyncio.Future[Head] = asyncio.get_running_loop().create_future()
        self.provisional: Head | None = None
        self.first_reply: float | None = None
        self.garbage: ProtocolError | None = None  # the last unparsable datagram, if any

    def reply(self, head: Head) -> None:
        """Note one parsed reply; only ours count, and only a final one ends the wait."""
        if not self.dialog.matches(head) or self.final.done():
            return
        if self.first_reply is None:
            self.first_reply = time.perf_counter()
        if head.status >= 200:
            self.final.set_result(head)
        elif self.provisional is None:
            self.provisional = head

    def fail(self, exc: BaseException) -> None:
        if not self.final.done():
            self.final.set_exception(exc)


class _Datagrams(asyncio.DatagramProtocol):
    """The client end of one connected UDP socket, feeding replies to a waiter."""

    def __init__(self, waiter: _Waiter) -> None:
        self.waiter = waiter

    def datagram_received(self, data: bytes, addr: Any) -> None:
        end = find_head_end(data)
        try:
            head = parse_head(data[: end[0]] if end else data, "SIP", COMPACT)
        except ProtocolError as exc:
            self.waiter.garbage = exc  # reported only if no reply of ours comes in time
            return
        self.waiter.reply(head)

    def error_received(self, exc: Exception) -> None:
        if isinstance(exc, OSError):
            detail = f"OPTIONS: {textconn.why(exc)}"
            self.waiter.fail(textconn.Failed(reason_for_oserror(exc), detail))


async def _read_replies(conn: textconn.Conn, waiter: _Waiter) -> Head:
    """Feed replies from a TCP connection to the waiter until a final one of ours."""
    while not waiter.final.done():
        head = await conn.read_head("SIP", COMPACT)
        length = head.content_length()
        if length and length > HEAD_LIMIT:
            raise ProtocolError(f"reply body of {length} bytes is over {HEAD_LIMIT}")
        if length:
            await conn.read_body(length, length)
        waiter.reply(head)
    return await waiter.final


async def probe(target: Target, params: Params, ctx: ProbeContext) -> ProbeResult:
    """Send OPTIONS and wait for our final reply (or at least a provisional one)."""
    dialog = _Dialog.new()
    waiter = _Waiter(dialog)
    if params.transport == "tcp":
        try:
            conn, _ = await textconn.connect(target)
        except textconn.Failed as failed:
            return failed.result()
        try:
            sent = time.perf_counter()
            conn.send(_options(target, "tcp", conn.local_address(), dialog))
            return await _outcome(_read_replies(conn, waiter), waiter, target, sent)
        finally:
            conn.close()
    loop = asyncio.get_running_loop()
    try:
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Datagrams(waiter), remote_addr=(target.address, target.port)
        )
    except OSError as exc:
        return ProbeResult.fail(
            reason_for_oserror(exc), f"{textconn.where(target)}: {textconn.why(exc)}"
        )
    try:
        data = _options(target, "udp", transport.get_extra_info("sockname"), dialog)
        sent = time.perf_counter()
        transport.sendto(data)
        resend = loop.call_later(target.timeout / 2, _resend, transport, data, waiter)
        try:
            return await _outcome(waiter.final, waiter, target, sent)
        finally:
            resend.cancel()
    finally:
        transport.close()


def _resend(transport: asyncio.DatagramTransport, data: bytes, waiter: _Waiter) -> None:
    """Retransmit once if nothing of ours has arrived (a datagram may be lost)."""
    if waiter.first_reply is None and not transport.is_closing():
        transport.sendto(data)


async def _outcome(
    work: Awaitable[Head], waiter: _Waiter, target: Target, sent: float
) -> ProbeResult:
    """Turn the wait for a final reply into a result; a lone 1xx still proves life."""
    try:
        head: Head = await textconn.step(work, target.timeout, "OPTIONS")
    except textconn.Failed as failed:
        if failed.reason is Reason.TIMEOUT and waiter.provisional is None and waiter.garbage:
            return ProbeResult.fail(Reason.PROTOCOL, f"OPTIONS: {waiter.garbage}")
        if failed.reason is not Reason.TIMEOUT or waiter.provisional is None:
            return failed.result()
        head = waiter.provisional
        detail = f"only {_status(head)} within {target.timeout:g} s: stack alive, no final reply"
    else:
        detail = _status(head)
    rtt = (waiter.first_reply or time.perf_counter()) - sent
    return ProbeResult.ok(detail, status_code=head.status, rtt_seconds=rtt)


def _status(head: Head) -> str:
    return f"{head.status} {head.phrase}".rstrip()
