"""The ICMP probe: several echoes per check through the loop's shared engine.

Measurements, over the echoes answered in time: ``rtt_seconds`` (mean),
``rtt_min_seconds``, ``rtt_max_seconds``; ``jitter_seconds`` is the mean absolute
difference of consecutive RTTs in send order (RFC 3550's |D(i-1, i)|, averaged
arithmetically instead of through its 1/16 running filter; only with two replies or
more); ``loss_ratio`` = 1 - received / count; ``sent`` and ``received`` are counts.
Each RTT runs from just before the echo's send to the kernel's arrival stamp of its
reply (``probes.icmp.receive``), so a sweep's bursts do not inflate RTT or jitter.

Success means at least one reply: how much loss is too much is the monitor's call.
No reply at all is ``timeout`` ("no reply to 5 echoes"), ``unreachable`` if an ICMP
destination-unreachable quoted one of our echoes, ``error`` if the engine could not
send (no ICMP socket permitted, a local firewall refused); when what kept the echoes
from leaving was this process's own limit it is a skip reason instead
(``engine_saturated``, ``batch_overran``, ``local_resources``), never the target's;
so is an echo whose reply our kernel may have dropped on a full receive queue
(``local_resources``, no ``loss_ratio``: the loss is unknown).

Deadline rule: ``Target.timeout`` is the wait for each echo's reply after it is
actually sent; echoes leave ``interval`` apart. The engine admits a check within
``max_queue_delay`` (else fails it as saturated) and then sends each echo within
``max_queue_delay`` of its due time (see ``probes.icmp.engine``), so one call ends
within ``2 x max_queue_delay + (count - 1) x interval + timeout``; ``deadline`` adds a
fixed margin for loop lag. ``probe_batch`` admits its targets in order, paced over
``spread`` seconds when asked (else as fast as the engine sends), waits at most
``admit_window`` for the last admission and ends within ``batch_deadline``: deadlines
follow from the batch's size and pace, not a fixed figure.

ping3 has no role: it runs one blocking socket per ping, so asyncio needs a thread per
concurrent ping; a 64-thread pool did 800 pings/s here, ~40x below this engine.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from operator import sub
from typing import Any, cast

from probes import durations
from probes.base import Measurement, ParamError, ProbeContext, ProbeResult, Reason, Target
from probes.durations import DURATION_HINT
from probes.icmp.engine import DEFAULT_MAX_QUEUE_DELAY, DEFAULT_RATE, YIELD_EVERY, IcmpEngine
from probes.icmp.track import Ping

NAME = "icmp"
DEFAULT_PORT = None
MEASUREMENTS = (
    Measurement.RTT_SECONDS,
    Measurement.RTT_MIN_SECONDS,
    Measurement.RTT_MAX_SECONDS,
    Measurement.LOSS_RATIO,
    Measurement.JITTER_SECONDS,
    Measurement.SENT,
    Measurement.RECEIVED,
)
MARGIN = 0.25  # seconds of loop lag the deadline tolerates
OVERRUN_FACTOR = 2.0  # a batch may take twice its own sending time when sharing the engine


@dataclass(frozen=True, slots=True)
class Params:
    """Echoes per check, seconds between this target's echoes, payload bytes."""

    count: int = 5
    interval: float = 0.02
    size: int = 56


def parse_params(raw: Mapping[str, Any]) -> Params:
    """Params from an inventory mapping; ParamError names the bad field."""
    unknown = sorted(set(raw) - {"count", "interval", "size"})
    if unknown:
        raise ParamError(unknown[0], "unknown setting of icmp (known: count, interval, size)")
    defaults = Params()
    count = _int(raw, "count", defaults.count, 1, 100)
    size = _int(raw, "size", defaults.size, 0, 65507)
    interval = defaults.interval
    if "interval" in raw:
        interval = _seconds(raw["interval"])
        if not 0 <= interval <= 10:
            raise ParamError("interval", f"must be between 0 and 10 s, got {raw['interval']!r}")
    return Params(count, interval, size)


