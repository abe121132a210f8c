"""The SNMP probe against net-snmp ``snmpd``, the lab agent, and broken responders."""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from netwatch.lab.snmp_agent import AgentState, SnmpAgentPool, V3User
from probes import snmp
from probes.base import ParamError, ProbeContext, Reason, Target
from probes.snmp import codec as c

SNMPD = "/usr/sbin/snmpd"
SNMPD_ADDR = "127.102.1.1"
COMMUNITY = "c0mm-" + secrets.token_hex(6)
AUTH_KEY = "auth-" + secrets.token_hex(6)
PRIV_KEY = "priv-" + secrets.token_hex(6)
SECRETS = (COMMUNITY, AUTH_KEY, PRIV_KEY)
V3 = {"version": "3", "user": "nwuser", "auth_protocol": "SHA256", "auth_key": AUTH_KEY}
V3 |= {"priv_protocol": "AES128", "priv_key": PRIV_KEY}


def free_udp_port(address: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])


SNMPD_CONF = """\
engineID nwtest{port}
rocommunity {community} 127.0.0.0/8
createUser nwuser SHA-256 {auth} AES {priv}
createUser nwuser2 SHA {auth} AES-256 {priv}
createUser nwuser3 MD5 {auth} DES {priv}
rouser nwuser priv
rouser nwuser2 priv
rouser nwuser3 priv
override 1.3.6.1.2.1.2.2.1.8.99 integer 1
override 1.3.6.1.2.1.31.1.1.1.15.99 unsigned 1000
override 1.3.6.1.2.1.31.1.1.1.1.99 octet_str ge-0/0/1
override 1.3.6.1.2.1.2.2.1.14.99 counter 5
override 1.3.6.1.2.1.2.2.1.20.99 counter 7
override 1.3.6.1.2.1.2.2.1.8.98 integer 2
override 1.3.6.1.2.1.31.1.1.1.15.98 unsigned 100
override 1.3.6.1.2.1.31.1.1.1.1.98 octet_str ge-0/0/2
override 1.3.6.1.2.1.2.2.1.14.98 counter 0
override 1.3.6.1.2.1.2.2.1.20.98 counter 0
"""


@pytest.fixture(scope="module")
def snmpd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A net-snmp agent on SNMPD_ADDR with v2c, three v3 users and two fake uplinks."""
    if not os.access(SNMPD, os.X_OK):
        pytest.skip("net-snmp snmpd is not installed (apt-get install snmpd)")
    tmp = tmp_path_factory.mktemp("snmpd")
    port = free_udp_port(SNMPD_ADDR)
    conf = tmp / "snmpd.conf"
    conf.write_text(SNMPD_CONF.format(port=port, community=COMMUNITY, auth=AUTH_KEY, priv=PRIV_KEY))
    (tmp / "persist").mkdir()
    log = tmp / "snmpd.log"
    env = dict(os.environ, SNMP_PERSISTENT_DIR=str(tmp / "persist"), MIBS="")
    cmd = [SNMPD, "-f", "-Lo", "-C", "-c", str(conf), "-p", str(tmp / "pid")]
    with log.open("wb") as out:
        proc = subprocess.Popen([*cmd, f"udp:{SNMPD_ADDR}:{port}"], stdout=out, stderr=out, env=env)
    try:
        wait_ready(proc, log)
        yield port
    finally:
        proc.kill()
        proc.wait(5)


def wait_ready(proc: subprocess.Popen[bytes], log: Path) -> None:
    """Poll snmpd's log for its start banner, within a bounded deadline."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if b"NET-SNMP version" in log.read_bytes():
            return
        if proc.poll() is not None:
            pytest.fail(f"snmpd exited: {log.read_text()[-2000:]}")
        time.sleep(0.02)
    pytest.fail("snmpd did not start within 10 s")


@pytest.fixture
async def ctx() -> AsyncIterator[ProbeContext]:
    async with ProbeContext() as context:
        yield context


def target(port: int, address: str = SNMPD_ADDR, timeout: float = 1.0) -> Target:
    return Target("dev-1", address, port, timeout)


def assert_no_secret(*texts: Any) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in str(text)


# ------------------------------------------------------------------ params


