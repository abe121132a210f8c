"""ipycam's own ONVIF device service, alone, on one loopback address (a peer for tests).

``IPCamera.start()`` would bind 0.0.0.0 and multicast WS-Discovery, so this serves
only ipycam's HTTP handler (``IPCameraHTTPHandler``, whose POSTs under ``/onvif/``
go to its ``ONVIFService``) on ``--address`` with a free port, and prints
``ready PORT``. ``--username`` turns on ipycam's WS-UsernameToken check, with the
password from the environment variable ``IPYCAM_PASSWORD``. Run it under
libfaketime to give the camera a clock of its own.
"""

from __future__ import annotations

import argparse
import os
import sys
from http.server import ThreadingHTTPServer

from ipycam import CameraConfig, IPCameraHTTPHandler, ONVIFService


class Camera:
    """What the handler reads of an ``IPCamera`` for ONVIF: its config and service."""

    def __init__(self, config: CameraConfig) -> None:
        self.config = config
        self.onvif = ONVIFService(config)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", required=True)
    parser.add_argument("--username", default="")
    args = parser.parse_args()
    password = os.environ.get("IPYCAM_PASSWORD", "") if args.username else ""
    # local_ip given, so the config does not look for a route to guess it
    config = CameraConfig(local_ip=args.address, onvif_port=0, username=args.username,
                          password=password)
    IPCameraHTTPHandler.camera = Camera(config)  # type: ignore[assignment]
    server = ThreadingHTTPServer((args.address, 0), IPCameraHTTPHandler)
    print(f"ready {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    sys.exit(main())
