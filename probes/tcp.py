"""The ``tcp`` probe: can a connection to the device's port be opened, and how fast.

The port always comes from the inventory (there is no default TCP service).
Deadline: one step, the connect, so ``timeout``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from probes import textconn
from probes.base import Measurement, ParamError, ProbeContext, ProbeResult, Reason, Target

NAME = "tcp"
DEFAULT_PORT: int | None = None
MEASUREMENTS = (Measurement.CONNECT_SECONDS,)


@dataclass(frozen=True, slots=True)
class Params:
    """No settings yet: the connect is the whole check."""


def parse_params(raw: Mapping[str, Any] | None) -> Params:
    """Accept an empty mapping; name the first unknown setting otherwise."""
    if raw:
        raise ParamError(sorted(raw)[0], "unknown setting (the tcp check has none)")
    return Params()


def deadline(params: Params, timeout: float) -> float:
    """One step: the connect."""
    return timeout


async def probe(target: Target, params: Params, ctx: ProbeContext) -> ProbeResult:
    """Connect, note the time, close."""
    if not target.port:
        return ProbeResult.fail(
            Reason.ERROR, "no port: give the device a tcp port in the inventory"
        )
    try:
        conn, seconds = await textconn.connect(target)
    except textconn.Failed as failed:
        return failed.result()
    conn.close()
    return ProbeResult.ok(connect_seconds=seconds)
