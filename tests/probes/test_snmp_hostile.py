"""The SNMP client under hostile datagrams: stray sources, forged and corrupt replies.

Real sockets on 127.61.x.y: a raw responder or the lab agent plays the device,
a plain socket plays the attacker. Outcomes are asserted, never times: what
was decoded (the codec is wrapped to record its input), what was dropped and
why (``SnmpClient.dropped``), and what the check reported.
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from netwatch.lab.snmp_agent import AgentState, SnmpAgentPool, V3User
from probes import snmp
from probes.base import ProbeContext, Reason, Target
from probes.snmp import codec as c
from probes.snmp.client import SnmpClient

COMMUNITY = "c0mm-" + secrets.token_hex(6)
AUTH_KEY = "auth-" + secrets.token_hex(6)
PRIV_KEY = "priv-" + secrets.token_hex(6)
V3 = {"version": "3", "user": "nwuser", "auth_protocol": "SHA256", "auth_key": AUTH_KEY}
V3 |= {"priv_protocol": "AES128", "priv_key": PRIV_KEY}
LAB_USER = V3User("nwuser", "SHA256", AUTH_KEY, "AES128", PRIV_KEY)
AGENT = "127.61.1.1"
OTHER = "127.61.1.2"
LONG_ARC = c.tlv(c.OBJECT_ID, b"\x2b" + b"\x81" * 60_000 + b"\x01")
HUGE = c.tlv(c.SEQUENCE, b"\x02\x01\x01" + c.tlv(c.SEQUENCE, c.tlv(c.SEQUENCE, LONG_ARC)))


@pytest.fixture
async def ctx() -> AsyncIterator[ProbeContext]:
    async with ProbeContext() as context:
        yield context


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every datagram the codec is asked to look at, in order."""
    seen: list[bytes] = []
    real = c.message_version

    def recording(data: bytes) -> int:
        seen.append(data)
        return real(data)

    monkeypatch.setattr(c, "message_version", recording)
    return seen


@pytest.fixture
def attacker() -> Iterator[socket.socket]:
    """A plain UDP socket on the agent's address but another port."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((AGENT, 0))
        yield sock


def v2c_answer(request: bytes, descr: bytes = b"real") -> bytes:
    """The answer a healthy v2c agent gives to the probe's GET."""
    community, pdu = c.decode_v2c(request)
    vbs = [
        (oid, (c.TIMETICKS, 100) if i == 0 else (c.OCTET_STRING, descr))
        for i, (oid, _) in enumerate(pdu.varbinds)
    ]
    return c.enc_v2c(community, c.enc_pdu(c.RESPONSE, pdu.request_id, c.enc_varbinds(vbs)))


class Responder(asyncio.DatagramProtocol):
    """Calls ``on_request(request, reply)`` for each datagram; ``reply`` sends from the agent."""

    def __init__(self, on_request: Callable[[bytes, Callable[[bytes], None]], None]) -> None:
        self.on_request = on_request
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.on_request(data, lambda out: self.transport.sendto(out, addr))


async def responder(on_request: Callable[[bytes, Callable[[bytes], None]], None]) -> Any:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: Responder(on_request), local_addr=(AGENT, 0)
    )
    return transport


async def client_of(ctx: ProbeContext) -> SnmpClient:
    return await ctx.resource("snmp", SnmpClient.open)


def client_port(client: SnmpClient) -> int:
    return int(client._transports[socket.AF_INET].get_extra_info("socket").getsockname()[1])


async def until(what: str, check: Callable[[], bool]) -> None:
    """Let the loop run until ``check()``: datagrams already sent on loopback arrive."""
    for _ in range(1000):
        if check():
            return
        await asyncio.sleep(0.005)
    pytest.fail(f"{what} did not happen")


async def test_stray_datagrams_are_dropped_before_decoding(
    ctx: ProbeContext, decoded: list[bytes], attacker: socket.socket
) -> None:
    """Forged replies (right request-id, wrong port), a 60 KB arc and junk are never decoded."""
    client = await client_of(ctx)
    hostile: list[bytes] = []

    def on_request(request: bytes, reply: Callable[[bytes], None]) -> None:
        port = client_port(client)  # bound by its first send
        forged = v2c_answer(request, b"forged")
        hostile.extend((forged, HUGE, b"\x00junk"))
        for data in hostile[-3:]:
            attacker.sendto(data, (AGENT, port))  # the agent's address, another port
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
                other.bind((OTHER, 0))
                other.sendto(data, (AGENT, port))  # another address
        reply(v2c_answer(request))

    transport = await responder(on_request)
    try:
        params = snmp.parse_params({"community": COMMUNITY, "retries": 0})
        agent_port = transport.get_extra_info("sockname")[1]
        r = await snmp.probe(Target("sw", AGENT, agent_port, 2.0), params, ctx)
        assert r.success, r.detail
        assert r.info["sys_descr"] == "real"
        await until("six stray datagrams", lambda: client.dropped.stray >= 6)
    finally:
        transport.close()
    assert client.dropped.stray == 6
    assert not set(hostile) & set(decoded)  # not one of them reached the codec
    assert len(decoded) == 1  # the real answer


