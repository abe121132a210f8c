"""The SNMP manager: one UDP socket per loop shared by every request, v2c and v3 authPriv.

Requests are matched to answers by request-id (v2c) or msgID (v3) in one dict,
and by source address; timeouts and retransmissions are timer callbacks, not a
task per attempt. Per agent the client keeps only what it must: the v3 engine
id, boots and clock (discovered once from a valid report, re-synchronised only
from authenticated notInTimeWindow reports), the localised keys (``KeyCache``),
and the ifIndex an ifName resolved to. Every cost is linear in the number of agents.

The socket is bound to every address, so anyone can send to it. A datagram is
decoded only if its source (address, port) is an agent with a request
outstanding; every other one is dropped on that dict lookup and counted in
``SnmpClient.dropped``. Neither a malformed datagram from an awaited agent nor
a decoded reply that fails its request's checks (a discovery reply that is no
valid report, a v3 reply failing its digest) ends the request: it keeps
waiting for the real answer, and only if none comes does it fail with the
reason the bad reply gave instead of a timeout. So a forged or corrupt
datagram can neither stall the loop nor fail a check whose answer is on its way.
The codec's caps (``probes.snmp.codec``) bound the work one datagram can cost.

Failures raise ``SnmpError`` with a ``Reason``: TIMEOUT (no answer), AUTH (a
usmStats report, a reply failing its digest), PROTOCOL (malformed reply, agent
error status). Messages never carry communities or keys.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import os
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from probes.base import Reason
from probes.snmp import codec as c
from probes.snmp.replies import Accept, Dropped, SnmpError, discovery_report, v3_answer
from probes.snmp.usm import KeyCache, Salts, UsmError, UsmUser, decrypt, encrypt, sign

Credentials = bytes | UsmUser  # a v2c community, or a v3 authPriv user
USM_STATS = (1, 3, 6, 1, 6, 3, 15, 1, 1)
_REPORTS = {
    1: "the agent does not support authPriv for this user (usmStatsUnsupportedSecLevels)",
    2: "not in time window (usmStatsNotInTimeWindows)",
    3: "unknown user name (usmStatsUnknownUserNames)",
    4: "unknown engine id (usmStatsUnknownEngineIDs)",
    5: "wrong digest: bad auth key or protocol (usmStatsWrongDigests)",
    6: "decryption error: bad privacy key or protocol (usmStatsDecryptionErrors)",
}
RCVBUF = 8 * 1024 * 1024
DRAIN = 256  # datagrams read per socket when a timer finds answers still queued
RECV_SIZE = 65535  # the largest UDP payload


@dataclass(frozen=True, slots=True)
class Attempts:
    """How long to wait for each answer, and how many times to send again before giving up."""

    seconds: float = 1.0
    retries: int = 1


@dataclass(slots=True)
class _Engine:
    """An agent's authoritative engine as last seen: id, boots, clock."""

    engine_id: bytes
    boots: int
    time: int
    at: float

    def now(self) -> int:
        return min(self.time + int(time.monotonic() - self.at), 0x7FFFFFFF)


class _Waiter:
    """One outstanding request: its future, bytes, destination and retransmission timer."""

    __slots__ = ("rid", "fut", "addr", "data", "left", "timeout", "timer", "accept", "bad")

    def __init__(
        self,
        rid: int,
        fut: asyncio.Future[Any],
        addr: tuple[str, int],
        data: bytes,
        accept: Accept | None = None,
    ) -> None:
        self.rid = rid
        self.fut = fut
        self.addr = addr
        self.data = data
        self.left = 0
        self.timeout = 1.0
        self.timer: asyncio.TimerHandle | None = None
        self.accept = accept  # None, or why a decoded reply cannot be the answer
        self.bad: SnmpError | None = None  # the last bad reply, reported if nothing better comes


