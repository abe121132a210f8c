"""Synthetic H.264 over RTP for lab cameras: small NAL units, interleaved on the RTSP connection.

Nothing here encodes a picture: a frame is one tiny NAL unit whose type is what the
``video`` probe looks at (an IDR slice, type 5, every ``KEYFRAME_EVERY`` frames, sent
as an STAP-A with SPS and PPS as cameras do; a non-IDR slice, type 1, otherwise).
RTP timestamps advance by 90 kHz / ``FPS`` per frame. ``VideoMode`` says how a
camera misbehaves: sends nothing after PLAY, repeats one timestamp, or stops.
"""

from __future__ import annotations

import asyncio
import os
import struct

FPS = 10  # frames per second: enough to see, cheap for thousands of lab cameras
KEYFRAME_EVERY = 10  # frames between IDRs (one a second)
CLOCK = 90_000  # the H.264 RTP clock rate
PAYLOAD_TYPE = 96
STOPS_AFTER = 0.2  # seconds of video a stopping camera sends after PLAY (a short sample sees it)
SDP_VIDEO = "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:trackID=0\r\n"
_SPS = bytes([0x67, 0x42, 0xC0, 0x1E, 0xDA, 0x02, 0x80, 0xBF, 0xE5, 0x84])
_PPS = bytes([0x68, 0xCE, 0x3C, 0x80])


class VideoMode:
    """How a lab camera's video behaves after PLAY (string constants)."""

    FLOWING = "flowing"  # frames at FPS, an IDR every KEYFRAME_EVERY
    NONE = "none"  # PLAY answered, nothing sent (no_video)
    FROZEN = "frozen"  # frames keep coming with one repeated timestamp (video_frozen)
    STOPS = "stops"  # STOPS_AFTER seconds of video, then nothing


def frame_payload(index: int) -> bytes:
    """The RTP payload of frame ``index``: an STAP-A with SPS, PPS and IDR, or a P slice."""
    if index % KEYFRAME_EVERY == 0:
        idr = bytes([0x65, 0x88, 0x84, 0x00, 0x33])
        units = (_SPS, _PPS, idr)
        return bytes([0x18]) + b"".join(struct.pack("!H", len(u)) + u for u in units)
    return bytes([0x41, 0x9A, 0x02, index & 0xFF])


def interleaved(channel: int, seq: int, stamp: int, ssrc: int, payload: bytes) -> bytes:
    """One RTP packet (marker set: one packet per frame) in its ``$`` frame."""
    packet = struct.pack("!BBHII", 0x80, 0x80 | PAYLOAD_TYPE, seq & 0xFFFF,
                         stamp & 0xFFFFFFFF, ssrc) + payload
    return b"$" + bytes([channel]) + struct.pack("!H", len(packet)) + packet


async def stream(transport: asyncio.Transport, channel: int, mode: str) -> None:
    """Send frames on ``transport`` until it closes or the task is cancelled."""
    if mode == VideoMode.NONE:
        return
    loop = asyncio.get_running_loop()
    ssrc = int.from_bytes(os.urandom(4), "big")
    start_stamp = int.from_bytes(os.urandom(4), "big")
    started = loop.time()
    index = 0
    while not transport.is_closing():
        if mode == VideoMode.STOPS and loop.time() - started >= STOPS_AFTER:
            return
        stamp = start_stamp if mode == VideoMode.FROZEN else start_stamp + index * CLOCK // FPS
        transport.write(interleaved(channel, index, stamp, ssrc, frame_payload(index)))
        index += 1
        await asyncio.sleep(max(0.0, started + index / FPS - loop.time()))
