"""The ``video`` probe: does a camera's stream actually carry video, right now.

On one TCP connection: ``DESCRIBE`` (answering a Digest or Basic challenge with the
check's credentials, ``probes.rtspauth``), ``SETUP`` of the SDP's first video track
with ``Transport: RTP/AVP/TCP;unicast;interleaved=0-1`` (RTP rides the RTSP
connection as ``$``-framed packets, so no UDP port is opened), ``PLAY``, then it
reads for ``sample`` seconds and sends ``TEARDOWN``. Nothing is decoded: the RTP
headers and the first bytes of each H.264 / H.265 payload are enough.

Facts (``MEASUREMENTS``), counted from PLAY's answer to the end of the sample:

- ``video_packets``: RTP packets received on the video track's channel;
- ``video_bytes_per_second``: their bytes (RTP header and payload, without the
  4-byte interleave framing) divided by ``sample``;
- ``first_packet_seconds``: PLAY's answer to the first of them (absent when none);
- ``keyframe``: 1 if an H.264 IDR (NAL type 5, alone or inside STAP-A/B or FU-A/B)
  or an H.265 IRAP (types 16-21, alone or inside AP or FU) arrived, else 0; absent
  when the track is neither H.264 nor H.265;
- ``timestamps_advancing``: 1 if a packet with an RTP timestamp later than every
  earlier one arrived in the second half of the sample, else 0 (no packets, one
  repeated timestamp, or a stream that stopped before half-time).

``success`` means the exchange completed: DESCRIBE, SETUP and PLAY answered 2xx.
A camera that plays but sends nothing is a success with ``video_packets`` 0; judging
that is the monitor's business. 401/403 (with credentials refused, or none given)
is ``auth``; other statuses ``bad_status``; a malformed answer ``protocol``.

Bounded: replies are heads of at most 64 KiB with bodies of at most ``BODY_LIMIT``,
an interleaved frame's 16-bit length is at most 65,535 bytes by construction, the
connection buffer is capped (reading pauses), and every wait has its deadline.
Deadline: connect, DESCRIBE (twice with credentials), SETUP, PLAY and TEARDOWN,
each within ``timeout``, plus ``sample``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from probes import rtspauth, textconn
from probes.base import (
    DeadlinePassed,
    Measurement,
    ParamError,
    ProbeContext,
    ProbeResult,
    Reason,
    Target,
    within,
)
from probes.durations import DURATION_HINT, BadDuration, seconds
from probes.textproto import Head, ProtocolError, excerpt, is_request_path, is_safe_text, request

NAME = "video"
DEFAULT_PORT: int | None = 554
MEASUREMENTS = (Measurement.VIDEO_PACKETS, Measurement.VIDEO_BYTES_PER_SECOND,
                Measurement.FIRST_PACKET_SECONDS, Measurement.KEYFRAME,
                Measurement.TIMESTAMPS_ADVANCING)
USER_AGENT = "netwatch/0.1"
BODY_LIMIT = 64 * 1024  # bytes of SDP (or any reply body) read
CONN_CAP = 2 * BODY_LIMIT  # the buffer pauses reading beyond this; a frame is under 64 KiB
DEFAULT_SAMPLE = 2.0
MAX_SAMPLE = 60.0
SESSION_LIMIT = 256  # characters of a Session id sent back
AUTH_STATUSES = (401, 403)
_INTERLEAVED = re.compile(r"interleaved=(\d{1,3})(?:-(\d{1,3}))?")


@dataclass(frozen=True, slots=True)
class Params:
    """Which stream to play, for how long, and as whom."""

    path: str = "/"
    sample: float = DEFAULT_SAMPLE
    credentials: rtspauth.Credentials | None = field(default=None, repr=False)


def parse_params(raw: Mapping[str, Any] | None) -> Params:
    """Build Params from the inventory (password already resolved from ``${ENV}``)."""
    raw = raw or {}
    known = ("password", "path", "sample", "user")
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ParamError(unknown[0], f"unknown setting (known: {', '.join(known)})")
    path = raw.get("path", "/")
    if not is_request_path(path):
        raise ParamError("path", "must start with '/' and hold no spaces or control characters")
    try:
        sample = seconds(raw.get("sample", DEFAULT_SAMPLE))
    except BadDuration:
        raise ParamError("sample", f"expected {DURATION_HINT}") from None
    if not 0 < sample <= MAX_SAMPLE:
        raise ParamError("sample", f"must be above 0 and at most {MAX_SAMPLE:g} s")
    return Params(path, sample, rtspauth.parse_credentials(raw))


def deadline(params: Params, timeout: float) -> float:
    """Connect, DESCRIBE (twice with credentials), SETUP, PLAY, TEARDOWN, and the sample."""
    steps = 6 if params.credentials is not None else 5
    return steps * timeout + params.sample


@dataclass(slots=True)
class Track:
    """The SDP's first video track: where to SETUP it and what it carries."""

    control: str
    codec: str  # encoding name upper-cased, e.g. "H264"; "" when no rtpmap names it


