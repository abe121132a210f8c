"""SNMP probe benchmark: v2c against net-snmp snmpd (vs snmp_exporter), v3 authPriv cold passes.

Prints figures, asserts nothing. Everything runs on 127.210.0.0-127.215.255.255:

- one ``snmpd`` listening on N distinct 127.210-211.x.y addresses (v2c): the
  probe's cold first pass at several sizes (per-agent cost must stay flat:
  setup linear in agents), then a steady pass; GETs/s and CPU seconds for the
  probe process and for snmpd;
- Prometheus ``snmp_exporter`` (Debian 0.21) doing GET-only scrapes of the same
  agents with bounded concurrency: devices/s and its CPU;
- v3 authPriv cold passes over 500 agents: the lab agent in a subprocess (500
  distinct engine ids) and several snmpd processes (one engine id each).

Usage: python bench/bench_snmp.py [--agents 5000] [--sizes 1000,2000,5000]
Every process started here is killed by its PID on exit.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import aiohttp
from figures import result

from probes import snmp
from probes.base import ProbeContext, Target

SNMPD = "/usr/sbin/snmpd"
EXPORTER = "/usr/bin/prometheus-snmp-exporter"
PORT = 16100
COMMUNITY = "bench-community"
AUTH, PRIV = "bench-auth-key", "bench-priv-key"
V3 = {"version": "3", "user": "bench", "auth_protocol": "SHA256", "auth_key": AUTH}
V3 |= {"priv_protocol": "AES128", "priv_key": PRIV, "uplink_if": 1}
GET_OIDS = [
    "1.3.6.1.2.1.1.3.0",
    "1.3.6.1.2.1.1.1.0",
    "1.3.6.1.2.1.2.2.1.8.1",
    "1.3.6.1.2.1.31.1.1.1.15.1",
    "1.3.6.1.2.1.2.2.1.5.1",
    "1.3.6.1.2.1.2.2.1.14.1",
    "1.3.6.1.2.1.2.2.1.20.1",
    "1.3.6.1.2.1.31.1.1.1.1.1",
]
TICK = os.sysconf("SC_CLK_TCK")
Figures = list[tuple[str, bool, dict[str, float | int]]]  # (case, all ok, figures) per RESULT


def addresses(second: int, n: int) -> list[str]:
    """n distinct addresses 127.<second>.x.y, moving to the next second octet past 250*250."""
    return [f"127.{second + i // 62500}.{i // 250 % 250}.{i % 250 + 1}" for i in range(n)]


def cpu_of(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def free_tcp_port(address: str) -> int:
    with socket.socket() as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])


@contextmanager
def process(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> Iterator[int]:
    """Run a command with output to ``log``; kill it by PID on exit."""
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=out, env=env)
    try:
        yield proc.pid
    finally:
        proc.kill()
        proc.wait(10)


def wait_for(log: Path, text: bytes, pid: int, seconds: float = 60) -> None:
    """Poll a log for ``text`` within a bounded deadline."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if text in log.read_bytes():
            return
        if not Path(f"/proc/{pid}").exists():
            sys.exit(f"process {pid} exited: {log.read_text()[-1500:]}")
        time.sleep(0.05)
    sys.exit(f"{log} never showed {text!r}")


@contextmanager
def snmpd(tmp: Path, name: str, addrs: list[str], extra: str = "") -> Iterator[int]:
    """One snmpd answering on every address in ``addrs``; yields its PID once it is up."""
    conf = tmp / f"{name}.conf"
    conf.write_text(f"rocommunity {COMMUNITY} 127.0.0.0/8\n{extra}")
    persist = tmp / f"{name}.persist"
    persist.mkdir()
    env = dict(os.environ, SNMP_PERSISTENT_DIR=str(persist), MIBS="")
    cmd = [SNMPD, "-f", "-Lo", "-C", "-c", str(conf), "-p", str(tmp / f"{name}.pid")]
    log = tmp / f"{name}.log"
    with process(cmd + [f"udp:{a}:{PORT}" for a in addrs], log, env) as pid:
        wait_for(log, b"NET-SNMP version", pid)
        yield pid


async def probe_pass(
    ctx: ProbeContext, addrs: list[str], params: snmp.Params, concurrency: int
) -> tuple[float, float, int]:
    """(wall s, CPU s, successes) of one probe pass over ``addrs``."""
    gate = asyncio.Semaphore(concurrency)

    async def one(address: str) -> bool:
        async with gate:
            r = await snmp.probe(Target(address, address, PORT, 2.0), params, ctx)
            return r.success

    wall, cpu = time.perf_counter(), time.process_time()
    ok = sum(await asyncio.gather(*(one(a) for a in addrs)))
    return time.perf_counter() - wall, time.process_time() - cpu, ok