def test_parse_params_normalises_profiles() -> None:
    """Versions, protocol spellings and a digit-only uplink_if are normalised."""
    p = snmp.parse_params({"version": 2, "community": COMMUNITY, "uplink_if": "7"})
    assert (p.version, p.uplink_if, p.credentials) == ("2c", 7, COMMUNITY.encode())
    raw = V3 | {"version": "v3", "auth_protocol": "sha-256", "priv_protocol": "aes"}
    p = snmp.parse_params(raw | {"uplink_if": "ge-0/0/1"})
    assert (p.auth_protocol, p.priv_protocol, p.uplink_if) == ("SHA256", "AES128", "ge-0/0/1")


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        ({"community": COMMUNITY, "colour": "red"}, "colour", "unknown setting"),
        ({"version": "1", "community": COMMUNITY}, "version", '"2c" or "3"'),
        ({"version": "2c"}, "community", "required"),
        ({"community": COMMUNITY, "auth_key": AUTH_KEY}, "auth_key", "v3 setting"),
        (V3 | {"community": COMMUNITY}, "community", "v2c setting"),
        ({k: v for k, v in V3.items() if k != "user"}, "user", "required"),
        (V3 | {"auth_protocol": "none"}, "auth_protocol", "authPriv"),
        ({k: v for k, v in V3.items() if k != "priv_protocol"}, "priv_protocol", "authPriv"),
        (V3 | {"priv_protocol": "ROT13"}, "priv_protocol", "unknown protocol"),
        (V3 | {"auth_key": "short"}, "auth_key", "at least 8"),
        (V3 | {"priv_key": 12345678}, "priv_key", "string"),
        ({"community": COMMUNITY, "uplink_if": 0}, "uplink_if", "between"),
        ({"community": COMMUNITY, "uplink_if": 1.5}, "uplink_if", "ifIndex"),
        ({"community": COMMUNITY, "retries": 9}, "retries", "0 to 5"),
    ],
)
def test_parse_params_rejects_bad_profiles(raw: dict[str, Any], field: str, words: str) -> None:
    """Each bad profile names its field and the problem, never a secret."""
    with pytest.raises(ParamError) as err:
        snmp.parse_params(raw)
    assert err.value.field == field
    assert words in str(err.value)
    assert_no_secret(err.value, err.value.message)


def test_params_repr_hides_secrets() -> None:
    """repr of v2c and v3 params shows neither the community nor the keys."""
    v2 = snmp.parse_params({"community": COMMUNITY})
    v3 = snmp.parse_params(V3)
    assert_no_secret(repr(v2), repr(v3), repr(v3.credentials))


def test_deadline_grows_with_exchanges() -> None:
    """A v3 check resolving an ifName gets room for discovery, the walk and the GET."""
    v2 = snmp.parse_params({"community": COMMUNITY, "retries": 1})
    v3 = snmp.parse_params(V3 | {"uplink_if": "ge-0/0/1", "retries": 1})
    assert snmp.deadline(v2, 1.0) == pytest.approx(2.5)
    assert snmp.deadline(v3, 1.0) == pytest.approx(6.5)


# ------------------------------------------------------------------ net-snmp snmpd


async def test_v2c_get_against_snmpd(snmpd: int, ctx: ProbeContext) -> None:
    """A v2c check reads uptime, description and the uplink's state in one GET."""
    params = snmp.parse_params({"community": COMMUNITY, "uplink_if": 99})
    r = await snmp.probe(target(snmpd), params, ctx)
    assert r.success and r.reason is Reason.OK, r.detail
    m = r.measurements
    assert m["sys_uptime_seconds"] >= 0
    assert m["uplink_oper_status"] == 1 and m["uplink_speed_bps"] == 1e9
    assert (m["uplink_in_errors"], m["uplink_out_errors"]) == (5, 7)
    assert r.info["uplink_name"] == "ge-0/0/1" and r.info["sys_descr"]


@pytest.mark.parametrize(
    ("user", "auth", "priv"),
    [("nwuser", "SHA256", "AES128"), ("nwuser2", "SHA", "AES256"), ("nwuser3", "MD5", "DES")],
)
async def test_v3_authpriv_get_against_snmpd(
    snmpd: int, ctx: ProbeContext, user: str, auth: str, priv: str
) -> None:
    """v3 authPriv discovers the engine, localises keys and decrypts the answer."""
    raw = V3 | {"user": user, "auth_protocol": auth, "priv_protocol": priv, "uplink_if": 99}
    r = await snmp.probe(target(snmpd), snmp.parse_params(raw), ctx)
    assert r.success, r.detail
    assert r.measurements["uplink_oper_status"] == 1 and r.info["uplink_name"] == "ge-0/0/1"


async def test_wrong_community_times_out(snmpd: int, ctx: ProbeContext) -> None:
    """net-snmp drops a wrong community, so the check times out and names no secret."""
    params = snmp.parse_params({"community": "not-" + COMMUNITY, "retries": 0})
    r = await snmp.probe(target(snmpd, timeout=0.3), params, ctx)
    assert (r.success, r.reason) == (False, Reason.TIMEOUT)
    assert_no_secret(r.detail)