def video_track(sdp: str) -> tuple[str, Track | None]:
    """The session-level ``a=control`` ("" if none) and the first ``m=video`` track."""
    session_control = ""
    track: Track | None = None
    payloads: list[str] = []
    in_video = in_media = False
    for raw in sdp.splitlines():
        line = raw.strip()
        if line.startswith("m="):
            if track is not None:
                break
            in_media = True
            words = line[2:].split()
            in_video = bool(words) and words[0] == "video"
            if in_video:
                track, payloads = Track("", ""), words[3:]
        elif line.startswith("a=control:"):
            if not in_media:
                session_control = line[len("a=control:"):].strip()
            elif in_video and track is not None:
                track.control = line[len("a=control:"):].strip()
        elif line.startswith("a=rtpmap:") and in_video and track is not None:
            pt, _, encoding = line[len("a=rtpmap:"):].partition(" ")
            if pt.strip() in payloads[:1] or (not track.codec and pt.strip() in payloads):
                track.codec = encoding.split("/")[0].strip().upper()
    return session_control, track


def resolve(base: str, control: str) -> str:
    """An SDP control attribute made a request URL (RFC 2326 C.1.1)."""
    if not control or control == "*":
        return base
    if control.lower().startswith(("rtsp://", "rtsps://")):
        return control
    return base + ("" if base.endswith("/") else "/") + control


def rtp_timestamp_payload(packet: bytes) -> tuple[int, bytes] | None:
    """An RTP packet's timestamp and payload, or None if it is no RTP version 2 packet."""
    if len(packet) < 12 or packet[0] >> 6 != 2:
        return None
    offset = 12 + 4 * (packet[0] & 0x0F)
    if packet[0] & 0x10:  # header extension: 4 bytes, then its length in 32-bit words
        if len(packet) < offset + 4:
            return None
        offset += 4 + 4 * int.from_bytes(packet[offset + 2:offset + 4], "big")
    end = len(packet) - (packet[-1] if packet[0] & 0x20 else 0)
    if offset > end:
        return None
    return int.from_bytes(packet[4:8], "big"), packet[offset:end]


def _units(payload: bytes, start: int, header: int) -> list[int]:
    """Offsets of the NAL units of an aggregation packet (16-bit size before each)."""
    offsets = []
    i = start
    while i + 2 + header <= len(payload):
        size = int.from_bytes(payload[i:i + 2], "big")
        if size == 0:
            break
        offsets.append(i + 2)
        i += 2 + size
    return offsets


