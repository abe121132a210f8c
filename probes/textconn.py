"""One TCP (or TLS) connection of a text-protocol probe: connect, send, read replies.

``Conn`` is a bare ``asyncio.Protocol`` (no StreamReader/StreamWriter pair: fewer
objects per check) that buffers what arrives, pauses reading once the buffer
holds more than any reply may, and hands out one head or body at a time.
``connect`` and ``step`` turn socket errors, overruns and malformed replies into
``Failed`` with the reason and detail the probe reports, so probes read as the
sequence of their steps. Each step gets its own timeout: a probe's deadline is
its timeout times its number of sequential steps.

What a device sends is bounded: a reply head over ``HEAD_LIMIT`` (64 KiB) is a
protocol error before it is parsed, a body is read up to the probe's limit
(HTTP ``max_body``, at most 16 MiB; RTSP ``BODY_LIMIT`` and SIP ``HEAD_LIMIT``,
64 KiB), the buffer never grows far past ``cap`` because reading pauses, the
search for a head's end resumes where it stopped (linear in the bytes
received), and any malformed reply or socket error inside a step becomes a
``Failed`` with ``protocol`` (or ``timeout``), never another exception.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import time
from collections.abc import Awaitable, Mapping
from typing import TypeVar

from probes.base import LOCAL_ERRNOS, ProbeResult, Reason, Target, reason_for_oserror, within
from probes.textproto import (
    HEAD_LIMIT,
    Head,
    ProtocolError,
    excerpt,
    find_head_end,
    parse_head,
)

T = TypeVar("T")


class Failed(Exception):
    """A check step failed for a reason the operator can act on."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail

    def result(self, **measurements: float) -> ProbeResult:
        """The failed ProbeResult, keeping what was measured before the failure."""
        return ProbeResult.fail(self.reason, self.detail, **measurements)


def where(target: Target) -> str:
    """``address:port`` for messages, bracketing IPv6 literals."""
    host = f"[{target.address}]" if ":" in target.address else target.address
    return f"{host}:{target.port}"


class Conn(asyncio.Protocol):
    """The client side of one connection, read reply by reply under a size cap."""

    def __init__(self, cap: int = HEAD_LIMIT) -> None:
        self.transport: asyncio.Transport | None = None
        self._cap = cap  # never buffer more than this: a reply may not be larger
        self._buf = bytearray()
        self._closed = False
        self._paused = False
        self._waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._buf += data
        if len(self._buf) > self._cap and self.transport is not None:
            self.transport.pause_reading()
            self._paused = True
        self._wake()

    def eof_received(self) -> bool:
        self._closed = True
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _more(self, what: str) -> None:
        """Wait for more bytes; a closed connection is a truncated reply."""
        if self._closed:
            if self._buf:
                raise ProtocolError(
                    f"connection closed inside the {what} after {len(self._buf)} bytes"
                )
            raise ProtocolError(f"connection closed without a {what}")
        if self._paused and self.transport is not None:
            self.transport.resume_reading()
            self._paused = False
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    def send(self, data: bytes) -> None:
        """Queue bytes for the peer."""
        if self.transport is None or self.transport.is_closing():
            raise ProtocolError("connection closed before the request was sent")
        self.transport.write(data)

    async def read_head(
        self, protocol: str, aliases: Mapping[str, str] | None = None, limit: int = HEAD_LIMIT
    ) -> Head:
        """The next reply head; ProtocolError if it is garbage, truncated or over ``limit``."""
        prefix = protocol.encode("ascii") + b"/"
        searched = 0
        while True:
            if self._buf.startswith((b"\r", b"\n")):  # blank lines before a reply are allowed
                del self._buf[: len(self._buf) - len(self._buf.lstrip(b"\r\n"))]
                searched = 0
            if self._buf[: len(prefix)] != prefix[: len(self._buf)]:
                raise ProtocolError(f"not a {protocol} reply: {excerpt(self._buf)}")
            end = find_head_end(self._buf, max(0, searched - 3))
            if end is not None:
                if end[0] > limit:
                    break
                head = self._buf[: end[0]]
                del self._buf[: end[1]]
                return parse_head(head, protocol, aliases)
            if len(self._buf) > limit:
                break
            searched = len(self._buf)
            await self._more(f"{protocol} reply head")
        raise ProtocolError(f"reply head longer than {limit} bytes")

    async def read_body(self, length: int | None, limit: int) -> bytes:
        """Up to ``limit`` bytes of a body of ``length`` bytes (None: until the peer closes)."""
        want = limit if length is None else min(length, limit)
        while len(self._buf) < want:
            if self._closed and length is None:
                break
            try:
                await self._more("body")
            except ProtocolError:
                raise ProtocolError(f"body truncated: {len(self._buf)} of {length} bytes") from None
        body = bytes(self._buf[:want])
        del self._buf[:want]
        return body

    def local_address(self) -> tuple[str, int]:
        """Our end of the connection, for protocols that name it (SIP Via, Contact)."""
        assert self.transport is not None, "not connected"
        host, port = self.transport.get_extra_info("sockname")[:2]
        return host, port

    def close(self) -> None:
        """Close the transport; safe to call more than once."""
        if self.transport is not None:
            self.transport.close()


def why(exc: OSError) -> str:
    """The system's words for a socket error (asyncio wraps them in longer text)."""
    return os.strerror(exc.errno) if exc.errno else str(exc)


def _tls_detail(exc: ssl.SSLError) -> str:
    return f"TLS handshake failed: {getattr(exc, 'verify_message', '') or exc.reason or exc}"


async def connect(
    target: Target,
    cap: int = HEAD_LIMIT,
    tls: ssl.SSLContext | None = None,
    server_hostname: str | None = None,
    conn: Conn | None = None,
) -> tuple[Conn, float]:
    """Open a connection within the target's timeout; returns it and the seconds it took.

    ``conn`` is a protocol of a ``Conn`` subclass to use instead of a new ``Conn(cap)``
    (RTSP's also reads interleaved frames).
    """
    loop = asyncio.get_running_loop()
    conn = conn or Conn(cap)
    started = time.perf_counter()
    try:
        await within(
            loop.create_connection(
                lambda: conn,
                target.address,
                target.port,
                ssl=tls,
                server_hostname=(server_hostname or target.address) if tls else None,
            ),
            target.timeout,
        )
    except TimeoutError:
        raise Failed(
            Reason.TIMEOUT, f"connect to {where(target)}: no answer within {target.timeout:g} s"
        ) from None
    except ssl.SSLError as exc:
        raise Failed(Reason.PROTOCOL, f"{where(target)}: {_tls_detail(exc)}") from None
    except OSError as exc:
        raise Failed(reason_for_oserror(exc), f"connect to {where(target)}: {why(exc)}") from None
    return conn, time.perf_counter() - started


async def step(work: Awaitable[T], seconds: float, what: str) -> T:
    """Await one step of a check within ``seconds``, mapping failures to reasons."""
    try:
        return await within(work, seconds)
    except TimeoutError:
        raise Failed(Reason.TIMEOUT, f"{what}: no complete reply within {seconds:g} s") from None
    except ProtocolError as exc:
        raise Failed(Reason.PROTOCOL, f"{what}: {exc}") from None
    except OSError as exc:
        reason = Reason.LOCAL_RESOURCES if exc.errno in LOCAL_ERRNOS else Reason.PROTOCOL
        raise Failed(reason, f"{what}: {why(exc)}") from None