class SnmpClient(asyncio.DatagramProtocol):
    """A manager bound to the running loop; get one with ``async with SnmpClient.open()``."""

    def __init__(self, max_inflight: int = 1024) -> None:
        self._loop = asyncio.get_running_loop()
        self._transports: dict[int, asyncio.DatagramTransport] = {}
        self._waiters: dict[int, _Waiter] = {}
        self._by_addr: dict[tuple[str, int], set[int]] = {}
        self._next_id = int.from_bytes(os.urandom(3), "big")
        self._slots = asyncio.Semaphore(max_inflight)
        self._engines: dict[tuple[str, int], _Engine] = {}
        self._socks: list[socket.socket] = []  # read directly only by ``_drain``
        self._discovering: dict[tuple[str, int], asyncio.Future[_Engine]] = {}
        self._if_index: dict[tuple[str, int, str], int] = {}
        self.keys = KeyCache()
        self._salts = Salts()
        self.dropped = Dropped()

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, max_inflight: int = 1024) -> AsyncIterator[SnmpClient]:
        """A client with its IPv4 socket open, closed with everything pending on exit."""
        client = cls(max_inflight)
        await client._transport(socket.AF_INET)
        try:
            yield client
        finally:
            client.close()

    def close(self) -> None:
        """Close the sockets and fail whatever is still waiting."""
        for t in self._transports.values():
            t.close()
        self._transports.clear()
        for rid in list(self._waiters):
            self._finish(rid, SnmpError(Reason.ERROR, "SNMP client closed"))

    async def _transport(self, family: int) -> asyncio.DatagramTransport:
        transport = self._transports.get(family)
        if transport is None:
            sock = socket.socket(family, socket.SOCK_DGRAM)
            sock.setblocking(False)
            force = getattr(socket, "SO_RCVBUFFORCE", socket.SO_RCVBUF)
            for opt in (force, socket.SO_RCVBUF):
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, opt, RCVBUF)
                    break
            transport, _ = await self._loop.create_datagram_endpoint(lambda: self, sock=sock)
            self._transports[family] = transport
            self._socks.append(sock)
        return transport

    # ------------------------------------------------------------ datagrams

    def datagram_received(self, data: bytes, addr: Any) -> None:
        source = (addr[0], addr[1])
        pending = self._by_addr.get(source)
        if not pending:  # nobody asked this source: not worth a single decoded octet
            self.dropped.stray += 1
            return
        result: Any
        try:
            if c.message_version(data) == c.V3:
                msg = c.decode_v3(data)
                rid, result = msg.msg_id, (msg, data)
            else:
                pdu = c.decode_v2c(data)[1]
                rid, result = pdu.request_id, pdu
        except c.CodecError as exc:
            # noted on the agent's requests: reported only if no good reply comes in time
            self.dropped.malformed += 1
            for rid in pending:
                self._waiters[rid].bad = SnmpError(Reason.PROTOCOL, f"malformed reply: {exc}")
            return
        waiter = self._waiters.get(rid)
        if waiter is None or waiter.addr != source:
            self.dropped.unmatched += 1
            return
        problem = waiter.accept(result) if waiter.accept is not None else None
        if problem is not None:
            self.dropped.rejected += 1
            waiter.bad = problem
            return
        self._finish(rid, result)

    def _finish(self, rid: int, result: Any) -> None:
        waiter = self._waiters.pop(rid)
        if waiter.timer is not None:
            waiter.timer.cancel()
        pending = self._by_addr.get(waiter.addr)
        if pending is not None:
            pending.discard(rid)
            if not pending:
                del self._by_addr[waiter.addr]
        if not waiter.fut.done():
            if isinstance(result, BaseException):
                waiter.fut.set_exception(result)
            else:
                waiter.fut.set_result(result)

    def _expire(self, rid: int) -> None:
        if rid in self._waiters:
            self._drain()  # an answer already queued is in time, however busy the loop was
        waiter = self._waiters.get(rid)
        if waiter is None:
            return
        if waiter.left > 0:
            waiter.left -= 1
            self._send(waiter)
            return
        self._finish(rid, waiter.bad or SnmpError(Reason.TIMEOUT, "no answer from the SNMP agent"))

    def _drain(self) -> None:
        """Read the datagrams already queued on our sockets (at most ``DRAIN`` each).

        asyncio reads one datagram per loop turn while due timers all run in that turn:
        after a busy spell, answers that arrived in time would otherwise lose to their
        own timeouts and the agent be reported silent for the monitor's lag.
        """
        for sock in self._socks:
            for _ in range(DRAIN):
                try:
                    data, addr = sock.recvfrom(RECV_SIZE)
                except OSError:  # BlockingIOError: nothing more queued
                    break
                self.datagram_received(data, addr)

    def _send(self, waiter: _Waiter) -> None:
        family = socket.AF_INET6 if ":" in waiter.addr[0] else socket.AF_INET
        self._transports[family].sendto(waiter.data, waiter.addr)
        waiter.timer = self._loop.call_later(waiter.timeout, self._expire, waiter.rid)

    def _new_id(self) -> int:
        self._next_id = self._next_id % 0x7FFFFFFE + 1
        return self._next_id

    async def _exchange(
        self,
        addr: tuple[str, int],
        rid: int,
        data: bytes,
        tries: Attempts,
        accept: Accept | None = None,
    ) -> Any:
        """Send and wait for the answer matched by ``rid`` from ``addr`` that ``accept`` takes."""
        await self._transport(socket.AF_INET6 if ":" in addr[0] else socket.AF_INET)
        async with self._slots:
            fut: asyncio.Future[Any] = self._loop.create_future()
            waiter = _Waiter(rid, fut, addr, data, accept)
            waiter.left, waiter.timeout = tries.retries, tries.seconds
            self._waiters[rid] = waiter
            self._by_addr.setdefault(addr, set()).add(rid)
            self._send(waiter)
            try:
                return await fut
            finally:
                if rid in self._waiters:  # cancelled from outside
                    self._finish(rid, SnmpError(Reason.TIMEOUT, "cancelled"))

    # ------------------------------------------------------------ requests

    async def request(
        self,
        host: str,
        port: int,
        cred: Credentials,
        tag: int,
        varbinds: bytes,
        tries: Attempts = Attempts(),
        bulk: tuple[int, int] = (0, 0),
    ) -> c.Pdu:
        """One PDU (GET, GETNEXT, GETBULK with (non-repeaters, max-repetitions)) and its answer."""
        addr = (ipaddress.ip_address(host).compressed, port)
        if isinstance(cred, bytes):
            rid = self._new_id()
            data = c.enc_v2c(cred, c.enc_pdu(tag, rid, varbinds, *bulk))
            pdu: c.Pdu = await self._exchange(addr, rid, data, tries)
        else:
            pdu = await self._v3_request(addr, cred, tag, varbinds, tries, bulk)
        if pdu.tag != c.RESPONSE:
            raise SnmpError(Reason.PROTOCOL, f"unexpected PDU type 0x{pdu.tag:02x} in reply")
        if pdu.error_status:
            raise SnmpError(
                Reason.PROTOCOL, f"agent error-status {pdu.error_status} at {pdu.error_index}"
            )
        return pdu

    async def _engine(self, addr: tuple[str, int], tries: Attempts) -> _Engine:
        """The agent's engine, discovered once (RFC 3414 4) even under concurrent requests."""
        engine = self._engines.get(addr)
        if engine is not None:
            return engine
        pending = self._discovering.get(addr)
        if pending is not None:
            return await asyncio.shield(pending)
        fut: asyncio.Future[_Engine] = self._loop.create_future()
        self._discovering[addr] = fut
        try:
            rid = self._new_id()
            probe = c.enc_scoped_pdu(b"", c.enc_pdu(c.GET, rid, c.enc_varbinds(())))
            usm = c.UsmParams(b"", 0, 0, b"", b"", b"")
            data, _ = c.enc_v3(rid, c.FLAG_REPORTABLE, usm, probe)
            msg, _raw = await self._exchange(addr, rid, data, tries, discovery_report)
            engine = _Engine(msg.usm.engine_id, msg.usm.boots, msg.usm.time, time.monotonic())
            self._engines[addr] = engine
            fut.set_result(engine)
            return engine
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):  # our caller gave up; the others time out
                exc = SnmpError(Reason.TIMEOUT, "engine discovery abandoned")
            fut.set_exception(exc)
            fut.exception()  # waiters get it; never "exception was never retrieved"
            raise
        finally:
            del self._discovering[addr]

    async def _v3_request(
        self,
        addr: tuple[str, int],
        user: UsmUser,
        tag: int,
        varbinds: bytes,
        tries: Attempts,
        bulk: tuple[int, int],
    ) -> c.Pdu:
        for attempt in range(3):  # at most: rediscover once, re-sync the clock once
            engine = await self._engine(addr, tries)
            keys = self.keys.keys(user, engine.engine_id)
            rid = self._new_id()
            scoped = c.enc_scoped_pdu(engine.engine_id, c.enc_pdu(tag, rid, varbinds, *bulk))
            boots, now = engine.boots, engine.now()
            cipher, priv = encrypt(keys, boots, now, self._salts.next(), scoped)
            usm = c.UsmParams(
                engine.engine_id, boots, now, user.name.encode(), bytes(keys.mac_len), priv
            )
            flags = c.FLAG_AUTH | c.FLAG_PRIV | c.FLAG_REPORTABLE
            message, offset = c.enc_v3(rid, flags, usm, c.tlv(c.OCTET_STRING, cipher))
            accept = functools.partial(v3_answer, engine.engine_id, keys)
            msg, _raw = await self._exchange(addr, rid, sign(message, offset, keys), tries, accept)
            authentic = bool(msg.flags & c.FLAG_AUTH) and msg.usm.engine_id == engine.engine_id
            if authentic:  # its digest was verified before the exchange took it
                engine.boots, engine.time, engine.at = msg.usm.boots, msg.usm.time, time.monotonic()
            pdu = self._open_scoped(msg, keys)
            if pdu.tag != c.REPORT:
                if not authentic or not msg.flags & c.FLAG_PRIV:
                    raise SnmpError(Reason.AUTH, "agent answered below authPriv")
                return pdu
            which = self._report_kind(pdu)
            if which == 2 and authentic and attempt < 2:
                continue  # clock re-synchronised from the authenticated report
            if which == 4 and attempt < 2:
                self._engines.pop(addr, None)
                continue
            raise SnmpError(Reason.AUTH, _REPORTS.get(which, "unexpected report"))
        raise SnmpError(Reason.AUTH, "could not synchronise with the agent's engine")

    @staticmethod
    def _open_scoped(msg: c.V3Message, keys: Any) -> c.Pdu:
        try:
            if msg.flags & c.FLAG_PRIV:
                clear = decrypt(keys, msg.usm.boots, msg.usm.time, msg.usm.priv_params, msg.data)
            else:
                clear = msg.data
            return c.decode_scoped_pdu(clear)[2]
        except (c.CodecError, UsmError) as exc:
            raise SnmpError(Reason.PROTOCOL, f"undecodable v3 reply: {exc}") from None

    @staticmethod
    def _report_kind(pdu: c.Pdu) -> int:
        if pdu.varbinds and pdu.varbinds[0][0][:-2] == USM_STATS:
            return pdu.varbinds[0][0][-2]
        return 0

    # ------------------------------------------------------------ ifName → ifIndex

    async def if_index(
        self, host: str, port: int, cred: Credentials, name: str, tries: Attempts
    ) -> int | None:
        """The ifIndex whose ifName is ``name``, walked once and cached per (agent, name)."""
        key = (host, port, name)
        if key in self._if_index:
            return self._if_index[key]
        root: c.OID = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1)
        want = name.encode()
        oid = root
        for _ in range(1000):  # bounded: 1000 × 32 rows is far beyond any device
            vbs = c.enc_varbinds([(oid, c.NULL_VALUE)])
            pdu = await self.request(host, port, cred, c.GET_BULK, vbs, tries, (0, 32))
            if not pdu.varbinds:
                return None
            for oid, (vtag, value) in pdu.varbinds:
                if oid[: len(root)] != root or vtag in c.EXCEPTIONS or len(oid) != len(root) + 1:
                    return None
                if value == want:
                    self._if_index[key] = oid[-1]
                    return oid[-1]
        return None

    def forget_if_index(self, host: str, port: int, name: str) -> None:
        """Drop a cached ifName resolution, after the agent says the index is gone."""
        self._if_index.pop((host, port, name), None)