def line(label: str, n: int, wall: float, cpu: float, ok: int, peer_cpu: float) -> None:
    print(
        f"  {label:<34} {n:>6} agents {wall:7.2f} s  {n / wall:8.0f}/s  "
        f"probe CPU {cpu:6.2f} s ({1000 * cpu / n:.3f} ms/GET)  agent CPU {peer_cpu:6.2f} s  "
        f"ok {ok}/{n}"
    )


async def bench_v2c(
    addrs: list[str], sizes: list[int], concurrency: int, pid: int, out: Figures
) -> tuple[float, float]:
    """Cold passes per size, then a steady pass; returns the steady GETs/s and CPU s per GET."""
    params = snmp.parse_params({"community": COMMUNITY, "uplink_if": 1})
    print(f"v2c probe against one snmpd on {len(addrs)} addresses (concurrency {concurrency}):")
    for size in sizes:
        async with ProbeContext() as ctx:
            before = cpu_of(pid)
            wall, cpu, ok = await probe_pass(ctx, addrs[:size], params, concurrency)
            line(f"cold pass, {size}", size, wall, cpu, ok, cpu_of(pid) - before)
            print(f"    per-agent cold cost {1e6 * wall / size:.0f} us wall")
            out.append((f"v2c-cold-{size}", ok == size, {"wall_us_per_agent": 1e6 * wall / size}))
    async with ProbeContext() as ctx:
        await probe_pass(ctx, addrs, params, concurrency)
        before = cpu_of(pid)
        wall, cpu, ok = await probe_pass(ctx, addrs, params, concurrency)
        peer = cpu_of(pid) - before
        line("steady pass (warm client)", len(addrs), wall, cpu, ok, peer)
    n = len(addrs)
    figures = {"gets_per_s": n / wall, "cpu_ms_per_get": 1000 * cpu / n, "snmpd_cpu_s": peer}
    out.append(("v2c-steady", ok == n, figures))
    return n / wall, cpu / n


async def bench_exporter(
    tmp: Path, addrs: list[str], concurrency: int, snmpd_pid: int, ours: tuple[float, float],
    out: Figures,
) -> None:
    """GET-only scrapes of the same agents; its second pass against our steady pass."""
    if not os.access(EXPORTER, os.X_OK):
        print("snmp_exporter: not installed, skipped")
        return
    conf = tmp / "snmp.yml"
    metrics = ""
    for i, oid in enumerate(GET_OIDS):
        column, kind = oid.rsplit(".", 1)[0], "DisplayString" if i in (1, 7) else "gauge"
        metrics += f"  - name: o{i}\n    oid: {column}\n    type: {kind}\n    help: o{i}\n"
        if i > 1:
            metrics += "    indexes:\n    - labelname: idx\n      type: gauge\n"
    gets = "".join(f"  - {o}\n" for o in GET_OIDS)
    auth = f"  version: 2\n  auth:\n    community: {COMMUNITY}\n  retries: 0\n  timeout: 2s\n"
    conf.write_text(f"nw:\n  get:\n{gets}  metrics:\n{metrics}{auth}")
    listen = f"127.215.0.1:{free_tcp_port('127.215.0.1')}"
    cmd = [EXPORTER, f"--config.file={conf}", f"--web.listen-address={listen}"]
    log = tmp / "exporter.log"
    with process(cmd, log) as pid:
        wait_for(log, b"Listening on", pid, 20)
        gate = asyncio.Semaphore(concurrency)
        async with aiohttp.ClientSession() as http:

            async def scrape(address: str) -> bool:
                async with gate:
                    url = f"http://{listen}/snmp?module=nw&target={address}:{PORT}"
                    async with http.get(url) as resp:
                        body = await resp.text()
                        return resp.status == 200 and "o2{" in body

            for label in ("first pass", "second pass"):
                before, peer = cpu_of(pid), cpu_of(snmpd_pid)
                wall, cpu = time.perf_counter(), time.process_time()
                ok = sum(await asyncio.gather(*(scrape(a) for a in addrs)))
                wall = time.perf_counter() - wall
                n = len(addrs)
                print(
                    f"  snmp_exporter {label:<20} {n:>6} agents {wall:7.2f} s  {n / wall:8.0f}/s  "
                    f"exporter CPU {cpu_of(pid) - before:6.2f} s  "
                    f"snmpd CPU {cpu_of(snmpd_pid) - peer:6.2f} s  ok {ok}/{n} "
                    f"(scraper CPU {time.process_time() - cpu:.2f} s, concurrency {concurrency})"
                )
            exporter_cpu = (cpu_of(pid) - before) / n  # the second pass: both sides warm
            figures = {"gets_per_s": n / wall, "cpu_ms_per_get": 1000 * exporter_cpu,
                       "ratio_rate_ours_to_exporter": ours[0] / (n / wall),
                       "ratio_cpu_exporter_to_ours": exporter_cpu / max(ours[1], 1e-9)}
            out.append(("exporter", ok == n, figures))


