"""The lab's RTSP, HTTP and plain TCP responders, and the listening sockets they share.

Each device gets one listening socket per (address, port), served by an asyncio
Protocol (no task per connection). A responder reads its device's mutable state
on every request, so the lab can change a camera's answers while it runs.
RTSP answers like a protected camera by default: ``OPTIONS`` 200 with ``Public``,
every other request 401 with Digest challenges (SHA-256 and MD5, ``qop=auth``)
unless it carries a correct Digest answer for the credentials the inventory gives
the camera's ``rtsp``/``video`` check. A camera with a ``video`` check also answers
``SETUP`` (RTP interleaved on the connection only), ``PLAY`` (then streams
``netwatch.lab.rtp``'s synthetic H.264) and ``TEARDOWN``.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from netwatch.lab import rtp
from probes.rtspauth import HASHES, Credentials, digest_response, parse_challenges

MAX_HEAD = 16 * 1024  # bytes of request head before the responder gives up
MAX_BODY = 64 * 1024
SERVER = "netwatch-lab"
RTSP_PUBLIC = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER"


class RtspMode:
    """How a lab camera answers (string constants, set on ``RtspState.mode``)."""

    PROTECTED = "protected"  # OPTIONS 200, DESCRIBE 401: alive and protected
    AUTH_ALL = "auth_all"  # every request 401 (rtsp_401)
    UNAVAILABLE = "unavailable"  # every request 503 (rtsp_503)
    OPEN = "open"  # DESCRIBE 200 with SDP (open_stream)


@dataclass(slots=True)
class RtspState:
    """A lab camera's RTSP behaviour; the lab mutates it."""

    device: str
    address: str
    port: int
    mode: str = RtspMode.PROTECTED
    video: str | None = None  # rtp.VideoMode when the camera has a video check, else no SETUP
    credentials: Credentials | None = field(default=None, repr=False)  # what it accepts


def split_head(head: bytes) -> tuple[list[str], dict[str, str]] | None:
    """Start-line words and headers (lower-case names) of a text-protocol head."""
    try:
        lines = head.decode("utf-8").split("\r\n")
    except UnicodeDecodeError:
        return None
    start = lines[0].split(" ", 2)
    pairs = header_lines(lines[1:])
    if pairs is None:
        return None
    headers: dict[str, str] = {}
    for name, value in pairs:
        headers.setdefault(name.lower(), value)
    return start, headers


def header_lines(lines: list[str]) -> list[tuple[str, str]] | None:
    """(name, value) pairs in order, folded continuation lines joined; None if malformed."""
    pairs: list[tuple[str, str]] = []
    for line in lines:
        if line[:1] in (" ", "\t") and pairs:
            name, value = pairs[-1]
            pairs[-1] = (name, f"{value} {line.strip()}")
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            return None
        pairs.append((name.strip(), value.strip()))
    return pairs


def content_length(headers: dict[str, str]) -> int | None:
    """The body size the head announces; None when it is not a sane number."""
    raw = headers.get("content-length", headers.get("l", "0"))
    return int(raw) if raw.isdigit() and int(raw) <= MAX_BODY else None