async def test_wrong_auth_key_is_auth_failure(snmpd: int, ctx: ProbeContext) -> None:
    """A wrong v3 auth key draws usmStatsWrongDigests: reason auth, no key in the detail."""
    params = snmp.parse_params(V3 | {"auth_key": "wrong-" + AUTH_KEY})
    r = await snmp.probe(target(snmpd), params, ctx)
    assert (r.success, r.reason) == (False, Reason.AUTH)
    assert "wrong digest" in r.detail
    assert_no_secret(r.detail)


async def test_unknown_user_is_auth_failure(snmpd: int, ctx: ProbeContext) -> None:
    """A user the agent does not know draws usmStatsUnknownUserNames: reason auth."""
    r = await snmp.probe(target(snmpd), snmp.parse_params(V3 | {"user": "nobody"}), ctx)
    assert (r.success, r.reason) == (False, Reason.AUTH)


async def test_ifname_resolves_to_down_slow_uplink(snmpd: int, ctx: ProbeContext) -> None:
    """An uplink named by ifName is found by a walk; down at 100 Mbit is still a success."""
    params = snmp.parse_params({"community": COMMUNITY, "uplink_if": "ge-0/0/2"})
    r = await snmp.probe(target(snmpd), params, ctx)
    assert r.success, r.detail
    assert r.measurements["uplink_oper_status"] == 2
    assert r.measurements["uplink_speed_bps"] == 100e6
    assert r.info["uplink_name"] == "ge-0/0/2"


@pytest.mark.parametrize("uplink", [77, "xe-9/9/9"])
async def test_missing_uplink_is_success_without_uplink_figures(
    snmpd: int, ctx: ProbeContext, uplink: int | str
) -> None:
    """An uplink the agent lacks: success, the detail says so, no uplink measurements."""
    params = snmp.parse_params({"community": COMMUNITY, "uplink_if": uplink})
    r = await snmp.probe(target(snmpd), params, ctx)
    assert r.success and "not found" in r.detail
    assert "sys_uptime_seconds" in r.measurements
    assert not any(k.startswith("uplink_") for k in r.measurements)


# ------------------------------------------------------------------ the lab agent

LAB_USER = V3User("nwuser", "SHA256", AUTH_KEY, "AES128", PRIV_KEY)


@pytest.fixture
async def pool() -> AsyncIterator[SnmpAgentPool]:
    async with SnmpAgentPool() as agents:
        yield agents


async def test_lab_agents_answer_for_their_own_state(
    pool: SnmpAgentPool, ctx: ProbeContext
) -> None:
    """Three hundred lab agents, half v3, each report their own uplink state at once."""
    states = []
    for i in range(300):
        addr = f"127.102.{10 + i // 200}.{i % 200 + 1}"
        state = AgentState(if_index=i + 1, if_name=f"ge-0/0/{i}", oper_status=1 + i % 2)
        state.high_speed_mbps, state.in_errors = 100 * (1 + i % 10), i
        port = await pool.add(addr, 0, state, community=COMMUNITY, v3=LAB_USER)
        states.append((addr, port, state))

    async def check(i: int, addr: str, port: int) -> Any:
        creds = V3 if i % 2 else {"community": COMMUNITY}
        uplink = i + 1 if i % 3 else f"ge-0/0/{i}"  # by ifIndex, or by ifName
        params = snmp.parse_params(creds | {"uplink_if": uplink})
        return await snmp.probe(target(port, addr, timeout=2.0), params, ctx)

    results = await asyncio.gather(*(check(i, a, p) for i, (a, p, _) in enumerate(states)))
    for i, (r, (_, _, state)) in enumerate(zip(results, states, strict=True)):
        assert r.success, (i, r.detail)
        assert r.measurements["uplink_oper_status"] == state.oper_status
        assert r.measurements["uplink_speed_bps"] == state.high_speed_mbps * 1e6
        assert r.measurements["uplink_in_errors"] == i
        assert r.info["uplink_name"] == state.if_name


async def test_silent_lab_agent_times_out(pool: SnmpAgentPool, ctx: ProbeContext) -> None:
    """An agent switched silent gives a timeout, for v2c and for v3 discovery alike."""
    state = AgentState(silent=True)
    port = await pool.add("127.102.20.1", 0, state, community=COMMUNITY, v3=LAB_USER)
    for raw in ({"community": COMMUNITY, "retries": 0}, V3 | {"retries": 0}):
        r = await snmp.probe(target(port, "127.102.20.1", 0.2), snmp.parse_params(raw), ctx)
        assert (r.success, r.reason) == (False, Reason.TIMEOUT)
    state.silent = False
    r = await snmp.probe(target(port, "127.102.20.1"), snmp.parse_params(V3), ctx)
    assert r.success, r.detail


