"""Why pysnmp 7, ping3 and aiohttp's client are off netwatch's probe path: figures side by side.

Each library runs against netwatch's own probe in the same run, on the same
loopback peers and the same event loop, and the table prints time and CPU per
operation with their ratios (library / netwatch). The whole set runs once per
loop in ``--loops``: uvloop (what ``netwatch`` runs on) and the default asyncio loop.

- SNMP v2c on 127.240.0.0/16: pysnmp 7 hlapi v3arch asyncio ``get_cmd`` (one
  shared ``SnmpEngine``, lookupMib=False, timeout 1 s, retries 0, transport
  targets built before the clock starts) vs ``probes.snmp.probe``, both asking
  the same var-binds in one GET PDU of the device lab's agents
  (``SnmpAgentPool``, in a child process so its CPU is apart). A cold first pass
  at each size with a fresh engine / ``ProbeContext``, then a steady pass.
  pysnmp's passes on one loop share a time budget (``--pysnmp-budget``); a pass it
  cuts is marked and its figures are per GET done. Its cold pass can grow with the
  square of the agents: on a response, ``rfc2576._com2sec`` rebuilds its
  transport-to-tag map by walking every target row whenever a target was added
  since the last rebuild, so how much depends on how adds and replies interleave
  (the table shows it per loop). Also the message codec alone: pysnmp's pyasn1
  encode of the request + decode of the reply vs ``probes.snmp.codec``.
- ICMP on 127.241.0.0/16: ``ping3.ping(addr, timeout=1)`` in a 64-thread pool via
  ``run_in_executor``, 1 echo each, vs ``probes.icmp.probe_batch`` (count 1).
- HTTP on 127.242.x.y:8080: aiohttp ``ClientSession`` GET with a new connection
  per target (``force_close``) vs ``probes.http.probe``, against tiny asyncio
  listeners in a child process.

Usage: python bench/bench_libraries.py [--snmp-sizes 250,500] [--icmp 2000] [--http 1000]
Needs the ``bench`` extra (pysnmp, ping3); root for raw ICMP (else datagram ICMP).
Children exit by themselves after ``--lifetime`` s and are killed by PID at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import uvloop
from figures import result

from probes import http, icmp, snmp
from probes.base import ProbeContext, Target
from probes.snmp import codec as c

try:
    import ping3
    from pyasn1.codec.ber import decoder, encoder
    from pysnmp.hlapi.v3arch import asyncio as hlapi
    from pysnmp.proto import api as snmp_api
except ImportError as exc:  # the bench extra is not installed
    sys.exit(f"bench_libraries: {exc.name} is missing: pip install -e '.[bench]'")

SNMP_PORT, HTTP_PORT = 16161, 8080
COMMUNITY = "bench-libraries"
IF_INDEX = 1
OIDS: tuple[c.OID, ...] = (snmp.SYS_UPTIME, snmp.SYS_DESCR) + tuple(
    column + (IF_INDEX,) for _, column in snmp.UPLINK_COLUMNS
)  # exactly the var-binds of netwatch's GET for an uplink at ifIndex 1
HTTP_REPLY = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
TICK = os.sysconf("SC_CLK_TCK")


def addresses(second: int, n: int) -> list[str]:
    """n distinct addresses 127.<second>.x.y, 250 per /24."""
    if not 1 <= n <= 62500:
        raise SystemExit(f"bench_libraries: {n} targets do not fit in 127.{second}.0.0/16")
    return [f"127.{second}.{i // 250}.{i % 250 + 1}" for i in range(n)]


def cpu_of(pid: int) -> float:
    """CPU seconds (user + system) a child has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


class HttpDevice(asyncio.Protocol):
    """Answers the first request head with 200 and closes."""

    def connection_made(self, transport: Any) -> None:
        self.transport, self.buf = transport, b""

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if b"\r\n\r\n" in self.buf:
            self.transport.write(HTTP_REPLY)
            self.transport.close()


async def serve(kind: str, n: int, lifetime: float) -> None:
    """The child: SNMP agents or HTTP listeners on n addresses, until the lifetime ends."""
    if kind == "snmp":
        from netwatch.lab.snmp_agent import AgentState, SnmpAgentPool

        async with SnmpAgentPool() as pool:
            for address in addresses(240, n):
                await pool.add(address, SNMP_PORT, AgentState(), community=COMMUNITY)
            print("ready", flush=True)
            await asyncio.sleep(lifetime)
        return
    loop = asyncio.get_running_loop()
    for address in addresses(242, n):
        await loop.create_server(HttpDevice, address, HTTP_PORT, backlog=256)
    print("ready", flush=True)
    await asyncio.sleep(lifetime)