class HeadProtocol(asyncio.Protocol):
    """Frames CRLFCRLF-terminated heads (plus Content-Length bodies) off a stream."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.skip = 0  # body bytes still to discard

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None and not self.transport.is_closing():
            if self.skip:
                dropped = min(self.skip, len(self.buffer))
                self.buffer, self.skip = self.buffer[dropped:], self.skip - dropped
                if self.skip:
                    return
            self.buffer = self.buffer.lstrip(b"\r\n")
            head, sep, rest = self.buffer.partition(b"\r\n\r\n")
            if not sep:
                if len(self.buffer) > MAX_HEAD:
                    self.transport.close()
                return
            self.buffer = rest
            parsed = split_head(head)
            length = content_length(parsed[1]) if parsed else None
            if parsed is None or length is None:
                self.reject()
                return
            self.skip = length
            self.handle(head, parsed[0], parsed[1])

    def reject(self) -> None:
        """Answer a request that cannot be parsed, then hang up."""
        if self.transport is not None:
            self.transport.close()

    def handle(self, head: bytes, start: list[str], headers: dict[str, str]) -> None:
        """Answer one request; subclasses say how."""
        raise NotImplementedError


def response(proto: str, status: str, headers: list[tuple[str, str]], body: bytes = b"") -> bytes:
    """A text-protocol response; Content-Length when there is a body (always for HTTP)."""
    lines = [f"{proto} {status}", *(f"{k}: {v}" for k, v in headers)]
    if body or proto.startswith("HTTP"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


_INTERLEAVED = re.compile(r"interleaved=(\d{1,3})-(\d{1,3})")


class RtspProtocol(HeadProtocol):
    """One RTSP connection to a lab camera (one session at most)."""

    def __init__(self, state: RtspState) -> None:
        super().__init__()
        self.state = state
        self.nonce = os.urandom(12).hex()
        self.session = ""
        self.channel = 0
        self.streaming: asyncio.Task[None] | None = None

    def connection_lost(self, exc: Exception | None) -> None:
        if self.streaming is not None:
            self.streaming.cancel()

    def reject(self) -> None:
        if self.transport is not None:
            self.transport.write(response("RTSP/1.0", "400 Bad Request", [("Server", SERVER)]))
            self.transport.close()

    def handle(self, head: bytes, start: list[str], headers: dict[str, str]) -> None:
        assert self.transport is not None
        if len(start) != 3 or start[2] != "RTSP/1.0":
            self.reject()
            return
        method = start[0]
        common = [("CSeq", headers.get("cseq", "0")), ("Server", SERVER)]
        mode = self.state.mode
        if mode == RtspMode.UNAVAILABLE:
            reply = response("RTSP/1.0", "503 Service Unavailable", common)
        elif mode == RtspMode.AUTH_ALL or (
                mode == RtspMode.PROTECTED and method != "OPTIONS"
                and not self._authorized(method, headers.get("authorization", ""))):
            challenges = [("WWW-Authenticate", f'Digest realm="{SERVER}", nonce="{self.nonce}", '
                                               f'algorithm={name}, qop="auth"')
                          for name in ("SHA-256", "MD5")]
            reply = response("RTSP/1.0", "401 Unauthorized", [*common, *challenges])
        elif method == "OPTIONS":
            reply = response("RTSP/1.0", "200 OK", [*common, ("Public", RTSP_PUBLIC)])
        elif method == "DESCRIBE":
            reply = self._describe(common)
        elif method in ("SETUP", "PLAY", "TEARDOWN") and self.state.video is not None:
            reply = self._session(method, headers, common)
        else:
            allow = [*common, ("Allow", RTSP_PUBLIC)]
            reply = response("RTSP/1.0", "405 Method Not Allowed", allow)
        self.transport.write(reply)
        if method == "PLAY" and reply.startswith(b"RTSP/1.0 200") and self.streaming is None:
            video = self.state.video or rtp.VideoMode.NONE
            self.streaming = asyncio.ensure_future(rtp.stream(self.transport, self.channel, video))

    def _authorized(self, method: str, value: str) -> bool:
        """Whether ``value`` is a correct Digest answer to this connection's challenge."""
        creds = self.state.credentials
        scheme, _, _ = value.partition(" ")
        if creds is None or scheme.lower() != "digest":
            return False
        answers = parse_challenges(value)
        p = answers[0].params if answers else {}
        algorithm = p.get("algorithm", "MD5").upper()
        if (p.get("username") != creds.user or p.get("realm") != SERVER
                or p.get("nonce") != self.nonce or algorithm not in HASHES):
            return False
        expected = digest_response(algorithm, creds.user, SERVER, creds.password, method,
                                   p.get("uri", ""), self.nonce, p.get("nc", ""),
                                   p.get("cnonce", ""), p.get("qop", ""))
        return hmac.compare_digest(expected, p.get("response", ""))

    def _session(self, method: str, headers: dict[str, str],
                 common: list[tuple[str, str]]) -> bytes:
        if method == "SETUP":
            channels = _INTERLEAVED.search(headers.get("transport", ""))
            if "RTP/AVP/TCP" not in headers.get("transport", "") or channels is None:
                return response("RTSP/1.0", "461 Unsupported Transport", common)
            self.channel = int(channels.group(1)) & 0xFF
            self.session = self.session or os.urandom(8).hex()
            transport = f"RTP/AVP/TCP;unicast;interleaved={self.channel}-{self.channel + 1}"
            return response("RTSP/1.0", "200 OK", [*common, ("Transport", transport),
                                                   ("Session", f"{self.session};timeout=60")])
        if not self.session or headers.get("session", "").split(";")[0] != self.session:
            return response("RTSP/1.0", "454 Session Not Found", common)
        if method == "TEARDOWN":
            if self.streaming is not None:
                self.streaming.cancel()
            self.session = ""
        return response("RTSP/1.0", "200 OK", [*common, ("Session", self.session or "0")])

    def _describe(self, common: list[tuple[str, str]]) -> bytes:
        s = self.state
        sdp = (
            f"v=0\r\no=- 0 0 IN IP4 {s.address}\r\ns={s.device}\r\nc=IN IP4 {s.address}\r\n"
            f"t=0 0\r\n{rtp.SDP_VIDEO}"
        ).encode()
        base = f"rtsp://{s.address}:{s.port}/"
        fields = [*common, ("Content-Base", base), ("Content-Type", "application/sdp")]
        return response("RTSP/1.0", "200 OK", fields, sdp)


