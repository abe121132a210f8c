"""The SNMP probe, with netwatch's own SNMP client (v2c and v3 USM, one GET PDU per device).

- ``check``: the probe itself (the entry point the runner calls): parameters, the
  GET's varbinds, facts from the reply;
- ``client``: the loop's shared ``SnmpClient``: one UDP socket, request ids, retries,
  v3 discovery and the engine-time window;
- ``codec``: BER encoding and decoding of the messages and PDUs;
- ``usm``: v3 user security: localised keys, HMAC, DES/AES privacy;
- ``replies``: which replies to accept, and what a report PDU means.

Only the names below are the probe interface. The device lab's SNMP agent uses
``codec`` and ``usm`` on purpose (it speaks the same protocol from the other side).
"""

from __future__ import annotations

from probes.snmp.check import (
    DEFAULT_PORT,
    MEASUREMENTS,
    NAME,
    SYS_DESCR,
    SYS_UPTIME,
    UPLINK_COLUMNS,
    Params,
    deadline,
    parse_params,
    probe,
    request_varbinds,
)

__all__ = [
    "DEFAULT_PORT",
    "MEASUREMENTS",
    "NAME",
    "SYS_DESCR",
    "SYS_UPTIME",
    "UPLINK_COLUMNS",
    "Params",
    "deadline",
    "parse_params",
    "probe",
    "request_varbinds",
]