def h264_keyframe(payload: bytes) -> bool:
    """An IDR slice (NAL type 5), alone, in STAP-A/B or starting an FU-A/B (RFC 6184)."""
    if not payload:
        return False
    kind = payload[0] & 0x1F
    if kind == 5:
        return True
    if kind in (24, 25):  # STAP-A; STAP-B has a 16-bit DON first
        return any(payload[i] & 0x1F == 5 for i in _units(payload, 1 if kind == 24 else 3, 1))
    if kind in (28, 29):
        return len(payload) > 1 and payload[1] & 0x1F == 5
    return False


def h265_keyframe(payload: bytes) -> bool:
    """An IRAP picture (NAL types 16-21), alone, in an AP or in an FU (RFC 7798)."""
    if len(payload) < 2:
        return False
    kind = (payload[0] >> 1) & 0x3F
    if 16 <= kind <= 21:
        return True
    if kind == 48:  # aggregation packet (no DONL: sprop-max-don-diff is 0 on cameras)
        return any(16 <= (payload[i] >> 1) & 0x3F <= 21 for i in _units(payload, 2, 2))
    if kind == 49:
        return len(payload) > 2 and 16 <= payload[2] & 0x3F <= 21
    return False


KeyframeTest = Callable[[bytes], bool]
KEYFRAME_TESTS: dict[str, KeyframeTest] = {"H264": h264_keyframe, "H265": h265_keyframe}


class RtspConn(textconn.Conn):
    """An RTSP connection that also carries interleaved ``$`` frames (RFC 2326 §10.12)."""

    def pop_frame(self) -> tuple[int, bytes] | None:
        """The next complete interleaved frame (channel, data), None if none is whole yet."""
        buf = self._buf
        if len(buf) < 4 or buf[0] != 0x24:
            return None
        size = int.from_bytes(buf[2:4], "big")
        if len(buf) < 4 + size:
            return None
        frame = (buf[1], bytes(buf[4:4 + size]))
        del buf[:4 + size]
        return frame

    def starts_with_frame(self) -> bool:
        """Whether the buffer begins with an interleaved frame (whole or not)."""
        return bool(self._buf) and self._buf[0] == 0x24

    async def more(self, what: str) -> None:
        """Wait for more bytes (ProtocolError once the camera closed the connection)."""
        await self._more(what)

    async def reply(self) -> tuple[Head, bytes]:
        """The next RTSP reply and its body, skipping interleaved frames before it."""
        while True:
            while not self._buf or (self.starts_with_frame() and self.pop_frame() is None):
                await self._more("RTSP reply")
            if not self.starts_with_frame():
                break
        head = await self.read_head("RTSP")
        length = head.content_length()
        if length and length > BODY_LIMIT:
            raise ProtocolError(f"reply body of {length} bytes is over {BODY_LIMIT}")
        body = await self.read_body(length, length) if length else b""
        return head, body

    def pending_text(self) -> bytes:
        """What waits in the buffer, for a detail when it is neither frame nor reply."""
        return bytes(self._buf[:40])


@dataclass(slots=True)
class Sample:
    """What the sample saw of the video channel."""

    packets: int = 0
    size: int = 0
    first: float | None = None  # seconds after PLAY's answer
    keyframe: bool = False
    highest: int | None = None  # the latest RTP timestamp so far (serial-number order)
    advanced_at: float | None = None  # seconds after PLAY's answer of the last advance
    closed: bool = False

    def add(self, packet: bytes, at: float, keyframe_test: KeyframeTest | None) -> None:
        """Count one packet of the video channel that arrived ``at`` seconds after PLAY."""
        parsed = rtp_timestamp_payload(packet)
        if parsed is None:
            return
        stamp, payload = parsed
        self.packets += 1
        self.size += len(packet)
        if self.first is None:
            self.first = at
        if keyframe_test is not None and not self.keyframe and keyframe_test(payload):
            self.keyframe = True
        if self.highest is None:
            self.highest = stamp
        elif 0 < (stamp - self.highest) % 2**32 < 2**31:
            self.highest, self.advanced_at = stamp, at