@contextmanager
def child(kind: str, n: int, lifetime: float) -> Iterator[int]:
    """Start a serving child, wait for its ready line, kill it by PID on exit."""
    cmd = [sys.executable, __file__, "--serve", kind, "--count", str(n)]
    proc = subprocess.Popen(cmd + ["--lifetime", str(lifetime)], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != b"ready":  # EOF if it died; it exits by lifetime
            raise SystemExit(f"bench_libraries: the {kind} child failed to start")
        yield proc.pid
    finally:
        proc.kill()
        proc.wait(10)


@dataclass(frozen=True, slots=True)
class Run:
    """One side of one comparison: how many operations, how long, how much CPU."""

    n: int
    done: int
    ok: int
    wall: float
    cpu: float
    peer_cpu: float | None = None

    @property
    def cut(self) -> bool:
        """Whether pysnmp's time budget stopped the pass before every target was asked."""
        return self.done < self.n


async def timed(
    n: int, body: Callable[[], Awaitable[tuple[int, int]]], peer: int | None = None
) -> Run:
    """Run ``body`` (returning done, ok) under the wall clock, process CPU and peer CPU."""
    peer_before = cpu_of(peer) if peer else 0.0
    wall, cpu = time.perf_counter(), time.process_time()
    done, ok = await body()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return Run(n, done, ok, wall, cpu, cpu_of(peer) - peer_before if peer else None)


async def workers(
    items: Iterable[Any], concurrency: int, one: Callable[[Any], Awaitable[bool]], stop: float = 0
) -> tuple[int, int]:
    """Run ``one`` over items with ``concurrency`` workers; stop taking items after ``stop``."""
    queue, counts = iter(items), [0, 0]

    async def worker() -> None:
        for item in queue:
            if stop and time.monotonic() > stop:
                return
            ok = await one(item)
            counts[0] += 1
            counts[1] += bool(ok)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return counts[0], counts[1]


class PysnmpSide:
    """pysnmp 7 hlapi as its documentation uses it, with one shared engine."""

    def __init__(self, addrs: list[str]) -> None:
        self.addrs = addrs
        self.auth = hlapi.CommunityData(COMMUNITY)
        self.context = hlapi.ContextData()
        self.targets: dict[str, Any] = {}

    async def prepare(self) -> None:
        """Build every transport target up front, so the clock sees only ``get_cmd``."""
        for address in self.addrs:
            self.targets[address] = await hlapi.UdpTransportTarget.create(
                (address, SNMP_PORT), timeout=1, retries=0
            )

    async def one(self, engine: Any, address: str) -> bool:
        """One GET of netwatch's var-binds, object identities built per call as the docs do."""
        objects = [hlapi.ObjectType(hlapi.ObjectIdentity(".".join(map(str, o)))) for o in OIDS]
        error, status, _, varbinds = await hlapi.get_cmd(
            engine, self.auth, self.targets[address], self.context, *objects, lookupMib=False
        )
        return error is None and not status and len(varbinds) == len(OIDS)


async def snmp_rows(sizes: list[int], concurrency: int, budget: float, life: float) -> list:
    """Cold passes at each size and a steady pass, pysnmp vs netwatch, against lab agents."""
    addrs = addresses(240, max(sizes))
    params = snmp.parse_params({"community": COMMUNITY, "uplink_if": IF_INDEX, "retries": 0})
    targets = {a: Target(a, a, SNMP_PORT, 1.0) for a in addrs}
    rows, side = [], PysnmpSide(addrs)
    await side.prepare()
    stop = time.monotonic() + budget

    async def ours(ctx: ProbeContext, address: str) -> bool:
        return (await snmp.probe(targets[address], params, ctx)).success

    with child("snmp", len(addrs), life) as pid:

        async def compare(
            case: str, label: str, chosen: list[str], engine: Any, ctx: ProbeContext
        ) -> None:
            theirs = partial(workers, chosen, concurrency, partial(side.one, engine), stop)
            lib = await timed(len(chosen), theirs, pid)
            mine = partial(workers, chosen, concurrency, partial(ours, ctx))
            rows.append((label, "pysnmp", lib, await timed(len(chosen), mine, pid), "GET", case))

        for size in sizes:
            engine = hlapi.SnmpEngine()
            async with ProbeContext() as ctx:
                label = f"SNMP cold pass, {size} agents"
                await compare(f"snmp-cold-{size}", label, addrs[:size], engine, ctx)
                if size == sizes[-1]:
                    label = f"SNMP steady pass, {size} agents"
                    await compare("snmp-steady", label, addrs, engine, ctx)
            engine.close_dispatcher()
    return rows


def codec_row(seconds: float) -> tuple:
    """The v2c message codec alone: encode the GET, decode the 8-var-bind reply."""
    from netwatch.lab.snmp_agent import AgentState, answer

    community = COMMUNITY.encode()
    request = c.Pdu(c.GET, 1, 0, 0, tuple((oid, c.NULL_VALUE) for oid in OIDS))
    body = c.enc_pdu(c.RESPONSE, 1, c.enc_varbinds(answer(request, AgentState())))
    reply = c.enc_v2c(community, body)
    v2c = snmp_api.PROTOCOL_MODULES[snmp_api.SNMP_VERSION_2C]

    def theirs(rid: int) -> bool:
        pdu = v2c.GetRequestPDU()
        v2c.apiPDU.set_defaults(pdu)
        v2c.apiPDU.set_request_id(pdu, rid)
        v2c.apiPDU.set_varbinds(pdu, [(o, v2c.Null("")) for o in OIDS])
        msg = v2c.Message()
        v2c.apiMessage.set_defaults(msg)
        v2c.apiMessage.set_community(msg, COMMUNITY)
        v2c.apiMessage.set_pdu(msg, pdu)
        encoder.encode(msg)
        got, _ = decoder.decode(reply, asn1Spec=v2c.Message())
        return len(v2c.apiPDU.get_varbinds(v2c.apiMessage.get_pdu(got))) == len(OIDS)

    def mine(rid: int) -> bool:
        c.enc_v2c(community, c.enc_pdu(c.GET, rid, snmp.request_varbinds(IF_INDEX)))
        return len(c.decode_v2c(reply)[1].varbinds) == len(OIDS)

    def loop(one: Callable[[int], bool]) -> Run:
        wall, cpu, done, ok = time.perf_counter(), time.process_time(), 0, 0
        while time.perf_counter() - wall < seconds:
            for _ in range(50):
                done += 1
                ok += one(done)
        return Run(done, done, ok, time.perf_counter() - wall, time.process_time() - cpu)

    label = "SNMP v2c codec (encode + decode)"
    return (label, "pyasn1", loop(theirs), loop(mine), "message", "codec")


async def icmp_row(n: int) -> tuple:
    """ping3 in a 64-thread pool vs the multiplexed engine, one echo to each of n targets."""
    addrs = addresses(241, n)
    params = icmp.parse_params({"count": 1})
    targets = [Target(a, a, 0, 1.0) for a in addrs]

    async def batch(ctx: ProbeContext) -> tuple[int, int]:
        results = await icmp.probe_batch(targets, params, ctx)
        return len(results), sum(r.success for r in results)

    async with ProbeContext() as ctx:
        await icmp.probe_batch(targets[:50], params, ctx)  # warm-up: opens the engine
        mine = await timed(n, partial(batch, ctx))
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(64) as pool:

        async def pings(chosen: list[str]) -> tuple[int, int]:
            calls = (loop.run_in_executor(pool, partial(ping3.ping, a, timeout=1)) for a in chosen)
            delays = await asyncio.gather(*calls)
            return len(delays), sum(isinstance(d, float) for d in delays)

        await pings(addrs[:64])  # warm-up: starts the threads
        lib = await timed(n, partial(pings, addrs))
    return (f"ICMP, {n} targets x 1 echo", "ping3", lib, mine, "ping", f"icmp-{n}")


async def http_rows(n: int, concurrency: int, life: float) -> tuple:
    """aiohttp with a new connection per target vs the http probe, against tiny listeners."""
    addrs = addresses(242, n)
    params = http.parse_params({})
    targets = {a: Target(a, a, HTTP_PORT, 1.0) for a in addrs}
    ctx = ProbeContext()

    async def ours(address: str) -> bool:
        return (await http.probe(targets[address], params, ctx)).success

    connector = aiohttp.TCPConnector(force_close=True, limit=0)
    timeout = aiohttp.ClientTimeout(total=3)
    with child("http", n, life) as pid:
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

            async def theirs(address: str) -> bool:
                async with session.get(f"http://{address}:{HTTP_PORT}/") as response:
                    await response.read()
                    return response.status == 200

            warm = addrs[: min(n, 100)]
            await workers(warm, concurrency, theirs)
            await workers(warm, concurrency, ours)
            lib = await timed(n, partial(workers, addrs, concurrency, theirs), pid)
            mine = await timed(n, partial(workers, addrs, concurrency, ours), pid)
        await ctx.aclose()
    return (f"HTTP GET, new connection, {n} targets", "aiohttp", lib, mine, "check", "http")


def print_results(rows: list[tuple], loop: str) -> None:
    """One RESULT line per comparison (the codec needs no loop: its case has no loop name).

    A failed netwatch operation against a healthy peer voids the case (verdict FAIL); the
    library's failures are counted (``lib_failed``): they are part of what is compared.
    """
    for _, _, lib, mine, _, case in rows:
        if not lib.done or not mine.done:
            continue
        lib_cpu, mine_cpu = lib.cpu / lib.done, mine.cpu / mine.done
        lib_wall, mine_wall = lib.wall / lib.done, mine.wall / mine.done
        result(
            "libraries", case if case == "codec" else f"{case}-{loop}",
            "FAIL" if mine.ok < mine.n else None,
            lib_ops_per_s=1 / lib_wall, ours_ops_per_s=1 / mine_wall,
            lib_cpu_ms_per_op=1000 * lib_cpu, ours_cpu_ms_per_op=1000 * mine_cpu,
            ratio_wall=lib_wall / mine_wall, ratio_cpu=lib_cpu / max(mine_cpu, 1e-9),
            lib_done=lib.done, lib_failed=lib.done - lib.ok, failed=mine.n - mine.ok,
        )


def print_table(rows: list[tuple], setting: str) -> None:
    """Both sides of every comparison, then the ratio of time and CPU per operation."""
    print(f"\nlibraries vs netwatch, same run, loopback only; {setting}")
    head = f"{'comparison':<38} {'side':<9} {'done/n':>11} {'ok':>6} {'wall s':>8} {'CPU s':>7}"
    print(head + f" {'ops/s':>8} {'CPU ms/op':>10} {'peer CPU s':>10}")
    for label, lib_name, lib, mine, unit, _ in rows:
        for name, run in ((lib_name, lib), ("netwatch", mine)):
            rate = run.done / run.wall if run.wall else 0.0
            per = 1000 * run.cpu / run.done if run.done else float("nan")
            peer = f"{run.peer_cpu:10.2f}" if run.peer_cpu is not None else f"{'':>10}"
            cut = " CUT (pysnmp time budget)" if run.cut else ""
            print(
                f"{label:<38} {name:<9} {f'{run.done}/{run.n}':>11} {run.ok:>6} {run.wall:8.3f}"
                f" {run.cpu:7.3f} {rate:8.0f} {per:10.4f} {peer}{cut}"
            )
            label = ""
        if lib.done and mine.done:
            t = (lib.wall / lib.done) / (mine.wall / mine.done)
            u = (lib.cpu / lib.done) / max(mine.cpu / mine.done, 1e-9)
            print(
                f"{'':<38} {'ratio':<9} {lib_name} / netwatch: {t:.1f}x time per {unit}, "
                f"{u:.1f}x CPU per {unit}"
            )
    colds = [(label, lib, mine) for label, _, lib, mine, _, _ in rows if "cold" in label]
    if len(colds) > 1:
        print("\ncold pass, wall ms per agent (flat = setup linear in the number of agents):")
        for label, lib, mine in colds:
            lib_ms = 1000 * lib.wall / lib.done if lib.done else float("nan")
            print(f"  {label:<36} pysnmp {lib_ms:8.3f}   netwatch {1000 * mine.wall / mine.n:7.3f}")


LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "uvloop": uvloop.new_event_loop,
    "asyncio": asyncio.new_event_loop,
}


