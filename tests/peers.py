"""Real peer servers for tests, launched on a test's own loopback address.

Context managers, not fixtures: a test module wraps them in its own fixtures.
Debian servers (nginx, kamailio, GStreamer's RTSP server) run from their
binaries with a config written to a temporary directory, are polled for
readiness with a bounded deadline, and are stopped by PID when the block ends;
``pytest.skip`` says what is missing when a binary is absent. The raw asyncio
servers play misbehaving peers (garbage, truncated, slow) for edge cases.
"""

from __future__ import annotations

import asyncio
import os
import selectors
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import pytest

NGINX = "/usr/sbin/nginx"
KAMAILIO = "/usr/sbin/kamailio"
DEBIAN_PYTHON = "/usr/bin/python3"
RTSP_SCRIPT = Path(__file__).with_name("peers_rtsp_server.py")
READY_SECONDS = 15.0  # the longest any peer may take to come up

NGINX_LOCATIONS = """
    location = / { return 200 "ok\\n"; }
    location = /private { return 401; }
    location = /forbidden { return 403; }
    location = /moved { return 301 /; }
    location = /broken { return 503; }
    location / { return 404; }
"""


def require(path: str, what: str) -> None:
    """Skip the test when a Debian binary it needs is not installed."""
    if not os.access(path, os.X_OK):
        pytest.skip(f"{what} not installed ({path} missing)")


def free_port(address: str, udp: bool = False) -> int:
    """A port free on ``address`` for TCP (and UDP too when asked), for servers needing one."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind((address, 0))
            port = tcp.getsockname()[1]
            if not udp:
                return int(port)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as dgram:
                try:
                    dgram.bind((address, port))
                except OSError:
                    continue
                return int(port)
    raise RuntimeError(f"no free port on {address}")


def wait_until(ready: Callable[[], bool], what: str, seconds: float = READY_SECONDS) -> None:
    """Poll ``ready`` until it holds; fail the test naming ``what`` after ``seconds``."""
    end = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > end:
            raise TimeoutError(f"{what} not ready within {seconds:g} s")
        time.sleep(0.02)


def accepts(address: str, port: int) -> bool:
    """Whether something listens on ``address:port`` (TCP)."""
    try:
        with socket.create_connection((address, port), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def process(argv: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server process with output to ``log``; stop it by PID on exit."""
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate the process we started, killing it if it lingers."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _ready_or_died(proc: subprocess.Popen[bytes], log: Path, check: Callable[[], bool]) -> bool:
    if proc.poll() is not None:
        raise RuntimeError(
            f"{proc.args[0]} exited with {proc.returncode}: {log.read_text()[-800:]}"
        )
    return check()


@contextmanager
def nginx(tmp: Path, address: str, locations: str = NGINX_LOCATIONS) -> Iterator[int]:
    """nginx answering on ``address``: 200 at /, 401 /private, 403 /forbidden, 404 elsewhere."""
    require(NGINX, "nginx (Debian nginx-light)")
    port = free_port(address)
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"""worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  server {{
    listen {address}:{port};
{locations}
  }}
}}
"""
    )
    argv = [NGINX, "-c", str(conf), "-p", str(tmp), "-e", f"{tmp}/error.log", "-g", "daemon off;"]
    with process(argv, tmp / "nginx.out") as proc:
        wait_until(
            lambda: _ready_or_died(proc, tmp / "error.log", lambda: accepts(address, port)), "nginx"
        )
        yield port


KAMAILIO_CFG = """#!KAMAILIO
debug=1
log_stderror=yes
children=1
tcp_children=1
mpath="{mpath}"
loadmodule "sl.so"
request_route {{
    if (method=="OPTIONS") {{ sl_send_reply("200", "OK"); exit; }}
    sl_send_reply("404", "Not here");
}}
"""


def _kamailio_modules() -> str:
    for path in Path("/usr/lib").glob("*/kamailio/modules/sl.so"):
        return str(path.parent)
    pytest.skip("kamailio's sl.so module not found under /usr/lib/*/kamailio/modules")


