"""Several ``netwatch run`` instances over one PostgreSQL database, as child processes.

Each instance listens on its own loopback address in 127.74.0.x (port 0: the URL is read
from its log), with its own name (``--instance``), log and notices directory, a short
lease (``--lease-ttl 15``) and, when given, its own counties (``--counties``). The
devices are loopback addresses in 127.74.1.x: a TCP service is a ``Service`` on a port
looked up at start, a closed port is one nobody listens on. ``Instance`` stops its
process by PID (``stop``: SIGCONT first if it was paused, then SIGTERM; ``kill``:
SIGKILL). ``Database`` reads the tables as PostgreSQL's administrator, beside the
instances, so a test checks what was written, not what an instance says.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from prometheus_client.parser import text_string_to_metric_families

from netwatch.lab.process import terminate
from netwatch.store.pg_schema import WRITE_LOCK
from tests import pgserver
from tests.daemon.city import listening_url

NET = "127.74.0.0/16"
HOSTS = ("127.74.0.1", "127.74.0.2", "127.74.0.3")  # the instances' listen addresses
TTL = 15.0  # --lease-ttl: the shortest allowed
WAIT = 120.0  # seconds for each state to be reached (two cores, noisy neighbours)
T = TypeVar("T")
Samples = dict[str, dict[tuple[tuple[str, str], ...], float]]


def icmp_missing() -> str | None:
    """Why this process cannot send ICMP echo requests (raw or datagram), None when it can."""
    if os.geteuid() == 0:
        return None
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ping_group_range").read_text().split())
    except (OSError, ValueError):
        return "cannot read net.ipv4.ping_group_range"
    if any(low <= gid <= high for gid in os.getgroups() + [os.getgid()]):
        return None
    return "ICMP needs root or net.ipv4.ping_group_range covering this user's group"


def env() -> dict[str, str]:
    """The instances' environment: the devices' network allowed, the server's password
    variable (set by ``tests.pgserver``) passed on."""
    return {**os.environ, "NETWATCH_ALLOWED_NETS": NET}


class Instance:
    """One ``netwatch run`` of a cluster."""

    def __init__(self, name: str, host: str, root: Path, url: str,
                 counties: Sequence[str] | None = None) -> None:
        self.name, self.host, self.root, self.db_url = name, host, root, url
        self.counties = counties
        self.log = root / f"{name}.log"
        self.notices = root / f"notices-{name}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.paused = False
        self.mark = 0  # the log's size at ``note``: ``since`` reads what came after

    def start(self) -> Instance:
        url = f"{self.db_url}?application_name={self.application}"  # its sessions, by name
        args = [sys.executable, "-m", "netwatch", "run", str(self.root / "inventory.yaml"),
                "--listen", f"{self.host}:0", "--db", url, "--instance", self.name,
                "--lease-ttl", f"{TTL:g}", "--notices-dir", str(self.notices)]
        if self.counties is not None:
            args += ["--counties", ",".join(self.counties)]
        start = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=out, env=env())
        self.url = listening_url(self.proc, self.log, start, WAIT).rstrip("/")
        if not self.url:
            self.stop()
            raise RuntimeError(f"{self.name} did not start: {self.tail()}")
        return self

    @property
    def application(self) -> str:
        """The ``application_name`` of its database sessions."""
        return f"netwatch-{self.name}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def pause(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        os.kill(self.pid, signal.SIGCONT)
        self.paused = False

    def kill(self) -> None:
        """SIGKILL: no clean stop, no lease released."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(30)

    def stop(self) -> int | None:
        """SIGCONT if paused, then SIGTERM (SIGKILL if it hangs); its exit status."""
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        if self.paused and proc.poll() is None:
            os.kill(proc.pid, signal.SIGCONT)
            self.paused = False
        return terminate(proc, 30.0)

    def text(self) -> str:
        return self.log.read_bytes().decode(errors="replace") if self.log.exists() else ""

    def note(self) -> None:
        """Mark the log's end now; ``since`` reads what the instance logs afterwards."""
        self.mark = self.log.stat().st_size

    def since(self) -> str:
        return self.log.read_bytes()[self.mark:].decode(errors="replace")

    def tail(self) -> str:
        return f"--- {self.name} ---\n{self.text()[-4000:]}"

    def request(self, method: str, path: str, token: str | None = None,
                body: Any = None) -> tuple[int, bytes]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def readyz(self) -> dict[str, Any]:
        """The body of ``/readyz`` (its status said by ``ready``)."""
        _, body = self.request("GET", "/readyz")
        return dict(json.loads(body))

    def roles(self) -> tuple[dict[str, str], str]:
        """The counties' roles and the duties' as ``/readyz`` says them."""
        body = self.readyz()
        return body["counties"], body["duties"]

    def metrics(self) -> Samples:
        """Every sample, by name and sorted labels."""
        status, body = self.request("GET", "/metrics")
        assert status == 200, body[:300]
        out: Samples = {}
        for family in text_string_to_metric_families(body.decode()):
            for s in family.samples:
                out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
        return out


def by_label(samples: dict[tuple[tuple[str, str], ...], float], label: str) -> dict[str, float]:
    """One family's samples keyed by one of their labels."""
    return {dict(labels)[label]: value for labels, value in samples.items()}


def sweeps(m: Samples) -> dict[str, float]:
    """Completed sweeps per group."""
    return by_label(m.get("netwatch_sweep_runs_total", {}), "group")


