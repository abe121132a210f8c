"""The device lab's SNMP agent: many devices at once, each on its own 127.x address and port.

API for the rest of the lab::

    state = AgentState(sys_descr="PDT base station", sys_name="xa-ts-01",
                       if_index=1, if_name="ge-0/0/1")
    async with SnmpAgentPool() as pool:
        port = await pool.add("127.20.2.1", 161, state, community="c0mmun1ty")
        await pool.add("127.20.2.2", 161, other, community=None,
                       v3=V3User("netwatch", "SHA256", auth_pass, "AES128", priv_pass))
        state.oper_status = 2          # uplink down: the next GET says so
        state.high_speed_mbps = 100    # uplink at 100 Mbit/s
        state.silent = True            # the agent stops answering (an SNMP timeout)
        state.reboot()                 # sysUpTime restarts, engine boots + 1
        await pool.remove("127.20.2.1", 161)

``AgentState`` is a plain mutable object the lab changes at any time; every
request reads it afresh. ``add`` binds one UDP socket per (address, port) (port
0 picks a free one and ``add`` returns the bound port) and refuses addresses
outside loopback. An agent answers v2c for its community and/or v3 authPriv
for its one user, with an engine id of its own (``engine_id=`` overrides it).

The MIB is what the monitor reads: the system group, ``ifNumber``, one ifTable
row and one ifXTable row (the uplink) at ``if_index``; GET, GETNEXT and GETBULK
work over it, so ifName walks resolve. v3 follows RFC 3414 as an authoritative
engine: discovery and ``usmStats*`` reports (unknown engine id or user, wrong
digest, not in time window, decryption error, unsupported security level).
Wrong communities are dropped silently, as net-snmp does.
"""

from __future__ import annotations

import asyncio
import bisect
import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from probes.snmp import codec as c
from probes.snmp.usm import KeyCache, Salts, UsmError, decrypt, encrypt, sign, verify
from probes.snmp.usm import UsmUser as V3User

__all__ = ["AgentState", "SnmpAgentPool", "V3User"]

SYSTEM = (1, 3, 6, 1, 2, 1, 1)
IF_NUMBER = (1, 3, 6, 1, 2, 1, 2, 1, 0)
IF_ENTRY = (1, 3, 6, 1, 2, 1, 2, 2, 1)
IFX_ENTRY = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1)
USM_STATS = (1, 3, 6, 1, 6, 3, 15, 1, 1)
UNSUPPORTED_LEVEL, NOT_IN_TIME, UNKNOWN_USER, UNKNOWN_ENGINE, WRONG_DIGEST, DECRYPT_ERROR = range(
    1, 7
)
TIME_WINDOW = 150  # seconds, RFC 3414 3.2.7
MAX_BULK = 64  # var-binds in one GETBULK answer
_M32 = 0xFFFFFFFF


@dataclass(slots=True)
class AgentState:
    """One simulated device as its agent reports it; the lab mutates it freely."""

    sys_descr: str = "netwatch lab device"
    sys_name: str = ""
    uptime_start: float = field(default_factory=time.monotonic)  # time.monotonic() at "boot"
    if_index: int = 1
    if_name: str = "ge-0/0/1"
    oper_status: int = 1  # ifOperStatus: 1 up, 2 down, ...
    admin_status: int = 1
    high_speed_mbps: int = 1000
    in_errors: int = 0
    out_errors: int = 0
    in_octets: int = 0
    out_octets: int = 0
    silent: bool = False

    def reboot(self) -> None:
        """Restart the device's clock, as a power cycle would."""
        self.uptime_start = time.monotonic()

    def uptime_ticks(self) -> int:
        """sysUpTime in hundredths of a second, wrapping like TimeTicks."""
        return int((time.monotonic() - self.uptime_start) * 100) & _M32


Getter = Callable[[AgentState], c.Value]