LAB = """
import asyncio, sys
from netwatch.lab.snmp_agent import AgentState, SnmpAgentPool, V3User
async def main():
    user = V3User("bench", "SHA256", sys.argv[1], "AES128", sys.argv[2])
    async with SnmpAgentPool() as pool:
        for a in sys.argv[4:]:
            await pool.add(a, int(sys.argv[3]), AgentState(), v3=user)
        print("ready", flush=True)
        await asyncio.Event().wait()
asyncio.run(main())
"""


async def v3_passes(label: str, addrs: list[str], pids: list[int]) -> tuple[float, int]:
    """A cold then a warm pass; returns the cold pass's wall seconds and successes."""
    params = snmp.parse_params(V3)
    cold = (0.0, 0)
    async with ProbeContext() as ctx:
        for phase in ("cold", "warm"):
            before = sum(cpu_of(p) for p in pids)
            wall, cpu, ok = await probe_pass(ctx, addrs, params, 500)
            peer = sum(cpu_of(p) for p in pids) - before
            line(f"v3 {phase} pass, {label}", len(addrs), wall, cpu, ok, peer)
            if phase == "cold":
                cold = (wall, ok)
    return cold


async def bench_v3(tmp: Path, n: int, processes: int, out: Figures) -> None:
    print(f"v3 authPriv (SHA256/AES128), {n} agents:")
    lab_addrs = addresses(212, n)
    cmd = [sys.executable, "-c", LAB, AUTH, PRIV, str(PORT), *lab_addrs]
    log = tmp / "lab.log"
    with process(cmd, log) as pid:
        wait_for(log, b"ready", pid)
        wall, ok = await v3_passes(f"lab agent, {n} engine ids", lab_addrs, [pid])
    out.append(("v3-cold-lab", ok == n, {"wall_s": wall, "agents": n}))
    user = f"createUser bench SHA-256 {AUTH} AES {PRIV}\nrouser bench priv\n"
    daemons = addresses(213, n)
    per = -(-n // processes)
    with ExitStack() as stack:
        pids = [
            stack.enter_context(
                snmpd(
                    tmp,
                    f"v3-{k}",
                    daemons[k * per : (k + 1) * per],
                    f"engineID nwbench{k:04d}\n{user}",
                )
            )
            for k in range(processes)
        ]
        wall, ok = await v3_passes(f"{processes} snmpd, {processes} engine ids", daemons, pids)
    out.append(("v3-cold-snmpd", ok == n, {"wall_s": wall, "agents": n}))


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--agents", type=int, default=5000)
    ap.add_argument("--sizes", default="1000,2000,5000")
    ap.add_argument("--concurrency", type=int, default=500)
    ap.add_argument("--exporter-concurrency", type=int, default=64)
    ap.add_argument("--v3-agents", type=int, default=500)
    ap.add_argument("--v3-snmpd", type=int, default=10, help="snmpd processes for v3")
    args = ap.parse_args()
    if not os.access(SNMPD, os.X_OK):
        sys.exit("net-snmp snmpd is not installed (apt-get install snmpd)")
    sizes = [s for s in map(int, args.sizes.split(",")) if s <= args.agents]
    tmp = Path(tempfile.mkdtemp(prefix="bench-snmp-"))
    out: Figures = []
    try:
        addrs = addresses(210, args.agents)
        with snmpd(tmp, "v2c", addrs) as pid:
            ours = await bench_v2c(addrs, sizes, args.concurrency, pid, out)
            await bench_exporter(tmp, addrs, args.exporter_concurrency, pid, ours, out)
        await bench_v3(tmp, args.v3_agents, args.v3_snmpd, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for case, all_ok, figures in out:  # every agent is healthy: a failed GET voids the case
        result("snmp", case, None if all_ok else "FAIL", **figures)


if __name__ == "__main__":
    asyncio.run(main())
