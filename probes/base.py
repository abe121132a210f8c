"""The one shape every probe shares: target in, facts out.

A probe module (``probes/<protocol>.py``) exports (a setting named ``password`` reaches
``parse_params`` already resolved: the inventory takes it only as an ``${ENV}`` reference):

- ``NAME``: the probe's name, the key in ``probes.PROBES``;
- ``DEFAULT_PORT``: the port the check uses unless the inventory overrides it
  (``None`` for portless probes such as ICMP);
- ``MEASUREMENTS``: the names (``Measurement`` members) the probe may put in
  ``ProbeResult.measurements``, declared up front so metrics and tests know them;
- ``Params``: a frozen dataclass of the probe's own settings, with defaults;
- ``parse_params(raw)``: builds ``Params`` from an inventory mapping, raising
  ``ParamError`` naming the field for unknown keys and bad values;
- ``deadline(params, timeout)``: the most wall time one call may take, which the
  runner enforces as a hard cap;
- ``async def probe(target, params, ctx) -> ProbeResult``;
- optionally ``async def probe_batch(targets, params, ctx, spread=0.0)``, which takes
  a whole sweep's targets at once (admitted evenly over ``spread`` seconds when given),
  and ``batch_deadline(targets, params, timeout, spread)``, its hard cap.

A check the monitor's own limits kept from a verdict (``SKIP_REASONS``: the probe's
engine saturated, its batch out of time, local descriptors, buffers or memory short)
is reported with that reason; the monitor then blames no device for it.

Probes report facts only: whether the service answered, why not, and figures.
Faults, thresholds and hysteresis belong to the monitor, not to probes.
"""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

T = TypeVar("T")
LAG_GRACE = 0.05  # seconds a deadline may be handled late before the lateness is given back


class Reason(StrEnum):
    """Why a check failed: a small closed set, safe as a metric label."""

    OK = "ok"
    TIMEOUT = "timeout"
    REFUSED = "refused"
    UNREACHABLE = "unreachable"
    BAD_STATUS = "bad_status"
    AUTH = "auth"
    PROTOCOL = "protocol"
    DENIED = "denied"  # target outside NETWATCH_ALLOWED_NETS: never sent
    ERROR = "error"
    # Not the device's fault: the monitor's own limits kept the check from a verdict.
    LOCAL_RESOURCES = "local_resources"  # EMFILE, ENFILE, ENOBUFS, ENOMEM, MemoryError
    ENGINE_SATURATED = "engine_saturated"  # the shared engine could not take the check in time
    BATCH_OVERRAN = "batch_overran"  # the check's batch ran out of time before it was sent
    CHECK_OVERRAN = "check_overran"  # the check outlived its own deadline: our loop was late


class Measurement(StrEnum):
    """A figure's name in ``ProbeResult.measurements``: a closed set shared by all probes.

    The monitor, metrics and notices read figures by these names (a notice's evidence
    keeps them as ``<check>.<name>``), so a probe declares the ones it reports.
    """

    STATUS_CODE = "status_code"  # http, rtsp (OPTIONS), sip
    DESCRIBE_STATUS_CODE = "describe_status_code"  # rtsp DESCRIBE
    RESPONSE_SECONDS = "response_seconds"  # http, rtsp, onvif_time
    CONNECT_SECONDS = "connect_seconds"  # http, tcp
    RTT_SECONDS = "rtt_seconds"  # icmp (mean of the echoes), sip
    RTT_MIN_SECONDS = "rtt_min_seconds"
    RTT_MAX_SECONDS = "rtt_max_seconds"
    LOSS_RATIO = "loss_ratio"
    JITTER_SECONDS = "jitter_seconds"
    SENT = "sent"  # icmp echoes sent and received
    RECEIVED = "received"
    SYS_UPTIME_SECONDS = "sys_uptime_seconds"  # snmp
    UPLINK_OPER_STATUS = "uplink_oper_status"
    UPLINK_SPEED_BPS = "uplink_speed_bps"
    UPLINK_IN_ERRORS = "uplink_in_errors"
    UPLINK_OUT_ERRORS = "uplink_out_errors"
    # video: counted from PLAY's answer to the end of the sample (probes/video.py)
    VIDEO_PACKETS = "video_packets"  # RTP packets of the video track received
    VIDEO_BYTES_PER_SECOND = "video_bytes_per_second"  # their RTP bytes / sample seconds
    FIRST_PACKET_SECONDS = "first_packet_seconds"  # PLAY's answer to the first; absent if none
    KEYFRAME = "keyframe"  # 1: an H.264 IDR / H.265 IRAP arrived, 0: none (H.264/H.265 only)
    TIMESTAMPS_ADVANCING = "timestamps_advancing"  # 1: RTP time still moved in the 2nd half
    CLOCK_OFFSET_SECONDS = "clock_offset_seconds"  # onvif_time: device clock minus ours


