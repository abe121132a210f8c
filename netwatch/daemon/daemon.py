"""``netwatch run``: the monitor, its scheduler and its web app in one process.

Startup order: descriptor limit raised → store (opened on the database thread,
where every store call of the daemon runs) → probe context → monitor → exposition →
the first lease round (the counties taken, their open faults adopted: no request
sees a county's faults missing) → web app listening (behind the connection guard) →
scheduler. SIGHUP or ``POST /-/reload``
re-reads the inventory; a bad file is refused and the old one keeps running.
SIGTERM/SIGINT stop the scheduler, give the fault changes still waiting for the store
a last chance (``STOP_WAIT``), release the leases (other instances take over at
once), then stop the web app, the probes and the database thread.

Several instances over one database share a city: each is active for the counties
whose leases it holds and standby for the others it was started for
(``--counties``); see ``leasing``. One instance alone simply holds every lease. The
time a county has no active instance (between a stop or a crash and the next
takeover) is a monitoring gap, recorded at the takeover. Each device's state changes
are written to the store by its county's active instance (``StatusWriter``), so the
web API of any instance answers for every county.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import signal
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from aiohttp import web

from netwatch.daemon.defaults import DEFAULT_LISTEN
from netwatch.daemon.descriptors import DEFAULT_RESERVE, raise_nofile, web_connection_cap
from netwatch.daemon.duties import Duties
from netwatch.daemon.heap import settle
from netwatch.daemon.leasing import LeaseKeeper
from netwatch.daemon.scheduler import SweepScheduler
from netwatch.daemon.threads import duty_pool, in_thread
from netwatch.inventory import Inventory, InventoryError, load_inventory
from netwatch.metrics import Exposition, clock_families, warning_families
from netwatch.monitor import (
    LEASE_TTL,
    AllowList,
    Capacity,
    HostClock,
    Monitor,
    Ownership,
    Runner,
    Shadow,
    StatusWriter,
    Trends,
    assess,
    problems,
)
from netwatch.store import Store, StoreThread, Target
from netwatch.web import (
    DEFAULT_LIMIT,
    DEFAULT_OVERALL,
    DEFAULT_WORKERS,
    GuardedSite,
    GuardStats,
    RateLimiter,
    RenderLimits,
    RenderStats,
    RequestLog,
    SessionStore,
    StoredTokens,
    WebDeps,
    WebLimits,
    create_app,
    guard_families,
    render_families,
)
from probes.base import ProbeContext

log = logging.getLogger(__name__)

STOP_WAIT = 10.0  # seconds, at shutdown, for fault and state changes still waiting for the store


class ListenError(ValueError):
    """The listen address is malformed or unsafe without TLS or a stated proxy."""


@dataclass(frozen=True, slots=True)
class Listen:
    host: str
    port: int

    @property
    def loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_listen(text: str) -> Listen:
    """``HOST:PORT`` or ``[V6]:PORT``; the message names what is wrong."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ListenError(f"--listen {text!r}: expected HOST:PORT, e.g. {DEFAULT_LISTEN}")
    return Listen(host, int(port))


@dataclass(slots=True)
class DaemonOptions:
    inventory_path: Path
    db_path: Target  # a SQLite file, or a PostgreSQL URL
    listen: Listen
    tls_cert: Path | None = None
    tls_key: Path | None = None
    behind_proxy: bool = False
    allow: AllowList = field(default_factory=AllowList)
    notice_dir: Path = Path("notices")  # issued notices' files, per county
    web_limits: WebLimits = field(default_factory=WebLimits)
    fd_reserve: int = DEFAULT_RESERVE  # descriptors the web listener leaves to probes
    web_workers: int = DEFAULT_WORKERS  # threads request handlers may use
    render_limits: RenderLimits = field(default_factory=RenderLimits)  # notice files for the web
    auth_failures: int = DEFAULT_LIMIT  # wrong tokens per client address per minute
    auth_failures_total: int = DEFAULT_OVERALL  # wrong tokens per minute, all addresses
    inventory_transform: Callable[[Inventory], Inventory] | None = None  # demo: short intervals
    on_ready: Callable[[str], None] | None = None  # called with the base URL once listening
    capacity: Capacity = field(default_factory=Capacity)  # rates, spread (NETWATCH_*_RATE)
    counties: frozenset[str] | None = None  # the counties to watch (None: every county)
    instance: str | None = None  # unique among a database's instances (default host:port)
    lease_ttl: float = LEASE_TTL  # seconds without renewal before a standby takes over
    shadow: Shadow = Shadow.ICMP  # what a standby probes of the counties it stands by for
    # judge device clocks against this host's whatever its synchronisation (the demo, whose
    # lab plays the clocks from this host's own); otherwise only while it is synchronised
    trust_own_clock: bool = False