def _mib(if_index: int) -> dict[c.OID, Getter]:
    """The agent's objects for an uplink at ``if_index``, with value getters."""
    i = if_index
    return {
        SYSTEM + (1, 0): lambda s: (c.OCTET_STRING, s.sys_descr.encode()),
        SYSTEM + (2, 0): lambda s: (c.OBJECT_ID, (1, 3, 6, 1, 4, 1, 8072, 3, 2, 10)),
        SYSTEM + (3, 0): lambda s: (c.TIMETICKS, s.uptime_ticks()),
        SYSTEM + (4, 0): lambda s: (c.OCTET_STRING, b"netwatch lab"),
        SYSTEM + (5, 0): lambda s: (c.OCTET_STRING, s.sys_name.encode()),
        SYSTEM + (6, 0): lambda s: (c.OCTET_STRING, b"loopback"),
        IF_NUMBER: lambda s: (c.INTEGER, 1),
        IF_ENTRY + (1, i): lambda s: (c.INTEGER, s.if_index),
        IF_ENTRY + (2, i): lambda s: (c.OCTET_STRING, s.if_name.encode()),
        IF_ENTRY + (3, i): lambda s: (c.INTEGER, 6),
        IF_ENTRY + (4, i): lambda s: (c.INTEGER, 1500),
        IF_ENTRY + (5, i): lambda s: (c.GAUGE32, min(s.high_speed_mbps * 1_000_000, _M32)),
        IF_ENTRY + (6, i): lambda s: (c.OCTET_STRING, b"\x02\x00\x00\x00\x00\x01"),
        IF_ENTRY + (7, i): lambda s: (c.INTEGER, s.admin_status),
        IF_ENTRY + (8, i): lambda s: (c.INTEGER, s.oper_status),
        IF_ENTRY + (9, i): lambda s: (c.TIMETICKS, 0),
        IF_ENTRY + (10, i): lambda s: (c.COUNTER32, s.in_octets & _M32),
        IF_ENTRY + (14, i): lambda s: (c.COUNTER32, s.in_errors & _M32),
        IF_ENTRY + (16, i): lambda s: (c.COUNTER32, s.out_octets & _M32),
        IF_ENTRY + (20, i): lambda s: (c.COUNTER32, s.out_errors & _M32),
        IFX_ENTRY + (1, i): lambda s: (c.OCTET_STRING, s.if_name.encode()),
        IFX_ENTRY + (6, i): lambda s: (c.COUNTER64, s.in_octets),
        IFX_ENTRY + (10, i): lambda s: (c.COUNTER64, s.out_octets),
        IFX_ENTRY + (15, i): lambda s: (c.GAUGE32, s.high_speed_mbps),
        IFX_ENTRY + (18, i): lambda s: (c.OCTET_STRING, b"uplink"),
    }


class _View:
    """The MIB of one if_index, sorted for GETNEXT; shared by agents with that index."""

    def __init__(self, if_index: int) -> None:
        self.getters = _mib(if_index)
        self.order = sorted(self.getters)
        self.objects = {oid[:-1] for oid in self.getters}

    def get(self, oid: c.OID, state: AgentState) -> c.Value:
        getter = self.getters.get(oid)
        if getter is not None:
            return getter(state)
        return (c.NO_SUCH_INSTANCE if oid[:-1] in self.objects else c.NO_SUCH_OBJECT, None)

    def next(self, oid: c.OID, state: AgentState) -> c.VarBind:
        k = bisect.bisect_right(self.order, oid)
        if k == len(self.order):
            return oid, (c.END_OF_MIB_VIEW, None)
        found = self.order[k]
        return found, self.getters[found](state)


_VIEWS: dict[int, _View] = {}


def _view(if_index: int) -> _View:
    view = _VIEWS.get(if_index)
    if view is None:
        view = _VIEWS[if_index] = _View(if_index)
    return view