class _Session:
    """One check's requests: CSeq, Session and Authorization on each, 401 answered once."""

    def __init__(self, conn: RtspConn, target: Target, params: Params) -> None:
        self.conn = conn
        self.target = target
        self.params = params
        self.cseq = 0
        self.session = ""
        self.auth: rtspauth.Authenticator | None = None

    def send(self, method: str, uri: str, extra: tuple[tuple[str, str], ...]) -> None:
        self.cseq += 1
        headers = [("CSeq", str(self.cseq)), ("User-Agent", USER_AGENT), *extra]
        if self.session:
            headers.append(("Session", self.session))
        if self.auth is not None:
            headers.append(("Authorization", self.auth.authorization(method, uri)))
        self.conn.send(request(method, uri, "RTSP/1.0", headers))

    async def ask(self, method: str, uri: str, what: str,
                  *extra: tuple[str, str]) -> tuple[Head, bytes]:
        """Send a request, answer a first challenge with the credentials; 2xx or ``Failed``."""
        timeout = self.target.timeout
        self.send(method, uri, extra)
        head, body = await textconn.step(self.conn.reply(), timeout, what)
        if head.status == 401 and self.auth is None and self.params.credentials is not None:
            challenges = rtspauth.parse_challenges(head.get("www-authenticate"))
            chosen = rtspauth.choose(challenges)
            if chosen is None:
                offered = rtspauth.offered(challenges)
                raise textconn.Failed(Reason.AUTH, f"{what}: the camera asks for {offered}, "
                                                   "which netwatch cannot answer")
            self.auth = rtspauth.Authenticator(self.params.credentials, chosen)
            self.send(method, uri, extra)
            head, body = await textconn.step(self.conn.reply(), timeout, what)
        if head.status in AUTH_STATUSES:
            why = (f"credentials refused ({self.auth.scheme})" if self.auth is not None
                   else "needs credentials and the check has none")
            raise textconn.Failed(Reason.AUTH, f"{what}: {_status(head)}: {why}")
        if not 200 <= head.status < 300:
            raise textconn.Failed(Reason.BAD_STATUS, f"{what}: {_status(head)}")
        return head, body


def _status(head: Head) -> str:
    return f"{head.status} {head.phrase}".rstrip()


def _url(target: Target, path: str) -> str:
    host = f"[{target.address}]" if ":" in target.address else target.address
    return f"rtsp://{host}:{target.port}{path}"


def _checked_url(url: str, what: str) -> str:
    if not is_safe_text(url) or len(url) > 2048:
        raise textconn.Failed(Reason.PROTOCOL, f"{what}: unusable control URL "
                                               f"{excerpt(url.encode('latin-1', 'replace'))}")
    return url


async def probe(target: Target, params: Params, ctx: ProbeContext) -> ProbeResult:
    """DESCRIBE, SETUP (RTP over the RTSP connection), PLAY, sample, TEARDOWN."""
    loop = asyncio.get_running_loop()
    conn = RtspConn(CONN_CAP)
    try:
        await textconn.connect(target, conn=conn)
    except textconn.Failed as failed:
        return failed.result()
    s = _Session(conn, target, params)
    try:
        url = _url(target, params.path)
        head, body = await s.ask("DESCRIBE", url, f"DESCRIBE {params.path}",
                                 ("Accept", "application/sdp"))
        session_control, track = video_track(body.decode("utf-8", "replace"))
        if track is None:
            raise textconn.Failed(Reason.PROTOCOL, f"DESCRIBE {params.path}: the session "
                                                   "description has no video track")
        base = head.get("content-base") or head.get("content-location") or url
        setup_url = _checked_url(resolve(base, track.control), "SETUP")
        play_url = _checked_url(resolve(base, session_control), "PLAY")
        head, _ = await s.ask("SETUP", setup_url, "SETUP",
                              ("Transport", "RTP/AVP/TCP;unicast;interleaved=0-1"))
        session = head.get("session").split(";")[0].strip()
        if not session or len(session) > SESSION_LIMIT or not is_safe_text(session):
            raise textconn.Failed(Reason.PROTOCOL, "SETUP: answer without a usable Session")
        transport = head.get("transport")
        channel = _INTERLEAVED.search(transport)
        if "TCP" not in transport.upper() or channel is None:
            raise textconn.Failed(Reason.PROTOCOL, "SETUP: the camera did not accept RTP over "
                                  f"the RTSP connection (Transport {excerpt(transport.encode())})")
        s.session = session
        await s.ask("PLAY", play_url, "PLAY", ("Range", "npt=0.000-"))
        sample = await _sample(conn, loop.time(), params.sample, int(channel.group(1)),
                               KEYFRAME_TESTS.get(track.codec))
        await _teardown(s, play_url)
    except textconn.Failed as failed:
        return failed.result()
    finally:
        conn.close()
    return _result(sample, params, track.codec, s.auth)


