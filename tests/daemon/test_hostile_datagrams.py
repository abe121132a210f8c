"""Hostile datagrams at a running daemon's SNMP socket: /healthz keeps answering, no fault opens.

``netwatch run`` (a child process) watches four switches played by one real
net-snmp ``snmpd`` (two v2c, two v3 authPriv) on 127.61.10.1–4. Its SNMP
client socket is bound to every address, so anything on this host can reach
it: the test finds its port from ``/proc/<pid>/fd`` and ``/proc/<pid>/net/udp``
(the daemon's only UDP socket bound to 0.0.0.0) and a sender process fires a
bounded burst at it from loopback: 64 KiB datagrams whose OID carries a 60 KB
arc (each one stalled the loop for about half a second when every datagram
was decoded with a quadratic arc decoder), garbage, and well-formed replies
forged from an agent's address but another port. Meanwhile the test asks
``/healthz`` again and again; the issue's bar is an answer within 50 ms
throughout, and that is the one latency this test asserts. The machine running
the suite may be shared and loaded, and a process can then wait tens of
milliseconds for a core whatever the daemon does; so a burst whose slowest
answer misses the bar is fired again, up to ``ATTEMPTS`` bursts, and one of them
must keep every answer within it. A loop that decodes what it should drop
misses it by seconds in every burst. Afterwards, all bursts done, the switches
must still be up with no fault open.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from netwatch.lab.process import terminate

SNMPD = "/usr/sbin/snmpd"
LISTEN = "127.61.0.1"
AGENTS = ("127.61.10.1", "127.61.10.2", "127.61.10.3", "127.61.10.4")
SENDER_ADDRESS = "127.61.20.1"
COMMUNITY = "c0mm-" + os.urandom(6).hex()
AUTH_KEY = "auth-" + os.urandom(6).hex()
PRIV_KEY = "priv-" + os.urandom(6).hex()
ENV = {
    **os.environ,
    "NETWATCH_ALLOWED_NETS": "127.61.0.0/16",
    "NW_TEST_COMMUNITY": COMMUNITY,
    "NW_TEST_AUTH_KEY": AUTH_KEY,
    "NW_TEST_PRIV_KEY": PRIV_KEY,
}
HEALTHZ_BAR = 0.050  # seconds: the stated bar for /healthz during the burst
ROUNDS = 100  # each: one 64 KiB datagram, ten of garbage, ten forged replies
ATTEMPTS = 3  # bursts at most: one must keep every answer within the bar (see the docstring)
SWEEPS_AFTER = 4  # sweeps to wait after the burst: more than open_after, so a fault would show

SNMPD_CONF = """\
engineID nwhostile{port}
rocommunity {community} 127.0.0.0/8
createUser nwuser SHA-256 {auth} AES {priv}
rouser nwuser priv
override 1.3.6.1.2.1.2.2.1.8.99 integer 1
override 1.3.6.1.2.1.31.1.1.1.15.99 unsigned 10000
override 1.3.6.1.2.1.31.1.1.1.1.99 octet_str ge-0/0/1
override 1.3.6.1.2.1.2.2.1.14.99 counter 0
override 1.3.6.1.2.1.2.2.1.20.99 counter 0
"""

INVENTORY = """\
city: {{name: Hostile datagrams, timezone: UTC}}
notices:
  issuing_unit: Test unit
  prefix: T
  schedule: "0 8 * * 1"
  timezone: UTC
  contact: test
  online_targets: {{switch: 98%}}
counties:
  - id: one
    name: One
    receiving_unit: Unit one
    boundary: [[105.8, 38.4], [106.3, 38.4], [106.3, 38.8], [105.8, 38.8]]
defaults:
  switch: {{checks: [snmp], interval: 1s, timeout: 600ms, open_after: 2, grace: 30m,
            rectify_within: 3d}}
snmp_profiles:
  v2: {{version: 2c, community: "${{NW_TEST_COMMUNITY}}"}}
  v3: {{version: 3, user: nwuser, auth_protocol: SHA256, auth_key: "${{NW_TEST_AUTH_KEY}}",
        priv_protocol: AES128, priv_key: "${{NW_TEST_PRIV_KEY}}"}}
