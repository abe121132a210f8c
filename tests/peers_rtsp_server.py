"""A real RTSP server for tests: GStreamer's gst-rtsp-server serving test patterns.

Run with the Debian Python (``/usr/bin/python3``), which has the GObject bindings:
``/usr/bin/python3 tests/peers_rtsp_server.py --address 127.103.3.1 [--port 0] [--auth]``.
It prints ``ready PORT`` once listening, and runs until terminated. Mounts:

- ``/stream``: MJPEG over RTP (``videotestsrc ! jpegenc``);
- ``/live``: H.264 (``x264enc``, a keyframe every 25 frames at 25 frames/s);
- ``/silent``: the same H.264 media, but no RTP packet ever leaves the payloader:
  DESCRIBE, SETUP and PLAY are answered, nothing is streamed;
- ``/stops``: the same, but the payloader lets through only the first
  ``STOPS_AFTER`` seconds of packets after PLAY, then nothing.

With ``--auth`` every mount needs HTTP Basic credentials (user ``viewer``, password
``test-only``), so an unauthenticated DESCRIBE gets 401 while OPTIONS still
answers; ``--digest`` is the same with Digest (MD5) and no Basic offered.
"""

from __future__ import annotations

import argparse
import signal
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

MJPEG = "( videotestsrc is-live=true ! jpegenc ! rtpjpegpay name=pay0 pt=26 )"
H264 = (
    "( videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=25/1 "
    "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25 bitrate=300 "
    "! rtph264pay name=pay0 pt=96 config-interval=1 )"
)
USER, PASSWORD = "viewer", "test-only"
STOPS_AFTER = 1.0  # seconds of packets /stops sends after PLAY


def gate(media: GstRtspServer.RTSPMedia, seconds: float | None) -> None:
    """Once prepared (prerolled for DESCRIBE), let packets reach the client for ``seconds``
    after the first one, then none (``None``: none at all).

    Packets are dropped at the sinks that feed the RTSP connection, after the server
    took the RTP-Info of its PLAY answer from them: dropped before that, PLAY would
    wait for the first packet forever.
    """
    started: list[float] = []

    def on_buffer(_pad: Gst.Pad, _info: Gst.PadProbeInfo) -> Gst.PadProbeReturn:
        if seconds is None:
            return Gst.PadProbeReturn.DROP
        if not started:
            started.append(time.monotonic())
        ok = time.monotonic() - started[0] < seconds
        return Gst.PadProbeReturn.OK if ok else Gst.PadProbeReturn.DROP

    def on_added(_bin: Gst.Bin, _sub: Gst.Bin, element: Gst.Element) -> None:
        made = element.get_factory()
        if made is not None and made.get_name() == "appsink":  # RTP (or RTCP) to TCP clients
            element.get_static_pad("sink").add_probe(
                Gst.PadProbeType.BUFFER | Gst.PadProbeType.BUFFER_LIST, on_buffer)

    # the sinks are made at SETUP, once the client asked for RTP over TCP
    media.get_element().get_parent().connect("deep-element-added", on_added)


def factory(launch: str, roles: tuple[str, ...], seconds: float | None = -1.0
            ) -> GstRtspServer.RTSPMediaFactory:
    """A media factory for ``launch``; ``seconds`` other than -1 gates its packets."""
    made = GstRtspServer.RTSPMediaFactory()
    made.set_launch(launch)
    made.set_shared(seconds == -1.0)
    if seconds != -1.0:
        made.connect("media-configure", lambda _f, media: gate(media, seconds))
    for role in roles:
        made.add_role_from_structure(Gst.Structure.new_from_string(
            f"{role}, media.factory.access=(boolean)true, "
            "media.factory.construct=(boolean)true"))
    return made


def main() -> None:
    """Serve until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--address", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--auth", action="store_true", help="require Basic credentials")
    parser.add_argument("--digest", action="store_true", help="/digest requires Digest")
    args = parser.parse_args()
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address(args.address)
    server.set_service(str(args.port))
    token = GstRtspServer.RTSPToken()
    token.set_string("media.factory.role", "viewer")
    open_roles: tuple[str, ...] = ()
    if args.auth:
        auth = GstRtspServer.RTSPAuth()
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(USER, PASSWORD), token)
        server.set_auth(auth)
        open_roles = ("viewer",)
    elif args.digest:
        auth = GstRtspServer.RTSPAuth()
        auth.add_digest(USER, PASSWORD, token)
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        server.set_auth(auth)
        open_roles = ("viewer",)
    mounts = server.get_mount_points()
    mounts.add_factory("/stream", factory(MJPEG, open_roles))
    mounts.add_factory("/live", factory(H264, open_roles))
    mounts.add_factory("/silent", factory(H264, open_roles, None))
    mounts.add_factory("/stops", factory(H264, open_roles, STOPS_AFTER))
    server.attach(None)
    loop = GLib.MainLoop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, loop.quit)
    print(f"ready {server.get_bound_port()}", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
