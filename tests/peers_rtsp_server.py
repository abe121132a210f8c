"""A real RTSP server for tests: GStreamer's gst-rtsp-server serving a test pattern.

Run with the Debian Python (``/usr/bin/python3``), which has the GObject bindings:
``/usr/bin/python3 tests/peers_rtsp_server.py --address 127.103.3.1 [--port 0] [--auth]``.
It serves ``/stream`` (MJPEG over RTP, from ``videotestsrc``), prints
``ready PORT`` once listening, and runs until terminated. With ``--auth`` every
media path needs HTTP Basic credentials (user ``viewer``), so an unauthenticated
DESCRIBE gets 401 while OPTIONS still answers.
"""

from __future__ import annotations

import argparse
import signal

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

LAUNCH = "( videotestsrc is-live=true ! jpegenc ! rtpjpegpay name=pay0 pt=26 )"


def main() -> None:
    """Serve until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--address", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--auth", action="store_true", help="require Basic credentials")
    args = parser.parse_args()
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address(args.address)
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(LAUNCH)
    factory.set_shared(True)
    if args.auth:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", "viewer")
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic("viewer", "test-only"), token)
        server.set_auth(auth)
        factory.add_role_from_structure(
            Gst.Structure.new_from_string(
                "viewer, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"
            )
        )
    server.get_mount_points().add_factory("/stream", factory)
    server.attach(None)
    loop = GLib.MainLoop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, loop.quit)
    print(f"ready {server.get_bound_port()}", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