devices:
{devices}
"""

# The sender runs as its own process so that its loop never competes with the
# test's /healthz timing for one interpreter's lock; it starts and builds its
# datagrams first, then waits for a line on stdin. argv: port, agent, rounds, source.
SENDER = r"""
import os, random, socket, sys, time
from probes.snmp import codec as c
port, agent, rounds = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
rng = random.Random(12)
arc = c.tlv(c.OBJECT_ID, b"\x2b" + b"\x81" * 60_000 + b"\x01")


def message(pad):
    value = c.tlv(c.OCTET_STRING, b"x" * pad)
    body = c.tlv(c.SEQUENCE, c.tlv(c.SEQUENCE, arc + value))
    return c.enc_v2c(b"public", c.tlv(c.RESPONSE, c.enc_int(1) * 3 + body))


huge = message(5_000)
huge = message(5_000 + 65_507 - len(huge))  # well formed, the largest UDP datagram
assert len(huge) == 65_507 and huge[1:4] == b"\x82" + (65_507 - 4).to_bytes(2, "big")
stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
stranger.bind((sys.argv[4], 0))
forger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
forger.bind((agent, 0))  # the agent's address, another port
print("ready", flush=True)
sys.stdin.readline()  # go: started and built before the measured window opens
sent = 0
for _ in range(rounds):
    stranger.sendto(huge, ("127.0.0.1", port))
    for _ in range(10):
        stranger.sendto(rng.randbytes(rng.randint(1, 1400)), ("127.0.0.1", port))
        rid = rng.randrange(1, 2**31)
        vbs = c.enc_varbinds([((1, 3, 6, 1, 2, 1, 1, 3, 0), (c.TIMETICKS, 1))])
        forged = c.enc_v2c(b"public", c.enc_pdu(c.RESPONSE, rid, vbs))
        forger.sendto(forged, ("127.0.0.1", port))
    sent += 21
    time.sleep(0.02)  # pacing: spread the burst over about two seconds
print(sent)
"""


def free_udp_port(address: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])


def wait_for(what: str, check: object, timeout: float) -> object:
    """``check()`` until it is truthy, polling within a bounded deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()  # type: ignore[operator]
        if result:
            return result
        time.sleep(0.1)
    pytest.fail(f"{what} not within {timeout:g} s")


@pytest.fixture(scope="module")
def snmpd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """One net-snmp agent on the four switch addresses (one port); uplink ifIndex 99, 10 Gbit/s."""
    if not os.access(SNMPD, os.X_OK):
        pytest.skip("net-snmp snmpd is not installed (apt-get install snmpd)")
    tmp = tmp_path_factory.mktemp("snmpd")
    port = free_udp_port(AGENTS[0])
    conf = tmp / "snmpd.conf"
    conf.write_text(SNMPD_CONF.format(port=port, community=COMMUNITY, auth=AUTH_KEY, priv=PRIV_KEY))
    (tmp / "persist").mkdir()
    log = tmp / "snmpd.log"
    env = dict(os.environ, SNMP_PERSISTENT_DIR=str(tmp / "persist"), MIBS="")
    listen = ",".join(f"udp:{a}:{port}" for a in AGENTS)
    cmd = [SNMPD, "-f", "-Lo", "-C", "-c", str(conf), "-p", str(tmp / "pid"), listen]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=out, env=env)
    try:
        wait_for("snmpd start", lambda: b"NET-SNMP version" in log.read_bytes(), 10)
        yield port
    finally:
        proc.kill()
        proc.wait(5)


@dataclass(slots=True)
class Daemon:
    proc: subprocess.Popen[bytes]
    host: str
    port: int
    log: Path

    def get(self, path: str) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def samples(self, name: str) -> dict[str, float]:
        """One metric family's samples by device (or by sorted labels when there is none)."""
        status, body = self.get("/metrics")
        assert status == 200
        out = {}
        for family in text_string_to_metric_families(body.decode()):
            for s in family.samples:
                if s.name == name:
                    out[s.labels.get("device") or str(sorted(s.labels.items()))] = s.value
        return out


