"""The ICMP probe, and the engine that sends every echo of a sweep through a few sockets.

- ``check``: the probe itself (the entry point the runner calls): parameters,
  deadlines, one check and a whole sweep's batch;
- ``engine``: the loop's shared ``IcmpEngine``: pacing, admission, the send queue;
- ``track``: echoes in flight, their timing wheel and per-check tallies;
- ``channels``: raw or unprivileged datagram sockets per address family;
- ``packet``: echo building and reply parsing (IPv4 raw, datagram, IPv6);
- ``receive`` and ``mmsg``: reading replies, one ``recvmsg`` at a time or 64 per
  ``recvmmsg`` call, with kernel timestamps and the drop counter;
- ``filter``: the socket filter that keeps other pingers' replies out of our queue.

Only the names below are the probe interface. The device lab and the ICMP
benchmarks reach into ``engine``, ``channels`` and ``mmsg`` on purpose (they measure
or drive those parts); nothing in the monitor does.
"""

from __future__ import annotations

from probes.icmp.check import (
    DEFAULT_PORT,
    MEASUREMENTS,
    NAME,
    Params,
    batch_deadline,
    deadline,
    parse_params,
    probe,
    probe_batch,
    result,
)

__all__ = [
    "DEFAULT_PORT",
    "MEASUREMENTS",
    "NAME",
    "Params",
    "batch_deadline",
    "deadline",
    "parse_params",
    "probe",
    "probe_batch",
    "result",
]
