"""Benchmark of the service probes (tcp, http, rtsp, sip): checks per second and CPU per check.

Starts a helper process that plays N devices on 127.230.0.0/16 (HTTP on 18080,
RTSP on 18554, SIP over UDP on 15060; lean asyncio protocols on uvloop), then
runs N checks of each probe at the given concurrency, once on the default
asyncio loop and once on uvloop, and prints a table. CPU is this process's
only (the helper runs on the other core), so it is the probes' own cost.

    python bench/bench_services.py [--devices 2000] [--concurrency 200]

Traffic goes to 127.230.x.y only; the helper exits by itself after --lifetime
seconds and is stopped by PID when the benchmark ends.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import uvloop
from figures import result

from probes import http, rtsp, sip, tcp
from probes.base import ProbeContext, Target

HTTP_PORT, RTSP_PORT, SIP_PORT = 18080, 18554, 15060
MAX_DEVICES = 250 * 250
HTTP_REPLY = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
RTSP_REPLIES = {
    b"OPTIONS": b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY\r\n\r\n",
    b"DESCRIBE": b"RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\n"
    b'WWW-Authenticate: Basic realm="cam"\r\n\r\n',
}
SIP_ECHO = (b"via:", b"from:", b"to:", b"call-id:", b"cseq:")


def addresses(count: int) -> Iterator[str]:
    """The benchmark's device addresses: 127.230.0.1 upwards, 250 per /24."""
    for i in range(count):
        yield f"127.230.{i // 250}.{i % 250 + 1}"


class HttpDevice(asyncio.Protocol):
    """Answers one request with 200 and closes."""

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if b"\r\n\r\n" in self.buf:
            self.transport.write(HTTP_REPLY)
            self.transport.close()


class RtspDevice(asyncio.Protocol):
    """Answers OPTIONS with 200 and DESCRIBE with 401 (a protected camera)."""

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while b"\r\n\r\n" in self.buf:
            head, self.buf = self.buf.split(b"\r\n\r\n", 1)
            self.transport.write(RTSP_REPLIES.get(head.split(b" ", 1)[0], RTSP_REPLIES[b"OPTIONS"]))


class SipDevice(asyncio.DatagramProtocol):
    """Answers every OPTIONS datagram with 200, echoing the dialog headers."""

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        lines = [line for line in data.split(b"\r\n") if line.lower().startswith(SIP_ECHO)]
        reply = b"SIP/2.0 200 OK\r\n" + b"\r\n".join(lines) + b"\r\nContent-Length: 0\r\n\r\n"
        self.transport.sendto(reply, addr)


async def serve(count: int, lifetime: float) -> None:
    """Bind every device's listeners, say ready, and serve until the lifetime ends."""
    loop = asyncio.get_running_loop()
    servers = []
    for address in addresses(count):
        servers.append(await loop.create_server(HttpDevice, address, HTTP_PORT, backlog=512))
        servers.append(await loop.create_server(RtspDevice, address, RTSP_PORT, backlog=512))
        await loop.create_datagram_endpoint(SipDevice, local_addr=(address, SIP_PORT))
    print("ready", flush=True)
    await asyncio.sleep(lifetime)


CHECKS: dict[str, tuple[ModuleType, int, dict[str, Any]]] = {
    "tcp": (tcp, HTTP_PORT, {}),
    "http": (http, HTTP_PORT, {}),
    "rtsp": (rtsp, RTSP_PORT, {}),
    "sip": (sip, SIP_PORT, {}),
}


async def run_checks(name: str, count: int, concurrency: int) -> tuple[float, float, int]:
    """Run ``count`` checks of one probe; wall seconds, CPU seconds, failures."""
    module, port, raw = CHECKS[name]
    params = module.parse_params(raw)
    targets = [Target(f"d{i}", a, port, 2.0) for i, a in enumerate(addresses(count))]
    ctx = ProbeContext()
    failures: list[str] = []
    queue = iter(targets)

    async def worker() -> None:
        for target in queue:
            result = await module.probe(target, params, ctx)
            if not result.success:
                failures.append(result.detail)

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await ctx.aclose()
    if failures:
        print(f"  {name}: {len(failures)} failed, e.g. {failures[0]}", file=sys.stderr)
    return wall, cpu, len(failures)


def bench(loop_factory: Callable[[], asyncio.AbstractEventLoop], count: int, conc: int) -> dict:
    """All probes on one kind of event loop, after a short warm-up."""
    results = {}
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        for name in CHECKS:
            runner.run(run_checks(name, min(count, 200), conc))
            results[name] = runner.run(run_checks(name, count, conc))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--lifetime", type=float, default=300.0, help="helper's maximum seconds")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not 1 <= args.devices <= MAX_DEVICES:
        parser.error(f"--devices must be 1..{MAX_DEVICES}")
    if args.serve:
        uvloop.run(serve(args.devices, args.lifetime))
        return
    helper = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--devices", str(args.devices)]
        + ["--lifetime", str(args.lifetime)],
        stdout=subprocess.PIPE,
    )
    try:
        assert helper.stdout is not None
        if helper.stdout.readline().strip() != b"ready":
            raise SystemExit("device helper failed to start")
        table = {
            "asyncio": bench(asyncio.new_event_loop, args.devices, args.concurrency),
            "uvloop": bench(uvloop.new_event_loop, args.devices, args.concurrency),
        }
    finally:
        helper.terminate()
        helper.wait(timeout=10)
    print(f"{args.devices} devices, concurrency {args.concurrency}")
    print(
        f"{'probe':6} {'loop':8} {'checks/s':>9} {'CPU ms/check':>13} {'wall s':>7} {'failed':>6}"
    )
    for name in CHECKS:
        for loop_name, results in table.items():
            wall, cpu, failed = results[name]
            rate = args.devices / wall
            per = cpu / args.devices * 1000
            print(f"{name:6} {loop_name:8} {rate:9.0f} {per:13.3f} {wall:7.2f} {failed:6}")
    for name in CHECKS:  # the helper is healthy: a failed check makes the row meaningless
        for loop_name, results in table.items():
            wall, cpu, failed = results[name]
            result("services", f"{name}-{loop_name}", "FAIL" if failed else None,
                   checks_per_s=args.devices / wall, cpu_ms_per_check=cpu / args.devices * 1000,
                   failed=failed)


if __name__ == "__main__":
    main()