async def test_garbage_from_the_agent_does_not_fail_a_check_answered_in_time(
    ctx: ProbeContext,
) -> None:
    """A corrupt or oversized datagram from the agent's own port, then its real answer: success."""

    def on_request(request: bytes, reply: Callable[[bytes], None]) -> None:
        for junk in (HUGE, b"\x30\x80junk", v2c_answer(request)[:-2]):
            reply(junk)
        reply(v2c_answer(request))

    transport = await responder(on_request)
    try:
        params = snmp.parse_params({"community": COMMUNITY, "retries": 0})
        agent_port = transport.get_extra_info("sockname")[1]
        r = await snmp.probe(Target("sw", AGENT, agent_port, 2.0), params, ctx)
    finally:
        transport.close()
    assert r.success, r.detail
    assert (await client_of(ctx)).dropped.malformed == 3


async def test_garbage_alone_is_a_protocol_failure_at_the_timeout(ctx: ProbeContext) -> None:
    """With no real answer, the corrupt datagram is what the check reports: protocol."""
    transport = await responder(lambda request, reply: reply(HUGE))
    try:
        params = snmp.parse_params({"community": COMMUNITY, "retries": 0})
        agent_port = transport.get_extra_info("sockname")[1]
        r = await snmp.probe(Target("sw", AGENT, agent_port, 0.3), params, ctx)
    finally:
        transport.close()
    assert (r.success, r.reason) == (False, Reason.PROTOCOL)
    assert "over 16384" in r.detail


# ------------------------------------------------------------------ v3 engine discovery


def _bad_clock(boots: int, time: int) -> Callable[[c.V3Message], bytes]:
    def mangle(msg: c.V3Message) -> bytes:
        usm = dataclasses.replace(msg.usm, boots=boots, time=time)
        return c.enc_v3(msg.msg_id, msg.flags, usm, msg.data)[0]

    return mangle


def _not_a_report(msg: c.V3Message) -> bytes:
    usm = dataclasses.replace(msg.usm, engine_id=b"\x80\x00\x1f\x88\x04forged")
    scoped = c.enc_scoped_pdu(usm.engine_id, c.enc_pdu(c.RESPONSE, 1, c.enc_varbinds(())))
    return c.enc_v3(msg.msg_id, msg.flags, usm, scoped)[0]


def _short_engine_id(msg: c.V3Message) -> bytes:
    usm = dataclasses.replace(msg.usm, engine_id=b"\x01")
    return c.enc_v3(msg.msg_id, msg.flags, usm, msg.data)[0]


BAD_DISCOVERY = {
    "boots over 2^31-1": _bad_clock(2**40, 5),
    "negative boots": _bad_clock(-1, 5),
    "negative time": _bad_clock(1, -5),
    "not a report": _not_a_report,
    "one-octet engine id": _short_engine_id,
}


class Mangler(asyncio.DatagramProtocol):
    """Relays between the client and a lab agent, spoiling discovery answers as told.

    ``mode``: "pass" relays; "bad" replaces each discovery answer with a spoiled
    one; "bad+good" sends the spoiled one, then the real one.
    """

    def __init__(self, agent: tuple[str, int], spoil: Callable[[c.V3Message], bytes]) -> None:
        self.agent = agent
        self.spoil = spoil
        self.mode = "pass"
        self.client: Any = None
        self.discovery: set[int] = set()
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if addr[:2] != self.agent:  # from the client
            self.client = addr
            msg = c.decode_v3(data)
            if not msg.usm.engine_id:
                self.discovery.add(msg.msg_id)
            self.transport.sendto(data, self.agent)
            return
        msg = c.decode_v3(data)
        if msg.msg_id in self.discovery and self.mode != "pass":
            self.transport.sendto(self.spoil(msg), self.client)
            if self.mode == "bad":
                return
        self.transport.sendto(data, self.client)


@pytest.fixture
async def mangled_agent() -> AsyncIterator[Callable[[str], Any]]:
    """A lab v3 agent on 127.61.2.2 behind a Mangler on 127.61.2.1."""
    loop = asyncio.get_running_loop()
    transports = []
    async with SnmpAgentPool() as pool:

        async def make(kind: str) -> tuple[Mangler, int]:
            agent_port = await pool.add("127.61.2.2", 0, AgentState(), v3=LAB_USER)
            mangler = Mangler(("127.61.2.2", agent_port), BAD_DISCOVERY[kind])
            transport, _ = await loop.create_datagram_endpoint(
                lambda: mangler, local_addr=("127.61.2.1", 0)
            )
            transports.append(transport)
            return mangler, int(transport.get_extra_info("sockname")[1])

        try:
            yield make
        finally:
            for transport in transports:
                transport.close()


@pytest.mark.parametrize("kind", list(BAD_DISCOVERY))
async def test_a_bad_discovery_answer_never_poisons_the_engine_cache(
    ctx: ProbeContext, mangled_agent: Callable[[str], Any], kind: str
) -> None:
    """Bad alone: protocol, nothing cached, the next check works; bad then good: success."""
    mangler, port = await mangled_agent(kind)
    params = snmp.parse_params(V3 | {"retries": 0})
    target = Target("ts", "127.61.2.1", port, 0.5)
    mangler.mode = "bad"
    r = await snmp.probe(target, params, ctx)
    assert (r.success, r.reason) == (False, Reason.PROTOCOL), r.detail
    client = await client_of(ctx)
    assert not client._engines  # nothing was cached from it
    mangler.mode = "pass"
    r = await snmp.probe(target, params, ctx)
    assert r.success, r.detail
    client._engines.clear()  # discover again, with the spoiled answer ahead of the real one
    mangler.mode = "bad+good"
    r = await snmp.probe(target, dataclasses.replace(params), ctx)
    assert r.success, r.detail