def default_instance(listen: Listen) -> str:
    """The instance's name: HOST:PORT of its listener, which no two live processes share
    (with port 0, chosen at bind, the process id stands in: tests only)."""
    port = str(listen.port) if listen.port else f"0-pid{os.getpid()}"
    return f"{socket.gethostname()}:{port}"


def check_exposure(opts: DaemonOptions) -> None:
    """Off loopback, netwatch needs its own TLS or a stated reverse proxy (docs/security.md)."""
    if opts.listen.loopback:
        return
    if bool(opts.tls_cert) != bool(opts.tls_key):
        raise ListenError("--tls-cert and --tls-key go together")
    if not opts.tls_cert and not opts.behind_proxy:
        raise ListenError(
            f"--listen {opts.listen.url} is not loopback: give --tls-cert/--tls-key, or "
            "--behind-proxy when a TLS reverse proxy fronts netwatch"
        )


def metrics_need_token(opts: DaemonOptions) -> bool:
    """/metrics (names, addresses, coordinates) is open only to loopback clients.

    Behind a proxy every client arrives from the proxy, often on loopback, so there
    the loopback listen address says nothing about who asks.
    """
    return opts.behind_proxy or not opts.listen.loopback


class Daemon:
    """The running parts and the reload path shared by SIGHUP and ``POST /-/reload``."""

    def __init__(self, opts: DaemonOptions, inventory: Inventory) -> None:
        self.opts = opts
        self.inventory = inventory
        limits = opts.web_limits
        cap = web_connection_cap(limits.max_connections, raise_nofile(), opts.fd_reserve)
        self.web_limits = replace(limits, max_connections=cap,
                                  per_address=0 if opts.behind_proxy else limits.per_address)
        self.web_stats = GuardStats()
        self.render_stats = RenderStats()
        self.threads = duty_pool()  # the duties' own: no web request can fill it
        # opened and migrated on its own thread; nothing else runs yet while this waits
        # a session idle inside a transaction for a whole lease is this process stopped
        # mid-transaction (none of its rounds can have renewed meanwhile: they run on the
        # same thread): the server ends it, or its write lock would keep every standby out
        self.db = StoreThread.open(opts.db_path, opener=lambda: Store.open(
            opts.db_path, idle_limit=opts.lease_ttl))
        self.tokens = StoredTokens(self.db)
        self._reload_lock = asyncio.Lock()
        self._tasks: set[asyncio.Future[None]] = set()

    def _load(self) -> Inventory:
        inventory = load_inventory(self.opts.inventory_path)
        transform = self.opts.inventory_transform
        return transform(inventory) if transform else inventory

    async def reload(self) -> dict[str, Any]:
        """Re-read the inventory; on problems keep the old one and report them."""
        async with self._reload_lock:
            try:
                inventory = await in_thread(self.threads, self._load)
            except InventoryError as exc:
                self.exposition.reload_result(False, time.time())
                log.error("reload refused: %d problem(s) in %s", len(exc.problems),
                          self.opts.inventory_path)
                return {"ok": False, "problems": [str(p) for p in exc.problems]}
            except OSError as exc:
                self.exposition.reload_result(False, time.time())
                return {"ok": False, "problems": [f"{self.opts.inventory_path}: {exc.strerror}"]}
            report = self.monitor.reload(inventory)
            self.inventory = inventory
            self._assess_capacity()
            self.exposition.on_inventory(inventory)
            self.scheduler.sync()
            await self.duties.schedule()
            settle()  # the new inventory is long-lived, what the old one left is garbage
            self.exposition.reload_result(True, time.time())
            log.info("inventory reloaded: %s", report)
            return {"ok": True, "added": report.added, "removed": report.removed,
                    "changed": report.changed, "kept": report.kept}

    async def run(self, stop: asyncio.Event) -> None:
        try:
            await self._run(stop)
        finally:
            await asyncio.to_thread(self.db.close)  # after the calls still queued

    async def _run(self, stop: asyncio.Event) -> None:
        capacity = self.opts.capacity
        async with ProbeContext({"icmp": {"rate": capacity.icmp_rate}}) as ctx:
            runner = Runner(ctx, self.opts.allow, spread=capacity.spread, capacity=capacity)
            self.ownership = Ownership("", self.opts.counties, self.opts.shadow)  # named at bind
            self.monitor = Monitor(self.inventory, runner, self.db, ownership=self.ownership)
            if not self.opts.trust_own_clock:  # device clocks judged only on a synced host
                self.monitor.host_clock = HostClock()
            self._assess_capacity()
            self.leases = LeaseKeeper(self.db, self.monitor, lambda: self.inventory,
                                      ttl=self.opts.lease_ttl)
            self.exposition = Exposition(self.monitor)
            self.exposition.attach()
            self.exposition.add_provider(lambda: guard_families(self.web_stats, self.web_limits))
            self.exposition.add_provider(lambda: render_families(self.render_stats))
            self.exposition.add_provider(clock_families)  # the host clock, for devices' drift
            self.scheduler = SweepScheduler(self.monitor, self.inventory.timezone)
            self.duties = Duties(self.db, lambda: self.inventory, self.opts.notice_dir,
                                 self.scheduler, self.threads, self.ownership)
            self.duties.attach(self.exposition)
            self.status = StatusWriter(self.monitor)  # any instance answers for any county
            self.monitor.listeners.append(self.status.on_sweep)
            self.trends = Trends(self.monitor)  # early warnings (预警), baselines kept
            self.monitor.listeners.append(self.trends.on_sweep)
            self.exposition.add_provider(lambda: warning_families(self.trends))
            self.exposition.add_provider(self.leases.families)
            self.leases.listeners.append(self._on_leases)
            settle()  # after the exposition's 100,000s of label sets, too
            app = create_app(
                WebDeps(
                    monitor=self.monitor,
                    roles=self.leases.roles,
                    leading=lambda: self.ownership.leading,
                    tokens=self.tokens,
                    limiter=RateLimiter(limit=self.opts.auth_failures,
                                        overall=self.opts.auth_failures_total),
                    exposition=self.exposition,
                    reload=self.reload,
                    metrics_auth=metrics_need_token(self.opts),
                    behind_proxy=self.opts.behind_proxy,
                    db=self.db,
                    sessions=SessionStore(db=self.db),
                    coverage=self.duties.current_coverage,
                    web_workers=self.opts.web_workers,
                    body_timeout=self.web_limits.body_timeout,
                    render_limits=self.opts.render_limits,
                    render_stats=self.render_stats,
                )
            )
            # the counties taken and their faults adopted before anyone can ask
            self.ownership.holder = self.opts.instance or default_instance(self.opts.listen)
            await self.leases.start()
            web_runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0,
                                       keepalive_timeout=self.opts.web_limits.keepalive_timeout,
                                       logger=RequestLog())
            await web_runner.setup()
            try:
                await self._serve(web_runner, stop)
            finally:
                await self.scheduler.shutdown()
                await self.monitor.writes.flush(STOP_WAIT)
                await self.status.flush(STOP_WAIT)
                await self.trends.flush(STOP_WAIT)
                await self.leases.stop()  # watched until now; the others may take over
                await web_runner.cleanup()
                self.threads.shutdown(wait=False, cancel_futures=True)
                await self.monitor.writes.close()
                await self.status.close()
                await self.trends.close()

    def _on_leases(self, taken: set[str], lost: set[str]) -> None:
        """The counties this instance is active for changed: its series follow, and the
        duties catch up what a lost leader missed."""
        self.exposition.on_roles()
        task = asyncio.ensure_future(self.duties.on_leases(taken, lost))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _assess_capacity(self) -> None:
        """Compare the inventory's load with the capacity settings; say plainly if over."""
        capacity = self.opts.capacity
        loads = assess(self.inventory.devices, capacity)
        self.monitor.capacity = loads
        self.monitor.capacity_problems = problems(loads, capacity)
        for problem in self.monitor.capacity_problems:
            log.warning("over capacity: %s", problem)
        log.info("load: %s", ", ".join(f"{load.resource} {load.wanted:,.0f}/s of "
                                         f"{load.limit:,.0f}/s" for load in loads))

    async def _serve(self, web_runner: web.AppRunner, stop: asyncio.Event) -> None:
        listen = self.opts.listen
        context = None
        if self.opts.tls_cert and self.opts.tls_key:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.opts.tls_cert, self.opts.tls_key)
        site = GuardedSite(web_runner, listen.host, listen.port, ssl_context=context,
                           limits=self.web_limits, stats=self.web_stats)
        await site.start()
        scheme = "https" if context else "http"
        port = site.bound_port
        base = f"{scheme}://{Listen(listen.host, port).url}"
        log.info("listening on %s", base)
        self.scheduler.start()
        await self.duties.schedule()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self.reload()))
        if self.opts.on_ready:
            self.opts.on_ready(base)
        try:
            await stop.wait()
        finally:
            loop.remove_signal_handler(signal.SIGHUP)


async def run_daemon(opts: DaemonOptions, inventory: Inventory) -> None:
    """Run until SIGTERM or SIGINT."""
    check_exposure(opts)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await Daemon(opts, inventory).run(stop)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