@contextmanager
def kamailio(tmp: Path, address: str) -> Iterator[int]:
    """kamailio answering SIP OPTIONS with 200 on ``address``, UDP and TCP on one port."""
    require(KAMAILIO, "kamailio")
    port = free_port(address, udp=True)
    cfg = tmp / "kamailio.cfg"
    cfg.write_text(KAMAILIO_CFG.format(mpath=_kamailio_modules()))
    argv = [KAMAILIO, "-DD", "-E", "-f", str(cfg), "-P", str(tmp / "kamailio.pid")]
    argv += ["-Y", str(tmp), "-l", f"udp:{address}:{port}", "-l", f"tcp:{address}:{port}"]
    with process(argv, tmp / "kamailio.log") as proc:
        wait_until(
            lambda: _ready_or_died(proc, tmp / "kamailio.log", lambda: accepts(address, port)),
            "kamailio",
        )
        yield port


@contextmanager
def rtsp_server(tmp: Path, address: str, auth: bool = False, digest: bool = False
                ) -> Iterator[int]:
    """GStreamer's RTSP server on ``address`` serving /stream (MJPEG), /live, /silent and
    /stops (H.264); ``auth`` demands Basic credentials, ``digest`` Digest ones."""
    require(DEBIAN_PYTHON, "Debian python3 (for python3-gst-1.0)")
    probe = subprocess.run(
        [DEBIAN_PYTHON, "-c", "import gi; gi.require_version('GstRtspServer', '1.0')"],
        capture_output=True,
        check=False,
    )
    if probe.returncode:
        pytest.skip("GStreamer RTSP server bindings missing (gir1.2-gst-rtsp-server-1.0)")
    argv = [DEBIAN_PYTHON, str(RTSP_SCRIPT), "--address", address]
    argv += (["--auth"] if auth else []) + (["--digest"] if digest else [])
    with (tmp / "rtsp.log").open("wb") as log:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log)
    try:
        yield _ready_port(proc, tmp / "rtsp.log")
    finally:
        stop(proc)
        assert proc.stdout is not None
        proc.stdout.close()


def _ready_port(proc: subprocess.Popen[bytes], log: Path) -> int:
    """Read the server's ``ready PORT`` line within the readiness deadline."""
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(READY_SECONDS):
            raise TimeoutError(f"RTSP server not ready within {READY_SECONDS:g} s")
    line = proc.stdout.readline().decode()
    if not line.startswith("ready "):
        raise RuntimeError(f"RTSP server failed: {line!r} {log.read_text()[-800:]}")
    return int(line.split()[1])


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def tcp_server(address: str, handler: Handler) -> AsyncIterator[int]:
    """A raw asyncio TCP server on ``address`` running ``handler`` per connection."""

    tasks: set[asyncio.Task[None]] = set()
    writers: set[asyncio.StreamWriter] = set()

    async def guarded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        writers.add(writer)
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            writers.discard(writer)

    server = await asyncio.start_server(guarded, address, 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in list(writers):  # hang up, so handlers end on EOF or a failed write
            writer.close()
        pending = [task for task in tasks if not task.done()]
        if pending:
            _, stuck = await asyncio.wait(pending, timeout=2)
            for task in stuck:
                task.cancel()
            await asyncio.gather(*stuck, return_exceptions=True)
        await server.wait_closed()


def reply_with(data: bytes, then_wait: bool = False) -> Handler:
    """A handler that reads a request head, sends ``data``, then closes (or holds the line)."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(data)
        await writer.drain()
        if then_wait:
            await reader.read()

    return handler


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, answer: Callable[[bytes], list[bytes]]) -> None:
        self.answer = answer
        self.transport: asyncio.DatagramTransport | None = None
        self.received: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received.append(data)
        assert self.transport is not None
        for reply in self.answer(data):
            self.transport.sendto(reply, addr)


@asynccontextmanager
async def udp_server(
    address: str, answer: Callable[[bytes], list[bytes]]
) -> AsyncIterator[tuple[int, list[bytes]]]:
    """A raw UDP server on ``address``; ``answer`` maps each datagram to the replies to send."""
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(
        lambda: _Datagrams(answer), local_addr=(address, 0)
    )
    try:
        yield transport.get_extra_info("sockname")[1], proto.received
    finally:
        transport.close()