class HttpProtocol(HeadProtocol):
    """One HTTP/1.x connection to a lab device's web interface: 200 for every path."""

    def __init__(self, device: str) -> None:
        super().__init__()
        self.body = f"netwatch lab: {device}\n".encode()

    def reject(self) -> None:
        if self.transport is not None:
            self.transport.write(response("HTTP/1.1", "400 Bad Request", [("Connection", "close")]))
            self.transport.close()

    def handle(self, head: bytes, start: list[str], headers: dict[str, str]) -> None:
        assert self.transport is not None
        if len(start) != 3 or not start[2].startswith("HTTP/1."):
            self.reject()
            return
        close = headers.get("connection", "").lower() == "close" or start[2] == "HTTP/1.0"
        fields = [("Server", SERVER), ("Content-Type", "text/plain; charset=utf-8")]
        if close:
            fields.append(("Connection", "close"))
        reply = response("HTTP/1.1", "200 OK", fields, self.body)
        if start[0] == "HEAD":
            reply = reply[: len(reply) - len(self.body)]
        self.transport.write(reply)
        if close:
            self.transport.close()


class TcpProtocol(asyncio.Protocol):
    """A bare listener: accepts, discards what it gets, lets the client hang up."""

    def data_received(self, data: bytes) -> None:
        """Nothing to say back: the connect is the check."""


def bound_socket(address: str, port: int, kind: socket.SocketKind) -> socket.socket:
    """A non-blocking socket bound to (address, port); listening when it is TCP."""
    sock = socket.socket(socket.AF_INET, kind)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        if kind == socket.SOCK_STREAM:
            sock.listen(256)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


async def serve_tcp(address: str, port: int, factory: Callable[[], asyncio.Protocol]
                    ) -> asyncio.Server:
    """Listen on (address, port) with ``factory`` making one Protocol per connection."""
    sock = bound_socket(address, port, socket.SOCK_STREAM)
    try:
        return await asyncio.get_running_loop().create_server(factory, sock=sock)
    except BaseException:
        sock.close()
        raise
