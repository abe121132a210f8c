"""A city shared by several ``netwatch run`` instances over one PostgreSQL: CPU and database load.

The city of ``bench_daemon.py`` (N devices in 127.150.0.0/15, 8 counties c0..c7; 10,000
service checks played by the device lab in its own process, 2,000 SNMP sites, ICMP for
all) is watched in three scenarios, one after another, each on a fresh PostgreSQL server
of the run's own (``pgload.py``, on 127.76.0.1 only):

  a  one instance over every county (the baseline);
  b  two shards: counties c0-c3 on one instance, c4-c7 on another;
  c  the two shards plus a standby started with every county once the shards hold their
     leases (``--standby-probes icmp``: it pings every device and writes nothing).

Every instance is its own child process (``python -m netwatch run ... --counties ...
--instance ...``, listening on 127.76.0.x), so its CPU is its own. Once every instance has
completed its first sweep (``/readyz``) and a settling pause has passed, the instances'
CPU, the lab's and the server's counters are sampled, then again ``--cycles`` intervals
later: the steady window, lease rounds included. Per instance: its share of one core, the
devices it is active for (its counties' leases, from ``/readyz``) and those it stands by
for, and ``devices_per_core`` (active devices per core-second per second); a standby's
share per 100,000 devices it shadows. Per scenario, the server's load over the window
scaled to 100,000 devices (statements, transactions, rows written, WAL, server CPU).

The lab is healthy: an open fault (``netwatch_open_faults`` of any instance, or an open
episode in the database), a failed probe (``netwatch_probe_success`` 0), a skipped check
or an overrun is a false result and FAILS the run (exit 1). ``--devices`` scales the city
down when the machine cannot keep up; the per-100,000 figures are then scaled by
proportion and the output says so. Loopback only; bounded by ``--cycles`` and deadlines;
every process started here is stopped by its PID.

    python bench/bench_shards.py [--devices 100000] [--cycles 2] [--interval 60]
                                 [--scenarios a,b,c]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bench_daemon import INTERVAL, cpu_of, write_inventory
from figures import result as print_result
from pgload import Load, PrivateServer, Sample

from netwatch.lab.process import LabProcess

PG_HOST = "127.76.0.1"  # this bench's own PostgreSQL server listens here only
COUNTIES = tuple(f"c{c}" for c in range(8))
PER = 100_000  # database load is stated per this many devices
SETTLE = 10.0  # seconds after the last instance's first sweep before the window opens
SCENARIOS = {
    "a": ("one-instance", [("solo", COUNTIES, "")]),
    "b": ("two-shards", [("shard0", COUNTIES[:4], ""), ("shard1", COUNTIES[4:], "")]),
    "c": ("two-shards-standby", [("shard0", COUNTIES[:4], ""), ("shard1", COUNTIES[4:], ""),
                                 ("standby", COUNTIES, "icmp")]),
}
_SAMPLE = re.compile(r"^(netwatch_[a-z_]+)(\{[^}]*\})? (\S+)$")


@dataclass
class Instance:
    """One ``netwatch run`` child: its name, counties, address, process and findings."""

    name: str
    counties: tuple[str, ...]
    shadow: str
    host: str
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None
    roles: dict[str, str] = field(default_factory=dict)
    cpu: float = 0.0
    user: float = 0.0
    system: float = 0.0
    rss_mib: float = 0.0

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"


def county_sizes(devices: int) -> Counter[str]:
    """Devices per county, as ``write_inventory`` deals them (device i in county i % 8)."""
    return Counter(f"c{i % 8}" for i in range(devices))


def get(url: str, timeout: float = 120.0) -> tuple[int, bytes]:
    """One loopback GET (gzip asked for): status and decoded body; (0, b"") if it fails."""
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = response.read()
            if response.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            return response.status, body
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


def start(inst: Instance, inventory: Path, url: str, folder: Path, env: dict[str, str]) -> None:
    """Start the instance as ``netwatch run`` in its own process, its output to a file."""
    with socket.socket() as s:  # a free port on the instance's own address
        s.bind((inst.host, 0))
        inst.port = int(s.getsockname()[1])
    notices = folder / f"notices-{inst.name}"
    notices.mkdir()
    cmd = [sys.executable, "-m", "netwatch", "run", str(inventory), "--db", url,
           "--counties", ",".join(inst.counties), "--instance", inst.name,
           "--listen", f"{inst.host}:{inst.port}", "--notices-dir", str(notices),
           "--log-level", "warning"]
    if inst.shadow:
        cmd += ["--standby-probes", inst.shadow]
    inst.log = (folder / f"{inst.name}.log").open("wb")
    inst.proc = subprocess.Popen(cmd, stdout=inst.log, stderr=subprocess.STDOUT, env=env)
    print(f"  started {inst.name} (pid {inst.proc.pid}) for {','.join(inst.counties)} on "
          f"{inst.base}", flush=True)


def alive(instances: list[Instance], folder: Path) -> None:
    """Exit with the log's tail if an instance has stopped on its own."""
    for inst in instances:
        assert inst.proc is not None
        if inst.proc.poll() is not None:
            tail = (folder / f"{inst.name}.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{inst.name} exited with {inst.proc.returncode}:\n{tail}")


