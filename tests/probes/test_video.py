"""The video probe against GStreamer's RTSP server (real H.264) and raw fakes (127.78.2.0/24)."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from probes import video
from probes.base import ParamError, ProbeContext, ProbeResult, Reason, Target
from tests.peers import rtsp_server, tcp_server

PEER_ADDRESS = "127.78.2.1"
RAW_ADDRESS = "127.78.2.2"


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """GStreamer's RTSP server: /live plays, /silent never sends, /stops stops after 1 s."""
    with rtsp_server(tmp_path_factory.mktemp("rtsp-video"), PEER_ADDRESS) as port:
        yield port


async def check(address: str, port: int, wait: float = 3.0, **raw: Any) -> ProbeResult:
    """Run one video check with inventory-style settings."""
    target = Target("cam", address, port, wait)
    return await video.probe(target, video.parse_params(raw), ProbeContext())


@pytest.mark.peer
async def test_live_h264(port: int) -> None:
    """Real H.264: packets, a keyframe, advancing timestamps, a first packet time."""
    result = await check(PEER_ADDRESS, port, path="/live")
    assert result.success and result.reason is Reason.OK, result
    m = result.measurements
    assert m["video_packets"] > 0 and m["video_bytes_per_second"] > 0
    assert (m["keyframe"], m["timestamps_advancing"]) == (1.0, 1.0)
    assert 0 <= m["first_packet_seconds"] < 2.0
    assert "H264 video" in result.detail


@pytest.mark.peer
async def test_silent_stream_is_a_success_without_packets(port: int) -> None:
    """DESCRIBE, SETUP and PLAY answered, nothing sent: success, 0 packets, no first packet."""
    result = await check(PEER_ADDRESS, port, path="/silent", sample="1s")
    assert result.success, result
    m = result.measurements
    assert (m["video_packets"], m["video_bytes_per_second"]) == (0, 0.0)
    assert (m["keyframe"], m["timestamps_advancing"]) == (0.0, 0.0)
    assert "first_packet_seconds" not in m
    assert "no H264 video packet" in result.detail


@pytest.mark.peer
async def test_stream_that_stops(port: int) -> None:
    """Video for 1 s of a 3 s sample: packets came, but timestamps stopped before half-time."""
    result = await check(PEER_ADDRESS, port, path="/stops", sample="3s")
    assert result.success, result
    m = result.measurements
    assert m["video_packets"] > 0 and m["keyframe"] == 1.0
    assert m["timestamps_advancing"] == 0.0
    assert "timestamps stopped advancing" in result.detail


@pytest.mark.peer
async def test_mjpeg_has_no_keyframe_fact(port: int) -> None:
    """A codec that is neither H.264 nor H.265: packets counted, keyframe not claimed."""
    result = await check(PEER_ADDRESS, port, path="/stream", sample="500ms")
    assert result.success and result.measurements["video_packets"] > 0
    assert "keyframe" not in result.measurements


@pytest.mark.peer
async def test_unknown_path_is_bad_status(port: int) -> None:
    result = await check(PEER_ADDRESS, port, path="/nope")
    assert (result.success, result.reason) == (False, Reason.BAD_STATUS)
    assert "DESCRIBE /nope: 404" in result.detail


# --- raw fakes -----------------------------------------------------------------------

SDP_H264 = (b"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\na=control:*\r\n"
            b"m=audio 0 RTP/AVP 0\r\na=control:track=audio\r\n"
            b"m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:track=video\r\n")
SDP_H265 = SDP_H264.replace(b"H264", b"H265")


def rtp(stamp: int, payload: bytes, seq: int = 0, channel: int = 0) -> bytes:
    """An interleaved frame holding one RTP packet (version 2, PT 96)."""
    packet = struct.pack("!BBHII", 0x80, 96, seq & 0xFFFF, stamp & 0xFFFFFFFF, 1) + payload
    return b"$" + bytes([channel]) + struct.pack("!H", len(packet)) + packet