async def test_lab_agent_state_changes_show_up(pool: SnmpAgentPool, ctx: ProbeContext) -> None:
    """Uplink down, 100 Mbit, renumbered interfaces and a reboot are all seen by the next check."""
    state = AgentState(if_index=3, if_name="ge-0/0/1")
    port = await pool.add("127.102.21.1", 0, state, v3=LAB_USER)
    params = snmp.parse_params(V3 | {"uplink_if": "ge-0/0/1"})
    assert (await snmp.probe(target(port, "127.102.21.1"), params, ctx)).success
    state.oper_status, state.high_speed_mbps, state.if_index = 2, 100, 12
    state.uptime_start -= 3600
    state.reboot()  # engine boots + 1: the client must re-sync from notInTimeWindow
    r = await snmp.probe(target(port, "127.102.21.1"), params, ctx)
    assert r.success, r.detail
    assert r.measurements["uplink_oper_status"] == 2
    assert r.measurements["uplink_speed_bps"] == 100e6
    assert r.measurements["sys_uptime_seconds"] < 60


@pytest.mark.parametrize("which", ["auth_key", "priv_key"])
async def test_wrong_keys_against_lab_agent_are_auth(
    pool: SnmpAgentPool, ctx: ProbeContext, which: str
) -> None:
    """The lab agent reports wrong digests and decryption errors; both are auth failures."""
    port = await pool.add("127.102.22.1", 0, AgentState(), v3=LAB_USER)
    params = snmp.parse_params(V3 | {which: "bad-" + V3[which]})
    r = await snmp.probe(target(port, "127.102.22.1"), params, ctx)
    assert (r.success, r.reason) == (False, Reason.AUTH)
    assert_no_secret(r.detail, repr(r))


# ------------------------------------------------------------------ broken responders


class Responder(asyncio.DatagramProtocol):
    """Answers every datagram with whatever ``reply(request)`` makes of it."""

    def __init__(self, reply: Any) -> None:
        self.reply = reply
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        out = self.reply(data)
        if out is not None:
            self.transport.sendto(out, addr)


def good_reply(request: bytes) -> bytes:
    community, pdu = c.decode_v2c(request)
    vbs = [
        (oid, (c.TIMETICKS, 1) if i == 0 else (c.OCTET_STRING, b"x"))
        for i, (oid, _) in enumerate(pdu.varbinds)
    ]
    return c.enc_v2c(community, c.enc_pdu(c.RESPONSE, pdu.request_id, c.enc_varbinds(vbs)))


_rng = random.Random(20260102)
BROKEN = {
    "random bytes": lambda req: _rng.randbytes(_rng.randint(1, 200)),
    "truncated": lambda req: good_reply(req)[:-3],
    "oversized length": lambda req: b"\x30\x84\x7f\xff\xff\xff" + good_reply(req)[2:],
    "wrong tag": lambda req: b"\x31" + good_reply(req)[1:],
    "other oids": lambda req: c.enc_v2c(
        b"x",
        c.enc_pdu(
            c.RESPONSE,
            c.decode_v2c(req)[1].request_id,
            c.enc_varbinds([((1, 3, 6, 1), (c.INTEGER, 1))]),
        ),
    ),
    "text where a number goes": lambda req: good_reply(req),
    "error status": lambda req: c.enc_v2c(
        b"x", c.enc_pdu(c.RESPONSE, c.decode_v2c(req)[1].request_id, c.enc_varbinds(()), 5, 1)
    ),
}


@pytest.mark.parametrize("kind", list(BROKEN))
async def test_malformed_replies_are_protocol_failures(ctx: ProbeContext, kind: str) -> None:
    """Garbage, truncated, oversized, mistagged or mismatched replies give protocol, no crash."""
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: Responder(BROKEN[kind]), local_addr=("127.102.30.1", 0)
    )
    try:
        port = transport.get_extra_info("sockname")[1]
        params = snmp.parse_params({"community": COMMUNITY, "uplink_if": 1, "retries": 0})
        r = await snmp.probe(target(port, "127.102.30.1", 1.0), params, ctx)
        assert (r.success, r.reason) == (False, Reason.PROTOCOL), r.detail
        assert_no_secret(r.detail)
    finally:
        transport.close()


async def test_ipv6_loopback_agent(pool: SnmpAgentPool, ctx: ProbeContext) -> None:
    """The client opens an IPv6 socket on demand and reads an agent on ::1."""
    try:
        port = await pool.add("::1", 0, AgentState(if_index=4), community=COMMUNITY, v3=LAB_USER)
    except OSError:
        pytest.skip("no IPv6 loopback here")
    for raw in ({"community": COMMUNITY}, V3):
        r = await snmp.probe(target(port, "::1"), snmp.parse_params(raw | {"uplink_if": 4}), ctx)
        assert r.success and r.measurements["uplink_oper_status"] == 1, r.detail