def wait_ready(instances: list[Instance], folder: Path, deadline: float) -> None:
    """Poll ``/readyz`` until every instance has swept once; record its roles."""
    waiting = list(instances)
    while waiting and time.monotonic() < deadline:
        alive(instances, folder)
        for inst in list(waiting):
            status, body = get(f"{inst.base}/readyz", timeout=10)
            if status == 200:
                ready = json.loads(body)
                inst.roles = dict(ready["counties"])
                waiting.remove(inst)
                print(f"  {inst.name} ready: duties {ready['duties']}, counties "
                      f"{_roles(inst.roles)}", flush=True)
        time.sleep(1.0)
    if waiting:
        raise RuntimeError(f"not ready in time: {', '.join(i.name for i in waiting)}")


def _roles(roles: dict[str, str]) -> str:
    return " ".join(f"{c}={r}" for c, r in sorted(roles.items()))


def stop(inst: Instance) -> None:
    """SIGTERM by PID (a clean stop releases the leases), SIGKILL after 60 s."""
    if inst.proc is not None and inst.proc.poll() is None:
        inst.proc.send_signal(signal.SIGTERM)
        try:
            inst.proc.wait(60)
        except subprocess.TimeoutExpired:
            inst.proc.kill()
            inst.proc.wait(10)
    if inst.log is not None:
        inst.log.close()