def answer(pdu: c.Pdu, state: AgentState) -> list[c.VarBind] | None:
    """The var-binds answering a GET/GETNEXT/GETBULK, None for PDUs an agent ignores."""
    view = _view(state.if_index)
    if pdu.tag == c.GET:
        return [(oid, view.get(oid, state)) for oid, _ in pdu.varbinds]
    if pdu.tag == c.GET_NEXT:
        return [view.next(oid, state) for oid, _ in pdu.varbinds]
    if pdu.tag != c.GET_BULK:
        return None
    non_rep = max(0, min(pdu.error_status, len(pdu.varbinds)))
    out = [view.next(oid, state) for oid, _ in pdu.varbinds[:non_rep]]
    row = [oid for oid, _ in pdu.varbinds[non_rep:]]
    for _ in range(max(0, pdu.error_index)):
        if not row or len(out) + len(row) > MAX_BULK:
            break
        got = [view.next(oid, state) for oid in row]
        out.extend(got)
        if all(v[0] == c.END_OF_MIB_VIEW for _, v in got):
            break
        row = [oid for oid, _ in got]
    return out


def default_engine_id(address: str, port: int) -> bytes:
    """A distinct RFC 3411 text-format engine id (net-snmp enterprise) per agent."""
    return b"\x80\x00\x1f\x88\x04" + f"nwlab-{address}:{port}".encode()[:27]


class _Agent(asyncio.DatagramProtocol):
    """One device's agent on one socket."""

    def __init__(
        self,
        state: AgentState,
        community: str | None,
        v3: V3User | None,
        engine_id: bytes,
        keys: KeyCache,
        salts: Salts,
    ) -> None:
        self.state = state
        self.community = community.encode() if community is not None else None
        self.v3 = v3
        self.engine_id = engine_id
        self.keys = keys
        self.salts = salts
        self.transport: asyncio.DatagramTransport | None = None
        self.boots = 1
        self._boot_mark = state.uptime_start
        self.stats = [0] * 7  # usmStats counters by index

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if self.state.silent or self.transport is None:
            return
        try:
            version = c.message_version(data)
            reply = self._v3(data) if version == c.V3 else self._v2c(data)
        except (c.CodecError, UsmError):
            return
        if reply is not None:
            self.transport.sendto(reply, addr)

    def _v2c(self, data: bytes) -> bytes | None:
        community, pdu = c.decode_v2c(data)
        if self.community is None or community != self.community:
            return None
        varbinds = answer(pdu, self.state)
        if varbinds is None:
            return None
        body = c.enc_pdu(c.RESPONSE, pdu.request_id, c.enc_varbinds(varbinds))
        return c.enc_v2c(community, body)

    def _engine_clock(self) -> tuple[int, int]:
        if self.state.uptime_start != self._boot_mark:
            self._boot_mark = self.state.uptime_start
            self.boots += 1
        return self.boots, int(time.monotonic() - self._boot_mark) & 0x7FFFFFFF

    def _report(self, msg: c.V3Message, which: int, request_id: int, signed: bool) -> bytes:
        self.stats[which] += 1
        boots, now = self._engine_clock()
        varbinds = c.enc_varbinds([(USM_STATS + (which, 0), (c.COUNTER32, self.stats[which]))])
        scoped = c.enc_scoped_pdu(self.engine_id, c.enc_pdu(c.REPORT, request_id, varbinds))
        keys = self.keys.keys(self.v3, self.engine_id) if signed and self.v3 else None
        auth = bytes(keys.mac_len) if keys else b""
        usm = c.UsmParams(self.engine_id, boots, now, msg.usm.user, auth, b"")
        message, offset = c.enc_v3(msg.msg_id, c.FLAG_AUTH if keys else 0, usm, scoped)
        return sign(message, offset, keys) if keys else message

    def _v3(self, data: bytes) -> bytes | None:
        msg = c.decode_v3(data)
        plain = not msg.flags & c.FLAG_PRIV
        request_id = c.decode_scoped_pdu(msg.data)[2].request_id if plain else 0
        if not msg.flags & c.FLAG_REPORTABLE and msg.usm.engine_id != self.engine_id:
            return None
        if self.v3 is None or msg.usm.engine_id != self.engine_id:
            return self._report(msg, UNKNOWN_ENGINE, request_id, False)
        if msg.usm.user != self.v3.name.encode():
            return self._report(msg, UNKNOWN_USER, request_id, False)
        if msg.flags & (c.FLAG_AUTH | c.FLAG_PRIV) != c.FLAG_AUTH | c.FLAG_PRIV:
            return self._report(msg, UNSUPPORTED_LEVEL, request_id, False)
        keys = self.keys.keys(self.v3, self.engine_id)
        if not verify(data, msg.usm.auth_offset, msg.usm.auth_params, keys):
            return self._report(msg, WRONG_DIGEST, request_id, False)
        boots, now = self._engine_clock()
        if msg.usm.boots != boots or abs(msg.usm.time - now) > TIME_WINDOW:
            return self._report(msg, NOT_IN_TIME, request_id, True)
        try:
            clear = decrypt(keys, msg.usm.boots, msg.usm.time, msg.usm.priv_params, msg.data)
            _, _, pdu = c.decode_scoped_pdu(clear)
        except (UsmError, c.CodecError):
            return self._report(msg, DECRYPT_ERROR, request_id, False)
        varbinds = answer(pdu, self.state)
        if varbinds is None:
            return None
        body = c.enc_pdu(c.RESPONSE, pdu.request_id, c.enc_varbinds(varbinds))
        scoped = c.enc_scoped_pdu(self.engine_id, body)
        cipher, priv = encrypt(keys, boots, now, self.salts.next(), scoped)
        usm = c.UsmParams(self.engine_id, boots, now, msg.usm.user, bytes(keys.mac_len), priv)
        flags = c.FLAG_AUTH | c.FLAG_PRIV
        message, offset = c.enc_v3(msg.msg_id, flags, usm, c.tlv(c.OCTET_STRING, cipher))
        return sign(message, offset, keys)