async def run(args: argparse.Namespace, codec: bool) -> list[tuple]:
    """Every comparison on the running loop (the codec one, which needs no loop, if asked)."""
    sizes = sorted(int(s) for s in args.snmp_sizes.split(","))
    rows = [codec_row(args.codec_seconds)] if codec else []
    rows += await snmp_rows(sizes, args.concurrency, args.pysnmp_budget, args.lifetime)
    rows.append(await icmp_row(args.icmp))
    rows.append(await http_rows(args.http, args.concurrency, args.lifetime))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snmp-sizes", default="250,500", help="agents per cold pass")
    parser.add_argument("--icmp", type=int, default=2000, help="ICMP targets")
    parser.add_argument("--http", type=int, default=1000, help="HTTP targets")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--pysnmp-budget", type=float, default=60.0, help="s per loop for pysnmp")
    parser.add_argument("--codec-seconds", type=float, default=1.0, help="s per codec loop")
    parser.add_argument("--loops", default="uvloop,asyncio", help="event loops, in turn")
    parser.add_argument("--lifetime", type=float, default=240.0, help="children's maximum s")
    parser.add_argument("--serve", choices=("snmp", "http"), help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        uvloop.run(serve(args.serve, args.count, args.lifetime))
        return
    loops = args.loops.split(",")
    if not set(loops) <= set(LOOPS):
        parser.error(f"--loops: choose from {', '.join(LOOPS)}")
    mode = "raw" if os.geteuid() == 0 else "datagram"
    tables = []
    for index, name in enumerate(loops):
        print(
            f"running on {name}: {'SNMP codec, ' if index == 0 else ''}SNMP, ICMP, HTTP ...",
            flush=True,
        )
        with asyncio.Runner(loop_factory=LOOPS[name]) as runner:
            rows = runner.run(run(args, codec=index == 0))
        print_table(rows, f"{name} loop, {os.cpu_count()} CPUs, ICMP on {mode} sockets")
        tables.append((rows, name))
    print()
    for rows, name in tables:
        print_results(rows, name)


if __name__ == "__main__":
    main()