@pytest.fixture
def daemon(snmpd: int, tmp_path: Path) -> Iterator[Daemon]:
    """``netwatch run`` on the four switches, listening on 127.61.0.1."""
    devices = "\n".join(
        f"  - {{id: sw-{i}, kind: switch, county: one, address: {a}, name: Switch {i}, "
        f"lat: 38.5, lon: 106.0, snmp_profile: {'v2' if i % 2 else 'v3'}, "
        f"ports: {{snmp: {snmpd}}}, uplink_if: 99}}"
        for i, a in enumerate(AGENTS, 1)
    )
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(INVENTORY.format(devices=devices))
    log = tmp_path / "daemon.log"
    cmd = [sys.executable, "-m", "netwatch", "run", str(inventory), "--listen", f"{LISTEN}:0",
           "--db", str(tmp_path / "netwatch.db"), "--notices-dir", str(tmp_path / "notices")]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=out, env=ENV)
    try:
        def listening() -> str | None:
            text = log.read_text(errors="replace")
            if proc.poll() is not None:
                pytest.fail(f"netwatch run exited: {text[-2000:]}")
            marker = f"listening on http://{LISTEN}:"
            if marker not in text:
                return None
            return text.split(marker, 1)[1].split("/")[0].split()[0]

        port = int(str(wait_for("netwatch run listening", listening, 30)))
        yield Daemon(proc, LISTEN, port, log)
    finally:
        terminate(proc, 15)


def snmp_client_port(pid: int) -> int:
    """The port of the daemon's one UDP socket bound to 0.0.0.0: its SNMP client's."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = []
    with open(f"/proc/{pid}/net/udp") as table:
        next(table)
        for line in table:
            fields = line.split()
            local, inode = fields[1], fields[9]
            address, port = local.split(":")
            if inode in inodes and address == "00000000":
                ports.append(int(port, 16))
    assert len(ports) == 1, f"expected one UDP socket on 0.0.0.0, found ports {ports}"
    return ports[0]


def burst(daemon: Daemon, port: int) -> list[float]:
    """Fire one burst at ``port`` and time each /healthz answer until it is over."""
    sender = subprocess.Popen(
        [sys.executable, "-c", SENDER, str(port), AGENTS[0], str(ROUNDS), SENDER_ADDRESS],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV,
    )
    assert sender.stdin is not None and sender.stdout is not None
    latencies = []
    conn = http.client.HTTPConnection(daemon.host, daemon.port, timeout=30)
    try:
        assert sender.stdout.readline() == b"ready\n", sender.stderr.read() if sender.stderr else ""
        sender.stdin.write(b"go\n")
        sender.stdin.flush()
        tail = 0
        while tail < 50:  # throughout the burst, then half a second more for the queue
            if sender.poll() is not None:
                tail += 1
            started = time.perf_counter()
            conn.request("GET", "/healthz")
            resp = conn.getresponse()
            resp.read()
            latencies.append(time.perf_counter() - started)
            assert resp.status == 200
            time.sleep(0.01)
    finally:
        conn.close()
        out, err = sender.communicate(timeout=60)
    assert sender.returncode == 0, err.decode()
    assert int(out) == ROUNDS * 21
    return latencies


def test_hostile_datagrams_neither_stall_healthz_nor_open_faults(daemon: Daemon) -> None:
    """A burst of 2,100 hostile datagrams (6.5 MB) while /healthz is asked every 10 ms."""
    switches = {f"sw-{i}" for i in range(1, len(AGENTS) + 1)}

    def all_up() -> bool:
        up = daemon.samples("netwatch_device_up")
        return set(up) == switches and all(v == 1 for v in up.values())

    wait_for("every switch up", all_up, 30)
    assert daemon.samples("netwatch_fault_open") == {}
    port = snmp_client_port(daemon.proc.pid)
    runs_before = sum(daemon.samples("netwatch_sweep_runs_total").values())

    attempts = []
    for _ in range(ATTEMPTS):
        latencies = burst(daemon, port)
        print(f"/healthz during a burst: {len(latencies)} requests, "
              f"max {max(latencies) * 1000:.1f} ms")
        attempts.append((max(latencies), len(latencies)))
        if max(latencies) <= HEALTHZ_BAR:
            break
    best, asked = min(attempts)
    assert best <= HEALTHZ_BAR, [f"{w * 1000:.1f} ms in {n} answers" for w, n in attempts]
    assert asked >= 100  # asked throughout: the burst takes about two seconds

    wait_for(f"{SWEEPS_AFTER} more sweeps",
             lambda: sum(daemon.samples("netwatch_sweep_runs_total").values())
             >= runs_before + SWEEPS_AFTER, 30)
    assert daemon.samples("netwatch_fault_open") == {}
    assert all_up()
    success = daemon.samples("netwatch_probe_success")
    assert success == dict.fromkeys(switches, 1.0)