def rss(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def findings(inst: Instance) -> dict[str, int]:
    """From the instance's /metrics: open faults, failed probes, skipped checks, overruns,
    completed sweeps (the sum over its groups)."""
    status, body = get(f"{inst.base}/metrics", timeout=300)
    if status != 200:
        raise RuntimeError(f"{inst.name}: /metrics answered {status}")
    found = {"open_faults": 0, "failed_probes": 0, "skipped_checks": 0, "overruns": 0,
             "sweeps": 0, "probe_series": 0}
    names = {"netwatch_open_faults": "open_faults", "netwatch_checks_skipped_total":
             "skipped_checks", "netwatch_sweep_overruns_total": "overruns",
             "netwatch_sweep_runs_total": "sweeps"}
    for line in body.decode().splitlines():
        match = _SAMPLE.match(line)
        if match is None:
            continue
        name, value = match.group(1), float(match.group(3))
        if name == "netwatch_probe_success":
            found["probe_series"] += 1
            found["failed_probes"] += value == 0
        elif name in names:
            found[names[name]] += int(value)
    return found


def scenario(key: str, inventory: Path, devices: int, cycles: int, interval: float,
             folder: Path, lab_pid: int, env: dict[str, str]) -> bool:
    """Run one scenario on a fresh server; print its lines and RESULTs; True if it passed."""
    title, layout = SCENARIOS[key]
    case = f"{key}-{title}" + ("" if devices == PER else f"-{devices}")
    sizes = county_sizes(devices)
    print(f"scenario {case}:", flush=True)
    pg = PrivateServer(PG_HOST)
    instances = [Instance(name, counties, shadow, f"127.76.0.{n + 2}")
                 for n, (name, counties, shadow) in enumerate(layout)]
    workdir = folder / case
    workdir.mkdir()
    ok = True
    try:
        url = pg.server.url(pg.dbname)  # the password as a ${NAME} reference, not masked
        env = {**env, **os.environ}  # with that variable, set by the server's start
        subprocess.run([sys.executable, "-m", "netwatch", "db", "migrate", "--db", url],
                       check=True, env=env, stdout=subprocess.DEVNULL, timeout=120)
        shards = [i for i in instances if not i.shadow]
        for inst in shards:
            start(inst, inventory, url, workdir, env)
        wait_ready(shards, workdir, time.monotonic() + 4 * interval + 180)
        standbys = [i for i in instances if i.shadow]
        for inst in standbys:  # after the shards hold their counties' leases
            start(inst, inventory, url, workdir, env)
        wait_ready(standbys, workdir, time.monotonic() + 4 * interval + 180)
        time.sleep(SETTLE)
        alive(instances, workdir)
        # the window: CPU of each instance and the lab, the server's counters
        first: Sample = pg.sample(time.monotonic())
        wall0 = time.monotonic()
        user0 = {i.name: cpu_of(i.proc.pid) for i in instances if i.proc is not None}
        lab0 = sum(cpu_of(lab_pid))
        end = wall0 + cycles * interval
        while time.monotonic() < end:
            alive(instances, workdir)
            time.sleep(min(1.0, max(0.0, end - time.monotonic())))
        wall = time.monotonic() - wall0
        last = pg.sample(time.monotonic())
        lab = sum(cpu_of(lab_pid)) - lab0
        for inst in instances:
            assert inst.proc is not None
            user, system = cpu_of(inst.proc.pid)
            inst.user = (user - user0[inst.name][0]) / wall
            inst.system = (system - user0[inst.name][1]) / wall
            inst.cpu = inst.user + inst.system
            inst.rss_mib = rss(inst.proc.pid)
        load = Load.between(first, last)
        print(f"  window: {wall:.0f} s ({cycles} cycles of {interval:g} s); lab CPU "
              f"{lab / wall:.1%} of one core", flush=True)
        # false results, after the window (a scrape costs the instance CPU)
        for inst in instances:
            status, body = get(f"{inst.base}/readyz", timeout=30)
            inst.roles = dict(json.loads(body)["counties"]) if status == 200 else inst.roles
            seen = findings(inst)
            active = sum(sizes[c] for c, r in inst.roles.items() if r == "active")
            standby = sum(sizes[c] for c, r in inst.roles.items() if r == "standby")
            bad = (seen["open_faults"] + seen["failed_probes"] + seen["skipped_checks"]
                   + seen["overruns"])
            ok = ok and bad == 0 and status == 200
            print(f"  {inst.name}: counties {_roles(inst.roles)}; CPU {inst.cpu:.1%} of one "
                  f"core (user {inst.user:.1%}, system {inst.system:.1%}); RSS "
                  f"{inst.rss_mib:.0f} MiB; active for {active:,} devices, standby for "
                  f"{standby:,}; sweeps {seen['sweeps']}, probe series "
                  f"{seen['probe_series']:,}, failed probes {seen['failed_probes']:,}, "
                  f"skipped checks {seen['skipped_checks']:,}, overruns {seen['overruns']}, "
                  f"open faults {seen['open_faults']}", flush=True)
            figures: dict[str, float | int] = {
                "active_devices": active, "standby_devices": standby, "cpu_share": inst.cpu,
                "system_share": inst.system,
            }
            if active:
                figures["devices_per_core"] = active / inst.cpu
            else:  # a pure standby: what shadowing costs per device it watches
                figures["standby_devices_per_core"] = standby / inst.cpu
                figures["standby_share_per_100k"] = inst.cpu * PER / standby
            figures.update(rss_mib=round(inst.rss_mib), open_faults=seen["open_faults"],
                           false_results=seen["failed_probes"] + seen["skipped_checks"],
                           overruns=seen["overruns"])
            print_result("shards", f"{case}-{inst.name}", "PASS" if bad == 0 else "FAIL",
                         **figures)
        with pg.server.admin(pg.dbname) as conn:
            episodes = conn.execute(
                "SELECT count(*) FROM fault_episodes WHERE closed_at IS NULL").fetchone()
            leases = conn.execute("SELECT scope, holder FROM leases ORDER BY scope").fetchall()
        open_episodes = int(episodes[0]) if episodes else -1
        ok = ok and open_episodes == 0
        print(f"  database: open fault episodes {open_episodes}; leases "
              + " ".join(f"{scope}={holder}" for scope, holder in leases), flush=True)
        print(f"  PostgreSQL over the window: {load.line()}", flush=True)
        scale = PER / devices
        print_result("shards_db", case, "PASS" if ok else "FAIL", devices=devices,
                     instances=len(instances), window_s=round(wall),
                     statements_per_s=load.statements * scale,
                     transactions_per_s=load.transactions * scale,
                     rows_written_per_s=load.rows_written * scale,
                     wal_kib_per_s=load.wal_bytes * scale / 1024,
                     server_cpu_share=load.cpu_share * scale, open_episodes=open_episodes,
                     lab_cpu_share=lab / wall)
        print("  PostgreSQL's most frequent statements over the scenario:")
        print("\n".join(f"    {line}" for line in pg.busiest(6)), flush=True)
    finally:
        for inst in reversed(instances):
            stop(inst)
        pg.close()
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=PER)
    parser.add_argument("--cycles", type=int, default=2, help="steady cycles per scenario")
    parser.add_argument("--interval", type=float, default=INTERVAL, help="seconds per cycle")
    parser.add_argument("--scenarios", default="a,b,c", help="of a, b, c")
    args = parser.parse_args()
    keys = [k.strip() for k in args.scenarios.split(",") if k.strip()]
    if not keys or set(keys) - set(SCENARIOS) or args.cycles < 1:
        parser.error("--scenarios: a, b and/or c; --cycles: 1 or more")
    secrets = {"BENCH_SNMP_COMMUNITY": "bench-community", "BENCH_SNMP_AUTH_KEY": "bench-auth-1",
               "BENCH_SNMP_PRIV_KEY": "bench-priv-1"}
    os.environ.update(secrets)
    if args.devices != PER:
        print(f"NOTE: {args.devices:,} devices, not {PER:,}: the database figures are scaled "
              f"to {PER:,} devices by proportion (×{PER / args.devices:g}).")
    print(f"city: {args.devices:,} devices in 8 counties, interval {args.interval:g} s, "
          f"{args.cycles} steady cycles per scenario; {os.cpu_count()} CPUs", flush=True)
    passed = True
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        inventory = write_inventory(folder, args.devices, args.interval)
        with LabProcess(inventory, table=f"netwatch_lab_shards_{os.getpid()}") as lab:
            print(f"lab: ready (pid {lab.pid})", flush=True)
            env: dict[str, Any] = {**os.environ, "NETWATCH_ALLOWED_NETS": "127.0.0.0/8"}
            for key in keys:
                passed = scenario(key, inventory, args.devices, args.cycles, args.interval,
                                  folder, lab.pid, env) and passed
    print("PASS" if passed else "FAIL: a false result (see above)", flush=True)
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