def _int(raw: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    """An integer setting within [low, high]."""
    value = raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParamError(name, f"must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise ParamError(name, f"must be between {low} and {high}, got {value}")
    return value


def _seconds(value: object) -> float:
    """The echo interval, in the duration syntax of every setting ('20ms', '0.5s', 1)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)  # the caller checks the range
    try:
        return durations.seconds(value)
    except durations.BadDuration:
        raise ParamError("interval", f"must be {DURATION_HINT}, got {value!r}") from None


def deadline(params: Params, timeout: float) -> float:
    """The most wall time one call takes, by the rule in the module docstring."""
    return 2 * DEFAULT_MAX_QUEUE_DELAY + (params.count - 1) * params.interval + timeout + MARGIN


def admit_window(targets: int, params: Params, spread: float, rate: float = DEFAULT_RATE) -> float:
    """How long a batch may wait for its pings' admission: its own need, twice over.

    Its need is the longer of ``spread`` (the pacing the caller asked for) and the time
    the engine takes to send its echoes alone; twice that leaves room for sharing the
    engine fairly with the other groups sweeping at once.
    """
    return OVERRUN_FACTOR * max(spread, targets * params.count / rate) + DEFAULT_MAX_QUEUE_DELAY


def batch_deadline(targets: int, params: Params, timeout: float, spread: float = 0.0) -> float:
    """The most wall time one ``probe_batch`` call over ``targets`` targets takes."""
    return admit_window(targets, params, spread) + deadline(params, timeout)


def _engine(ctx: ProbeContext) -> AbstractAsyncContextManager[IcmpEngine]:
    """The loop's engine, with the context's ``icmp`` settings (rate, max_queue_delay)."""
    return IcmpEngine.open(**ctx.settings.get(NAME, {}))


async def probe(target: Target, params: Params, ctx: ProbeContext) -> ProbeResult:
    """Ping one target ``params.count`` times."""
    engine = await ctx.resource(NAME, lambda: _engine(ctx))
    stats = await engine.ping(
        target.address, params.count, params.interval, target.timeout, params.size
    )
    return result(stats)


async def probe_batch(
    targets: Sequence[Target], params: Params, ctx: ProbeContext, spread: float = 0.0
) -> list[ProbeResult]:
    """Ping many targets at once: the results ``probe`` would give, in input order.

    With ``spread`` > 0 the targets are admitted evenly over that many seconds (a sweep
    paced over its interval) instead of as fast as the engine sends.
    """
    engine = await ctx.resource(NAME, lambda: _engine(ctx))
    by_timeout: dict[float, list[int]] = {}
    for index, target in enumerate(targets):
        by_timeout.setdefault(target.timeout, []).append(index)
    groups = list(by_timeout.items())
    done = await asyncio.gather(
        *(
            engine.ping_many(
                [targets[i].address for i in indexes],
                params.count,
                params.interval,
                timeout,
                params.size,
                admit_window(len(indexes), params, spread, engine.rate),
                len(indexes) / spread if spread > 0 else math.inf,
            )
            for timeout, indexes in groups
        )
    )
    results: list[ProbeResult | None] = [None] * len(targets)
    converted = 0
    for (_timeout, indexes), stats in zip(groups, done, strict=True):
        for index, one in zip(indexes, stats, strict=True):
            found = result(one)
            found.duration_seconds = one.duration
            results[index] = found
            converted += 1
            if not converted % YIELD_EVERY:  # a city's sweep: let the loop turn meanwhile
                await asyncio.sleep(0)
    return results  # type: ignore[return-value]


def result(stats: Ping) -> ProbeResult:
    """The probe's facts from the engine's per-echo figures."""
    if stats.unknown or (stats.skip is not None and stats.received < stats.count):
        # a reply may have been dropped by our own kernel queue, or an echo never left
        # because of our own limits (no buffers): no verdict, and no loss to count
        figures = {"sent": float(stats.sent), "received": float(stats.received)}
        return ProbeResult(False, stats.skip or Reason.LOCAL_RESOURCES, stats.error or "",
                           figures)
    rtts = stats.rtts
    count = stats.count
    if None in rtts:
        rtts = [rtt for rtt in rtts if rtt is not None]
    received = len(rtts)
    if received == 1:  # the common case of a sweep, without sum/min/max
        only = cast("float", rtts[0])
        figures = {
            "sent": float(stats.sent), "received": 1.0, "loss_ratio": 1.0 - 1 / count,
            "rtt_seconds": only, "rtt_min_seconds": only, "rtt_max_seconds": only,
        }
    elif received:
        answered = cast("list[float]", rtts)
        figures = {
            "sent": float(stats.sent),
            "received": float(received),
            "loss_ratio": 1.0 - received / count,
            "rtt_seconds": sum(answered) / received,
            "rtt_min_seconds": min(answered),
            "rtt_max_seconds": max(answered),
            "jitter_seconds": sum(map(abs, map(sub, answered[1:], answered))) / (received - 1),
        }
    else:
        figures = {"sent": float(stats.sent), "received": 0.0, "loss_ratio": 1.0}
    if received:
        detail = f"{received}/{count} replies"
        if stats.unreachable or stats.error:
            detail += f"; {stats.unreachable or stats.error}"
        return ProbeResult(True, Reason.OK, detail, figures)
    if stats.unreachable:
        return ProbeResult(False, Reason.UNREACHABLE, stats.unreachable, figures)
    if stats.error:
        return ProbeResult(False, stats.skip or Reason.ERROR, stats.error, figures)
    return ProbeResult(False, Reason.TIMEOUT, f"no reply to {stats.count} echoes", figures)