class SnmpAgentPool:
    """All lab agents of one run; closing the pool closes every socket."""

    def __init__(self) -> None:
        self._agents: dict[tuple[str, int], tuple[asyncio.DatagramTransport, _Agent]] = {}
        self._keys = KeyCache()
        self._salts = Salts()

    async def __aenter__(self) -> SnmpAgentPool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        for transport, _ in self._agents.values():
            transport.close()
        self._agents.clear()

    async def add(
        self,
        address: str,
        port: int,
        state: AgentState,
        community: str | None = None,
        v3: V3User | None = None,
        engine_id: bytes | None = None,
    ) -> int:
        """Start answering as ``state`` on (address, port); returns the bound port."""
        if not ipaddress.ip_address(address).is_loopback:
            raise ValueError(f"SNMP agent address {address} is not a loopback address")
        if community is None and v3 is None:
            raise ValueError(f"SNMP agent {address}:{port} needs a community or a v3 user")
        if (address, port) in self._agents:
            raise ValueError(f"SNMP agent {address}:{port} already exists")
        eid = engine_id or default_engine_id(address, port)
        agent = _Agent(state, community, v3, eid, self._keys, self._salts)
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: agent, local_addr=(address, port)
        )
        bound = transport.get_extra_info("sockname")[1]
        self._agents[(address, bound)] = (transport, agent)
        return int(bound)

    async def remove(self, address: str, port: int) -> None:
        """Stop the agent on (address, port); its address stops answering SNMP at all."""
        entry = self._agents.pop((address, port), None)
        if entry is not None:
            entry[0].close()

    def engine_id(self, address: str, port: int) -> bytes:
        """The v3 engine id of the agent on (address, port)."""
        return self._agents[(address, port)][1].engine_id

    def __len__(self) -> int:
        return len(self._agents)