SKIP_REASONS = frozenset({Reason.LOCAL_RESOURCES, Reason.ENGINE_SATURATED, Reason.BATCH_OVERRAN,
                          Reason.CHECK_OVERRAN})
LOCAL_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


class ParamError(ValueError):
    """A probe setting in the inventory is wrong; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Target:
    """Where one check goes: the device id (for logs), its address and port."""

    device: str
    address: str  # an IP literal, IPv4 or IPv6
    port: int = 0  # 0 for portless probes
    timeout: float = 1.0  # seconds for one attempt (one echo, one request)


@dataclass(slots=True)
class ProbeResult:
    """The facts one check found. ``detail`` is for humans, never a metric label."""

    success: bool
    reason: Reason
    detail: str = ""
    measurements: dict[str, float] = field(default_factory=dict)
    info: dict[str, str] = field(default_factory=dict)  # text facts, e.g. sys_descr
    findings: tuple[str, ...] = ()  # non-outage findings, e.g. "open_stream"
    duration_seconds: float = 0.0  # set by the runner

    @property
    def skipped(self) -> bool:
        """True when the monitor's own limits, not the device, decided this result.

        Such a result says nothing about the device: it opens no fault and closes none.
        """
        return self.reason in SKIP_REASONS

    @classmethod
    def ok(cls, detail: str = "", **measurements: float) -> ProbeResult:
        return cls(True, Reason.OK, detail, dict(measurements))

    @classmethod
    def fail(cls, reason: Reason, detail: str, **measurements: float) -> ProbeResult:
        return cls(False, reason, detail, dict(measurements))


class DeadlinePassed(TimeoutError):
    """``within``'s own deadline passed (not a timeout raised by the work itself)."""


async def within(work: Awaitable[T], seconds: float) -> T:
    """``work``'s result if it completes within ``seconds``, else ``DeadlinePassed``.

    Unlike ``asyncio.timeout``, a reply that arrived in time but is handled in the same
    loop turn as the deadline (the loop was busy) still counts: with ``asyncio.timeout``
    the deadline's cancellation would win that race, and the monitor's own lag would be
    reported as the device's timeout. Likewise, when the deadline itself is handled
    late (a busy loop), the wait is extended by that lateness, once.
    """
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(work)
    deadline = loop.time() + seconds
    try:
        await _done_or_after(loop, task, seconds)
        late = loop.time() - deadline
        if not task.done() and late > LAG_GRACE:
            # The loop woke us late, so it was busy with other work: the device gets
            # back the time it lost to us (at most ``seconds``), once.
            await _done_or_after(loop, task, min(late, seconds))
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not task.done():
        task.cancel()
        raise DeadlinePassed
    return task.result()


async def _done_or_after(loop: asyncio.AbstractEventLoop, task: asyncio.Future[Any],
                         seconds: float) -> None:
    """Return when ``task`` is done or ``seconds`` have passed, whichever comes first.

    ``asyncio.wait((task,), timeout=seconds)`` without its generality (sets of futures,
    coroutine checks, done/pending sets): the same callbacks in the same order, at
    half the CPU. Every service check passes here several times per sweep.
    """
    waiter = loop.create_future()

    def release(_: object = None) -> None:
        if not waiter.done():
            waiter.set_result(None)

    timer = loop.call_later(seconds, release)
    task.add_done_callback(release)
    try:
        await waiter
    finally:
        timer.cancel()
        task.remove_done_callback(release)


def reason_for_oserror(exc: OSError) -> Reason:
    """Map a socket error to a reason the operator can act on."""
    if exc.errno in LOCAL_ERRNOS:
        return Reason.LOCAL_RESOURCES
    if isinstance(exc, ConnectionRefusedError) or exc.errno == errno.ECONNREFUSED:
        return Reason.REFUSED
    if exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN):
        return Reason.UNREACHABLE
    if isinstance(exc, TimeoutError) or exc.errno == errno.ETIMEDOUT:
        return Reason.TIMEOUT
    return Reason.ERROR


class ProbeContext:
    """Loop-bound resources shared by all probes of a sweep (ICMP engine, SNMP socket).

    Each probe module asks for its resource by key with a factory that returns an
    async context manager; the first caller creates it, later callers share it,
    and ``aclose`` tears all of them down in reverse order.
    """

    def __init__(self, settings: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.settings = settings or {}  # per probe: options of its shared resource
        self._stack = AsyncExitStack()
        self._resources: dict[str, Any] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def resource(self, key: str, factory: Callable[[], AbstractAsyncContextManager[T]]) -> T:
        if key in self._resources:
            return self._resources[key]  # type: ignore[no-any-return]
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key not in self._resources:
                self._resources[key] = await self._stack.enter_async_context(factory())
        return self._resources[key]  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        self._resources.clear()
        await self._stack.aclose()

    async def __aenter__(self) -> ProbeContext:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

