"""Which datagrams the SNMP client takes as answers, and the count of those it drops.

A reply is matched to its request by source and id (``probes.snmp.client``);
the checks here say why a matched, well-formed reply still is not the answer:
a discovery reply that is no valid Report PDU must not set the engine cache
(RFC 3414 4), and a reply to an authPriv request must carry our digest unless
it is an unsigned report (RFC 3414 3.2). The client notes a failed check and
keeps waiting; it reports the check's error only if no answer comes in time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from probes.base import Reason
from probes.snmp import codec as c
from probes.snmp.usm import LocalKeys, verify

MIN_ENGINE_ID = 5  # octets of an snmpEngineID (RFC 3411 5); shorter ones are not cached


@dataclass(slots=True)
class Dropped:
    """Datagrams the client dropped, by why; the monitor may expose them as metrics."""

    stray: int = 0  # from a source with no request outstanding: never decoded
    malformed: int = 0  # from an awaited agent, but not a well-formed SNMP message
    unmatched: int = 0  # well-formed, but no request of that id went to that source
    rejected: int = 0  # matched a request but failed its checks (digest, discovery report)


class SnmpError(Exception):
    """A request failed; ``reason`` says how, the message says why (no secrets)."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


Accept = Callable[[Any], SnmpError | None]  # a decoded reply → why it is not the answer


def plain_report(msg: c.V3Message) -> bool:
    """Whether a v3 message carries a Report PDU in clear."""
    if msg.flags & c.FLAG_PRIV:
        return False
    try:
        return c.decode_scoped_pdu(msg.data)[2].tag == c.REPORT
    except c.CodecError:
        return False


def discovery_report(reply: tuple[c.V3Message, bytes]) -> SnmpError | None:
    """Why a reply to engine discovery (RFC 3414 4) may not set the engine cache, if it may not."""
    msg = reply[0]
    if not MIN_ENGINE_ID <= len(msg.usm.engine_id) <= c.MAX_ENGINE_ID:
        return SnmpError(Reason.PROTOCOL, "engine discovery: the agent sent no valid engine id")
    if not plain_report(msg):
        return SnmpError(Reason.PROTOCOL, "engine discovery: the answer is not a Report PDU")
    return None


def v3_answer(
    engine_id: bytes, keys: LocalKeys, reply: tuple[c.V3Message, bytes]
) -> SnmpError | None:
    """Why a reply to an authPriv request is not its answer: a bad digest, unsigned non-report."""
    msg, raw = reply
    if msg.flags & c.FLAG_AUTH and msg.usm.engine_id == engine_id:
        if verify(raw, msg.usm.auth_offset, msg.usm.auth_params, keys):
            return None
        return SnmpError(Reason.AUTH, "reply failed authentication (wrong auth key?)")
    if plain_report(msg):  # reports of unknown engine or user come unsigned (RFC 3414 3.2)
        return None
    return SnmpError(Reason.AUTH, "agent answered below authPriv")