def camera(sdp: bytes = SDP_H264, frames: Sequence[bytes] = (), *,
           setup: bytes = b"200 OK", transport: bytes = b"RTP/AVP/TCP;unicast;interleaved=0-1",
           play: bytes = b"200 OK", tail: bytes = b"", seen: list[bytes] | None = None,
           after_play: Any = None) -> Any:
    """A fake camera: DESCRIBE, SETUP and PLAY answered as told, then ``frames``, ``tail``
    (and whatever ``after_play(writer)`` sends)."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            if seen is not None:
                seen.append(head)
            method = head.split(b" ", 1)[0]
            if method == b"DESCRIBE":
                writer.write(b"RTSP/1.0 200 OK\r\nContent-Base: rtsp://127.0.0.1/cam/\r\n"
                             b"Content-Type: application/sdp\r\nContent-Length: "
                             + str(len(sdp)).encode() + b"\r\n\r\n" + sdp)
            elif method == b"SETUP":
                writer.write(b"RTSP/1.0 " + setup + b"\r\nSession: abc;timeout=60\r\n"
                             b"Transport: " + transport + b"\r\n\r\n")
            elif method == b"PLAY":
                writer.write(b"RTSP/1.0 " + play + b"\r\nSession: abc\r\n\r\n")
                for frame in frames:
                    writer.write(frame)
                writer.write(tail)
                if after_play is not None:
                    await after_play(writer)
            elif method == b"TEARDOWN":
                writer.write(b"RTSP/1.0 200 OK\r\n\r\n")
            await writer.drain()

    return handler


async def fake(handler: Any, **raw: Any) -> ProbeResult:
    async with tcp_server(RAW_ADDRESS, handler) as port:
        return await check(RAW_ADDRESS, port, wait=1.0, sample=raw.pop("sample", "300ms"), **raw)


IDR_ALONE = bytes([0x65, 1, 2, 3])
NON_IDR = bytes([0x41, 1, 2, 3])
STAP_A_IDR = bytes([0x18]) + struct.pack("!H", 2) + bytes([0x67, 0]) + struct.pack("!H", 2) + \
    bytes([0x65, 0])
FU_A_IDR = bytes([0x7C, 0x85, 9, 9])  # FU indicator type 28, FU header start + type 5
FU_A_P = bytes([0x7C, 0x81, 9, 9])


@pytest.mark.parametrize(("payloads", "keyframe"), [
    ([NON_IDR, FU_A_P], 0.0), ([IDR_ALONE], 1.0), ([NON_IDR, STAP_A_IDR], 1.0), ([FU_A_IDR], 1.0),
])
async def test_h264_keyframes(payloads: list[bytes], keyframe: float) -> None:
    """IDR alone, in STAP-A, in FU-A; P slices are no keyframe. Only the video track is set up."""
    seen: list[bytes] = []
    frames = [rtp(i * 3000, p, i) for i, p in enumerate(payloads)]
    result = await fake(camera(frames=frames, seen=seen))
    assert result.success, result
    assert result.measurements["keyframe"] == keyframe
    assert result.measurements["video_packets"] == len(payloads)
    setup = next(h for h in seen if h.startswith(b"SETUP"))
    assert setup.startswith(b"SETUP rtsp://127.0.0.1/cam/track=video RTSP/1.0")
    assert b"Transport: RTP/AVP/TCP;unicast;interleaved=0-1" in setup
    play = next(h for h in seen if h.startswith(b"PLAY"))
    assert play.startswith(b"PLAY rtsp://127.0.0.1/cam/ RTSP/1.0") and b"Session: abc" in play
    assert any(h.startswith(b"TEARDOWN") for h in seen)


@pytest.mark.parametrize(("payload", "keyframe"), [
    (bytes([19 << 1, 1, 0]), 1.0),  # IDR_W_RADL
    (bytes([1 << 1, 1, 0]), 0.0),  # TRAIL_R
    (bytes([48 << 1, 1]) + struct.pack("!H", 3) + bytes([1 << 1, 1, 0])
     + struct.pack("!H", 3) + bytes([21 << 1, 1, 0]), 1.0),  # AP holding a CRA
    (bytes([49 << 1, 1, 0x80 | 16]), 1.0),  # FU starting a BLA
    (bytes([49 << 1, 1, 0x80 | 1]), 0.0),
])
async def test_h265_keyframes(payload: bytes, keyframe: float) -> None:
    result = await fake(camera(SDP_H265, [rtp(0, payload)]))
    assert result.measurements["keyframe"] == keyframe, result


async def test_frozen_timestamps_and_other_channels() -> None:
    """Packets that repeat one timestamp are counted but do not advance; RTCP is not video."""
    frames = [rtp(5000, NON_IDR, i) for i in range(5)] + [rtp(9000, NON_IDR, 9, channel=1)]
    result = await fake(camera(frames=frames))
    m = result.measurements
    assert (m["video_packets"], m["timestamps_advancing"]) == (5, 0.0)
    assert m["video_bytes_per_second"] == pytest.approx(5 * 16 / 0.3)


async def test_timestamps_advancing_late_in_the_sample_across_wraparound() -> None:
    """A later timestamp after half-time (across the 32-bit wrap) is advancing."""

    async def late(writer: asyncio.StreamWriter) -> None:
        writer.write(rtp(2**32 - 100, NON_IDR))
        await asyncio.sleep(0.7)  # the fake camera's pace, not a wait for the result
        writer.write(rtp(50, NON_IDR, 1))

    result = await fake(camera(after_play=late), sample="1s")
    assert result.measurements["timestamps_advancing"] == 1.0, result
    assert result.measurements["video_packets"] == 2


@pytest.mark.parametrize(("handler", "reason", "detail"), [
    (camera(setup=b"461 Unsupported Transport"), Reason.BAD_STATUS, "SETUP: 461"),
    (camera(transport=b"RTP/AVP;unicast;client_port=5000-5001"), Reason.PROTOCOL,
     "did not accept RTP over"),
    (camera(play=b"454 Session Not Found"), Reason.BAD_STATUS, "PLAY: 454"),
    (camera(sdp=b"v=0\r\nm=audio 0 RTP/AVP 0\r\n"), Reason.PROTOCOL, "no video track"),
    (camera(tail=b"garbage that is no frame"), Reason.PROTOCOL, "neither an interleaved"),
])
async def test_fakes(handler: Any, reason: Reason, detail: str) -> None:
    result = await fake(handler)
    assert (result.success, result.reason) == (False, reason), result
    assert detail in result.detail


async def test_oversized_and_truncated_answers() -> None:
    """A Content-Length beyond the cap, and a frame that never completes."""

    async def big(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"RTSP/1.0 200 OK\r\nContent-Length: 999999\r\n\r\n")
        await writer.drain()
        await reader.read()

    result = await fake(big)
    assert result.reason is Reason.PROTOCOL and "over 65536" in result.detail
    # a frame announcing 65535 bytes that never come: the facts stop there, no hang
    cut = camera(frames=[rtp(0, IDR_ALONE)], tail=b"$\x00\xff\xff" + b"x" * 10)
    result = await fake(cut)
    assert result.success and result.measurements["video_packets"] == 1


async def test_session_and_control_urls_from_the_wire_are_checked() -> None:
    """A Session id or control URL that would break a request head is refused."""
    sdp = SDP_H264.replace(b"track=video", b"bad\x7furl")
    result = await fake(camera(sdp=sdp))
    assert result.reason is Reason.PROTOCOL and "control URL" in result.detail


def test_params() -> None:
    """Defaults, bad or unknown settings by field, and the deadline's steps."""
    assert video.parse_params(None) == video.Params("/", 2.0, None)
    assert video.parse_params({"sample": "500ms"}).sample == 0.5
    assert video.deadline(video.Params(), 1.0) == 7.0
    with_creds = video.parse_params({"user": "u", "password": "p", "sample": 3})
    assert video.deadline(with_creds, 1.0) == 9.0
    for raw, field in [({"pth": "/"}, "pth"), ({"path": "x"}, "path"), ({"sample": "0s"}, "sample"),
                       ({"sample": "2 minutes"}, "sample"), ({"sample": "61s"}, "sample")]:
        with pytest.raises(ParamError) as err:
            video.parse_params(raw)
        assert err.value.field == field
