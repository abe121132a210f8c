"""The device lab: plays an inventory's devices on loopback, with a scenario's faults.

``Lab`` (an async context manager) starts one responder per device check on the
device's own address and port (RTSP, SIP over UDP and TCP, HTTP, TCP, ONVIF, and an
SNMP agent in one ``SnmpAgentPool``), applies the faults that live in the responders
(closed ports, 401/503/open RTSP, video that never comes, freezes or stops, silent SIP
or SNMP, uplink state, reboots, growing uplink error counters, a camera clock's
offset), and the ones that live in the kernel through its own nftables table
(unreachable, flapping, echo loss, fixed or in steps over time, echo latency through
the NFQUEUE delayer). Leaving the context undoes all of it. ``run_lab`` runs a lab
until stopped, SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
import socket
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from netwatch.inventory import Device, Inventory
from netwatch.lab.delay import Delayer, DelayUnavailable
from netwatch.lab.faults import Injected
from netwatch.lab.host import address_problems, raise_fd_limit
from netwatch.lab.netfilter import FirewallError, LabFirewall, firewall_problem
from netwatch.lab.onvif import OnvifProtocol, OnvifState
from netwatch.lab.process import LabError
from netwatch.lab.responders import (
    HttpProtocol,
    RtspMode,
    RtspProtocol,
    RtspState,
    TcpProtocol,
    bound_socket,
    serve_tcp,
)
from netwatch.lab.rtp import VideoMode
from netwatch.lab.scenario import Fault, Scenario, effective_faults
from netwatch.lab.sip_responder import SipDatagram, SipState, SipStream
from netwatch.lab.snmp_agent import AgentState, SnmpAgentPool

log = logging.getLogger(__name__)
DEFAULT_TABLE = "netwatch_lab"
DEFAULT_QUEUE = 4716  # the lab's NFQUEUE number
KERNEL_FAULTS = frozenset({Injected.UNREACHABLE, Injected.FLAPPING, Injected.DEGRADED})
RTSP_MODES: dict[str, str] = {Injected.RTSP_401: RtspMode.AUTH_ALL,
                              Injected.RTSP_503: RtspMode.UNAVAILABLE,
                              Injected.OPEN_STREAM: RtspMode.OPEN}
VIDEO_MODES: dict[str, str] = {Injected.NO_VIDEO: VideoMode.NONE,
                               Injected.VIDEO_FROZEN: VideoMode.FROZEN,
                               Injected.VIDEO_STOPS: VideoMode.STOPS}


@dataclass(frozen=True, slots=True)
class LabInfo:
    """What a started lab serves, which faults it applied and what it could not do."""

    devices: int
    responders: dict[str, int]  # rtsp, sip_udp, sip_tcp, http, tcp, snmp, onvif
    faults: dict[str, int]  # fault kind -> devices, cascades included
    not_applied: tuple[str, ...]  # devices whose fault needs a capability that is missing
    unavailable: dict[str, str]  # capability -> why (e.g. nftables: needs root)
    table: str | None  # the lab's nftables table, None without nftables
    queue: int | None  # the NFQUEUE number, None without a delayer
    startup_seconds: float
    event_loop: str
    fd_limit: int

    def to_json(self) -> dict[str, Any]:
        """Plain data for the ``ready`` line that other programs read."""
        return asdict(self)


@dataclass(slots=True)
class _Plan:
    """The kernel side of the faults: what goes into the lab table."""

    unreachable: set[str] = field(default_factory=set)
    loss: dict[str, float] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    flapping: dict[float, list[str]] = field(default_factory=lambda: defaultdict(list))
    steps: dict[float, dict[str, tuple[float, ...]]] = field(  # every → address → losses
        default_factory=lambda: defaultdict(dict))


class Lab:
    """``async with Lab(inventory, scenario) as lab:`` serves until the block ends."""

    def __init__(self, inventory: Inventory, scenario: Scenario | None = None, *,
                 table: str = DEFAULT_TABLE, queue: int = DEFAULT_QUEUE,
                 firewall: bool = True) -> None:
        self.inventory = inventory
        self.faults: dict[str, Fault] = (
            effective_faults(inventory, scenario) if scenario is not None else {})
        self.table = table
        self.queue = queue
        self.use_firewall = firewall
        self.rtsp: dict[str, RtspState] = {}
        self.sip: dict[str, SipState] = {}
        self.agents: dict[str, AgentState] = {}
        self.onvif: dict[str, OnvifState] = {}
        self.info: LabInfo | None = None
        self._servers: list[asyncio.Server] = []
        self._datagrams: list[asyncio.BaseTransport] = []
        self._bound: set[tuple[str, int, str]] = set()
        self._counts: Counter[str] = Counter()
        self._pool = SnmpAgentPool()
        self._firewall: LabFirewall | None = None
        self._delayer: Delayer | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._loss: dict[str, float] = {}  # address → echo loss now (the kernel's rules)

    async def __aenter__(self) -> Lab:
        try:
            await self.start()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Bring up firewall, responders and fault timers; ``info`` says what runs."""
        began = time.perf_counter()
        refused = address_problems(self.inventory)
        if refused:
            raise LabError("\n".join(refused))
        fd_limit = raise_fd_limit()
        unavailable: dict[str, str] = {}
        plan = self._plan()
        kernel_ok = await self._start_kernel(plan, unavailable)
        await self._pool.__aenter__()
        for device in self.inventory.devices:
            await self._start_device(device, self.faults.get(device.id))
        reboots: dict[float, list[AgentState]] = defaultdict(list)
        for device_id, fault in self.faults.items():
            if fault.kind == Injected.REBOOTED and device_id in self.agents:
                reboots[fault.period].append(self.agents[device_id])
        for period, states in reboots.items():
            self._tasks.append(asyncio.create_task(self._reboot(period, states)))
        for device_id, fault in self.faults.items():
            if fault.kind == Injected.SNMP_ERRORS and device_id in self.agents:
                self._tasks.append(asyncio.create_task(
                    self._errors(fault.period, fault.errors, self.agents[device_id])))
        not_applied = tuple(
            d for d, f in self.faults.items()
            if (f.kind in KERNEL_FAULTS and not kernel_ok)
            or (f.kind == Injected.DEGRADED and f.latency and self._delayer is None)
        )
        if not_applied:
            log.warning("faults not applied (%s): %s", "; ".join(unavailable.values()),
                        ", ".join(not_applied))
        self.info = LabInfo(
            devices=len(self.inventory.devices),
            responders=dict(self._counts),
            faults=dict(Counter(f.kind for f in self.faults.values())),
            not_applied=not_applied,
            unavailable=unavailable,
            table=self.table if self._firewall is not None else None,
            queue=self.queue if self._delayer is not None else None,
            startup_seconds=round(time.perf_counter() - began, 3),
            event_loop=type(asyncio.get_running_loop()).__module__.split(".")[0],
            fd_limit=fd_limit,
        )

    def _plan(self) -> _Plan:
        plan = _Plan()
        address = {d.id: d.address for d in self.inventory.devices}
        for device_id, fault in self.faults.items():
            if fault.kind == Injected.UNREACHABLE:
                plan.unreachable.add(address[device_id])
            elif fault.kind == Injected.FLAPPING:
                plan.unreachable.add(address[device_id])  # starts down
                plan.flapping[fault.period].append(address[device_id])
            elif fault.kind == Injected.DEGRADED:
                if fault.loss:
                    plan.loss[address[device_id]] = fault.loss
                if fault.steps:
                    plan.steps[fault.every][address[device_id]] = fault.steps
                if fault.latency:
                    plan.delays[address[device_id]] = fault.latency
        return plan

    async def _start_kernel(self, plan: _Plan, unavailable: dict[str, str]) -> bool:
        """Open the lab table (and the delayer); False when faults cannot go in the kernel."""
        problem = firewall_problem() if self.use_firewall else "firewall disabled"
        if problem is not None:
            unavailable["nftables"] = problem
            return False
        if plan.delays:
            delayer = Delayer(self.queue, plan.delays)
            try:
                delayer.start()
                self._delayer = delayer
            except DelayUnavailable as exc:
                unavailable["nfqueue"] = str(exc)
        self._firewall = LabFirewall(self.table, self.queue)
        delayed = list(plan.delays) if self._delayer is not None else []
        try:
            await self._firewall.open(plan.unreachable, plan.loss, delayed)
        except (FirewallError, OSError) as exc:
            raise LabError(f"cannot set up nftables table {self.table}: {exc}") from None
        for period, addresses in plan.flapping.items():
            self._tasks.append(asyncio.create_task(self._flap(period, addresses)))
        self._loss = dict(plan.loss)
        for every, steps in plan.steps.items():
            self._tasks.append(asyncio.create_task(self._step(every, steps)))
        return True

    async def _start_device(self, device: Device, fault: Fault | None) -> None:
        kind = fault.kind if fault is not None else None
        closed = set(fault.checks) if fault is not None and kind == Injected.SERVICE_DOWN else set()
        # ONVIF first: its listener also serves the web page when http shares its port
        for check in sorted(device.checks, key=lambda c: c.probe != "onvif_time"):
            if check.name in closed or check.probe == "icmp":
                continue
            where = (device.address, check.port)
            try:
                if check.probe in ("rtsp", "video"):
                    state = self.rtsp.setdefault(device.id, RtspState(
                        device.id, device.address, check.port,
                        RTSP_MODES.get(kind or "", RtspMode.PROTECTED)))
                    state.credentials = state.credentials or check.params.credentials
                    if check.probe == "video":
                        state.video = VIDEO_MODES.get(kind or "", VideoMode.FLOWING)
                    await self._listen(where, "rtsp", functools.partial(RtspProtocol, state))
                elif check.probe == "sip":
                    silent = kind == Injected.SIP_SILENT
                    sip = self.sip.setdefault(device.id, SipState(device.id, silent))
                    await self._listen(where, "sip_tcp", functools.partial(SipStream, sip))
                    await self._datagram(where, "sip_udp", functools.partial(SipDatagram, sip))
                elif check.probe == "http":
                    await self._listen(where, "http", functools.partial(HttpProtocol, device.id))
                elif check.probe == "tcp":
                    await self._listen(where, "tcp", TcpProtocol)
                elif check.probe == "snmp":
                    await self._agent(device, check.port, check.params, fault)
                elif check.probe == "onvif_time":
                    p = check.params
                    onvif = self.onvif.setdefault(device.id, OnvifState(
                        device.id, p.path, p.user, p.password,
                        fault.offset if fault is not None else 0.0))
                    await self._listen(where, "onvif", functools.partial(OnvifProtocol, onvif))
            except OSError as exc:
                raise LabError(f"device {device.id}: check {check.name}: cannot serve "
                               f"{device.address}:{check.port}: {exc.strerror or exc}") from None

    async def _listen(self, where: tuple[str, int], what: str,
                      factory: Callable[[], asyncio.Protocol]) -> None:
        if (*where, "tcp") in self._bound:
            return  # another check of the device already listens there
        self._servers.append(await serve_tcp(where[0], where[1], factory))
        self._bound.add((*where, "tcp"))
        self._counts[what] += 1

    async def _datagram(self, where: tuple[str, int], what: str,
                        factory: Callable[[], asyncio.DatagramProtocol]) -> None:
        if (*where, "udp") in self._bound:
            return
        sock = bound_socket(where[0], where[1], socket.SOCK_DGRAM)
        loop = asyncio.get_running_loop()
        try:
            transport, _ = await loop.create_datagram_endpoint(factory, sock=sock)
        except BaseException:
            sock.close()
            raise
        self._datagrams.append(transport)
        self._bound.add((*where, "udp"))
        self._counts[what] += 1

    async def _agent(self, device: Device, port: int, params: Any, fault: Fault | None) -> None:
        if device.id in self.agents:
            return
        uplink = getattr(params, "uplink_if", None)  # ifIndex, ifName or None
        if isinstance(uplink, int):
            if_index, if_name = uplink, f"ge-0/0/{uplink}"
        else:
            if_index, if_name = 1, uplink or "ge-0/0/1"
        state = AgentState(sys_descr=f"netwatch lab {device.kind}: {device.name}",
                           sys_name=device.id, if_index=if_index, if_name=if_name)
        if fault is not None:
            state.oper_status = 2 if fault.kind == Injected.UPLINK_DOWN else 1
            if fault.kind == Injected.UPLINK_SLOW:
                state.high_speed_mbps = int(fault.speed_bps / 1e6)
            state.silent = fault.kind == Injected.SNMP_TIMEOUT
        credentials = params.credentials
        community = credentials.decode() if isinstance(credentials, bytes) else None
        v3 = None if isinstance(credentials, bytes) else credentials
        await self._pool.add(device.address, port, state, community, v3)
        self.agents[device.id] = state
        self._counts["snmp"] += 1

    async def _flap(self, period: float, addresses: list[str]) -> None:
        """Alternate the addresses between dropped and answering every ``period``."""
        down = True
        while True:
            await asyncio.sleep(period)
            down = not down
            try:
                assert self._firewall is not None
                await self._firewall.set_unreachable(addresses, down)
            except (FirewallError, OSError) as exc:
                log.warning("flapping %s: %s", ", ".join(addresses), exc)

    async def _step(self, every: float, steps: dict[str, tuple[float, ...]]) -> None:
        """Move each address's echo loss to its next step every ``every``; the last stays."""
        for n in range(1, max(len(s) for s in steps.values())):
            await asyncio.sleep(every)
            for address, losses in steps.items():
                self._loss[address] = losses[min(n, len(losses) - 1)]
            try:
                assert self._firewall is not None
                await self._firewall.set_loss(self._loss)
            except (FirewallError, OSError) as exc:
                log.warning("loss step of %s: %s", ", ".join(steps), exc)

    async def _reboot(self, period: float, states: list[AgentState]) -> None:
        """Restart the agents' uptime every ``period``, as a device that keeps rebooting."""
        while True:
            await asyncio.sleep(period)
            for state in states:
                state.reboot()

    async def _errors(self, period: float, errors: int, state: AgentState) -> None:
        """Add ``errors`` to the uplink's in and out error counters every ``period``, as a
        failing link or port would (an early warning, no fault)."""
        while True:
            await asyncio.sleep(period)
            state.in_errors += errors
            state.out_errors += errors

    async def close(self) -> None:
        """Stop everything the lab started and delete its nftables table."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for server in self._servers:
            server.close()
        for transport in self._datagrams:
            transport.close()
        self._servers.clear()
        self._datagrams.clear()
        await self._pool.__aexit__(None, None, None)
        if self._delayer is not None:
            self._delayer.close()
            self._delayer = None
        if self._firewall is not None:
            await self._firewall.close()


async def run_lab(
    inventory: Inventory,
    scenario: Scenario | None,
    *,
    ready: Callable[[LabInfo], None] | None = None,
    stop: asyncio.Event | None = None,
    table: str = DEFAULT_TABLE,
    queue: int = DEFAULT_QUEUE,
    firewall: bool = True,
) -> None:
    """Serve the lab until ``stop`` is set, SIGTERM/SIGINT arrive or the task is cancelled."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    handled = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not the main thread: the caller stops us
    try:
        async with Lab(inventory, scenario, table=table, queue=queue, firewall=firewall) as lab:
            assert lab.info is not None
            if ready is not None:
                ready(lab.info)
            await stop.wait()
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