async def _sample(conn: RtspConn, started: float, length: float, channel: int,
                  keyframe_test: KeyframeTest | None) -> Sample:
    """Read interleaved frames for ``length`` seconds after ``started`` (PLAY's answer)."""
    loop = asyncio.get_running_loop()
    sample = Sample()
    end = started + length
    while True:
        frame = conn.pop_frame()
        while frame is not None:
            if frame[0] == channel:
                sample.add(frame[1], loop.time() - started, keyframe_test)
            frame = conn.pop_frame()
        remaining = end - loop.time()
        if remaining <= 0:
            return sample
        pending = conn.pending_text()
        if pending and pending[0] != 0x24:
            if pending.startswith(b"RTSP/"):  # a late reply (e.g. to a keep-alive): skip it
                await textconn.step(conn.reply(), remaining, "PLAY")
                continue
            raise textconn.Failed(Reason.PROTOCOL, f"PLAY: neither an interleaved frame nor "
                                                   f"an RTSP reply: {excerpt(pending)}")
        try:
            await within(conn.more("interleaved frame"), remaining)
        except DeadlinePassed:
            return sample
        except ProtocolError:  # the camera hung up: the facts so far stand
            sample.closed = True
            return sample


async def _teardown(s: _Session, url: str) -> None:
    """End the session politely; its answer (or none) changes no fact."""
    try:
        s.send("TEARDOWN", url, ())
        await within(s.conn.reply(), s.target.timeout)
    except (DeadlinePassed, ProtocolError, OSError):
        pass


def _result(sample: Sample, params: Params, codec: str,
            auth: rtspauth.Authenticator | None) -> ProbeResult:
    measured: dict[str, float] = {
        Measurement.VIDEO_PACKETS: sample.packets,
        Measurement.VIDEO_BYTES_PER_SECOND: sample.size / params.sample,
        Measurement.TIMESTAMPS_ADVANCING: float(
            sample.advanced_at is not None and sample.advanced_at >= params.sample / 2),
    }
    if sample.first is not None:
        measured[Measurement.FIRST_PACKET_SECONDS] = sample.first
    if codec in KEYFRAME_TESTS:
        measured[Measurement.KEYFRAME] = float(sample.keyframe)
    what = codec or "unnamed codec"
    if sample.packets:
        notes = [f"{what} video: {sample.packets} RTP packets, "
                 f"{sample.size / params.sample / 1000:.1f} kB/s in {params.sample:g} s"]
        if codec in KEYFRAME_TESTS:
            notes.append("keyframe seen" if sample.keyframe else "no keyframe")
        notes.append("timestamps advancing" if measured[Measurement.TIMESTAMPS_ADVANCING]
                     else "timestamps stopped advancing")
    else:
        notes = [f"PLAY answered but no {what} video packet within {params.sample:g} s"]
    if sample.closed:
        notes.append("the camera closed the connection during the sample")
    if auth is not None:
        notes.append(f"credentials accepted ({auth.scheme})")
    return ProbeResult.ok("; ".join(notes), **measured)