def until(what: str, check: Callable[[], T | None], *watched: Instance,
          wait: float = WAIT) -> T:
    """Poll ``check`` until it returns something other than None or False; fail naming
    ``what`` (with the instances' logs) after ``wait`` seconds, or as soon as a watched
    instance has exited."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        got = check()
        if got is not None and got is not False:
            return got
        for instance in watched:
            assert instance.alive(), f"{instance.name} exited\n{instance.tail()}"
        time.sleep(0.25)
    raise AssertionError(f"{what}: not within {wait:.0f} s\n"
                         + "\n".join(i.tail() for i in watched))


def swept(instance: Instance, times: int = 3) -> None:
    """Wait until every group of ``instance`` has completed ``times`` more sweeps."""
    before = sweeps(instance.metrics())
    until(f"{times} more sweeps of every group of {instance.name}", lambda: all(
        now.get(g, 0) >= n + times for g, n in before.items())
        if (now := sweeps(instance.metrics())) else False, instance)


def make_token(url: str, inventory: Path, role: str = "admin") -> str:
    """``netwatch token create --db URL``: a token the instances check in the database."""
    made = subprocess.run(
        [sys.executable, "-m", "netwatch", "token", "create", "--role", role, "--name",
         f"cluster {role}", "--db", url, "--inventory", str(inventory)],
        env=env(), capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    return made.stdout.strip().splitlines()[-1]


class Database:
    """One database of a test's PostgreSQL server, read as its administrator."""

    def __init__(self, server: pgserver.Server, name: str) -> None:
        self.server, self.name = server, name
        self.url = server.url(name)  # the password as the server's variable

    def rows(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        with self.server.admin(self.name) as conn:
            return [tuple(r) for r in conn.execute(sql, params).fetchall()]  # type: ignore[arg-type]

    def episodes(self) -> list[tuple[Any, ...]]:
        """Every fault episode: id, device, county, fault, first_seen, opened_at, closed_at,
        close_reason."""
        return self.rows("SELECT id, device, county, fault, first_seen, opened_at, closed_at, "
                         "close_reason FROM fault_episodes ORDER BY id")

    def open_episodes(self) -> dict[str, tuple[int, float]]:
        """Device → (episode id, first seen) of its open episode (one per device here)."""
        found: dict[str, tuple[int, float]] = {}
        for device, id_, first_seen in self.rows(
                "SELECT device, id, first_seen FROM fault_episodes WHERE closed_at IS NULL "
                "ORDER BY id"):
            assert device not in found, f"two open episodes of {device}"
            found[device] = (int(id_), float(first_seen))
        return found

    def leases(self) -> dict[str, tuple[str, int, float, float]]:
        """Scope → (holder, generation, acquired, renewed)."""
        return {r[0]: (r[1], int(r[2]), float(r[3]), float(r[4])) for r in self.rows(
            "SELECT scope, holder, generation, acquired, renewed FROM leases")}

    def notices(self) -> list[tuple[str, int, str, float]]:
        """Every notice: county, sequence number, issue date, issued at; by number."""
        return [(r[0], int(r[1]), r[2], float(r[3])) for r in self.rows(
            "SELECT county, seq, issue_date, issued_at FROM notices ORDER BY seq")]

    def gaps(self) -> list[tuple[str | None, float, float, str]]:
        return [(r[0], float(r[1]), float(r[2]), r[3]) for r in self.rows(
            "SELECT county, started, ended, reason FROM monitoring_gaps ORDER BY county, id")]

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """Hold netwatch's write lock (the advisory lock every write transaction takes
        first) inside: every instance's writes wait, and fail after its lock timeout."""
        with self.server.admin(self.name) as conn:
            conn.execute("BEGIN")
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            try:
                yield
            finally:
                conn.execute("ROLLBACK")

    def write_lock_sessions(self, application: str) -> list[tuple[bool, str]]:
        """The sessions of ``application`` holding or awaiting netwatch's write lock:
        (granted, the session's state)."""
        return [(bool(r[0]), str(r[1])) for r in self.rows(
            "SELECT l.granted, a.state FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            "WHERE l.locktype = 'advisory' AND a.application_name = %s "
            "AND a.datname = current_database()", application)]

    def last_issue_run(self) -> float | None:
        found = self.rows("SELECT ran_at FROM schedule_runs WHERE job = 'duty:notices'")
        return float(found[0][0]) if found else None


def numbered(notices: list[tuple[str, int, str, float]]) -> list[tuple[str, int]]:
    """Each notice's county and sequence number."""
    return [(county, seq) for county, seq, *_ in notices]


@contextmanager
def database(server: pgserver.Server) -> Iterator[Database]:
    """A fresh database on ``server``, dropped afterwards."""
    name = server.database("ha")
    try:
        yield Database(server, name)
    finally:
        server.drop(name)


@contextmanager
def running(*instances: Instance) -> Iterator[None]:
    """Stop every instance started inside by PID, whatever happens; a clean stop of those
    still alive is checked (exit status 0)."""
    try:
        yield
    finally:
        codes = {i.name: (i.alive(), i.stop()) for i in instances}
    failed = {name: code for name, (alive, code) in codes.items() if alive and code != 0}
    if failed:
        pytest.fail(f"unclean stop: {failed}\n" + "\n".join(i.tail() for i in instances))
