"""The lab's SNMP agent, read by net-snmp's own command-line manager and by our client."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator

import pytest

from netwatch.lab.snmp_agent import AgentState, SnmpAgentPool, V3User
from probes.base import Reason
from probes.snmp import codec as c
from probes.snmp.client import Attempts, SnmpClient, SnmpError

ADDR = "127.102.40.1"
COMMUNITY = "lab-community-1"
USER = V3User("labuser", "SHA256", "lab-auth-key", "AES128", "lab-priv-key")
UPTIME = "1.3.6.1.2.1.1.3.0"
OPER = "1.3.6.1.2.1.2.2.1.8.{}"
HIGH_SPEED = "1.3.6.1.2.1.31.1.1.1.15.{}"


async def net_snmp(tool: str, *args: str) -> str:
    """Run a net-snmp command-line tool and return its output, numeric OIDs, no retries."""
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"net-snmp {tool} is not installed (apt-get install snmp)")
    proc = await asyncio.create_subprocess_exec(
        path,
        "-On",
        "-r0",
        "-t1",
        "-m",
        "",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    return out.decode()


@pytest.fixture
async def pool() -> AsyncIterator[SnmpAgentPool]:
    async with SnmpAgentPool() as agents:
        yield agents


async def test_v2c_answers_follow_state_changes(pool: SnmpAgentPool) -> None:
    """snmpget sees the uplink's status and speed change as soon as the lab mutates them."""
    state = AgentState(if_index=5)
    port = await pool.add(ADDR, 0, state, community=COMMUNITY)
    args = ("-v2c", "-c", COMMUNITY, f"{ADDR}:{port}", UPTIME, OPER.format(5), HIGH_SPEED.format(5))
    out = await net_snmp("snmpget", *args)
    assert f"{OPER.format(5)} = INTEGER: 1" in out
    assert f"{HIGH_SPEED.format(5)} = Gauge32: 1000" in out and "Timeticks" in out
    state.oper_status, state.high_speed_mbps = 2, 100
    out = await net_snmp("snmpget", *args)
    assert f"{OPER.format(5)} = INTEGER: 2" in out and "Gauge32: 100\n" in out


@pytest.mark.parametrize(
    ("auth", "priv", "net_auth", "net_priv"),
    [
        ("SHA256", "AES128", "SHA-256", "AES"),
        ("SHA", "AES256", "SHA", "AES-256"),
        ("SHA512", "AES192", "SHA-512", "AES-192"),
        ("MD5", "DES", "MD5", "DES"),
    ],
)
async def test_v3_authpriv_with_net_snmp_manager(
    pool: SnmpAgentPool, auth: str, priv: str, net_auth: str, net_priv: str
) -> None:
    """net-snmp's manager discovers the agent's engine and reads it with authPriv."""
    user = V3User("labuser", auth, "lab-auth-key", priv, "lab-priv-key")
    port = await pool.add(ADDR, 0, AgentState(sys_descr="PDT base station"), v3=user)
    out = await net_snmp(
        "snmpget",
        "-v3",
        "-l",
        "authPriv",
        "-u",
        "labuser",
        "-a",
        net_auth,
        "-A",
        "lab-auth-key",
        "-x",
        net_priv,
        "-X",
        "lab-priv-key",
        f"{ADDR}:{port}",
        "1.3.6.1.2.1.1.1.0",
    )
    assert 'STRING: "PDT base station"' in out


async def test_walk_and_bulk_walk_cover_the_mib(pool: SnmpAgentPool) -> None:
    """GETNEXT and GETBULK walks list the system group and the one uplink row, then stop."""
    port = await pool.add(ADDR, 0, AgentState(if_index=9, if_name="xe-1/0/0"), community=COMMUNITY)
    for tool in ("snmpwalk", "snmpbulkwalk"):
        out = await net_snmp(tool, "-v2c", "-c", COMMUNITY, f"{ADDR}:{port}", "1.3.6.1.2.1")
        assert '.1.3.6.1.2.1.31.1.1.1.1.9 = STRING: "xe-1/0/0"' in out
        assert ".1.3.6.1.2.1.1.5.0" in out and "Timeout" not in out
        rows = [line for line in out.splitlines() if "No more variables" not in line]
        assert len(rows) == 25  # 6 system, ifNumber, 13 ifTable and 5 ifXTable columns


async def test_wrong_community_silent_and_removed_agents_do_not_answer(
    pool: SnmpAgentPool,
) -> None:
    """Wrong community, a silent agent and a removed agent all leave the manager waiting."""
    state = AgentState()
    port = await pool.add(ADDR, 0, state, community=COMMUNITY)
    get = ("snmpget", "-v2c", "-c")
    assert "Timeout" in await net_snmp(*get, "wrong", f"{ADDR}:{port}", UPTIME)
    state.silent = True
    assert "Timeout" in await net_snmp(*get, COMMUNITY, f"{ADDR}:{port}", UPTIME)
    state.silent = False
    assert "Timeticks" in await net_snmp(*get, COMMUNITY, f"{ADDR}:{port}", UPTIME)
    await pool.remove(ADDR, port)
    assert len(pool) == 0


async def test_v3_reports_name_the_problem(pool: SnmpAgentPool) -> None:
    """Unknown user, wrong digest and a wrong privacy key come back as usmStats reports."""
    port = await pool.add(ADDR, 0, AgentState(), v3=USER)
    vbs = c.enc_varbinds([((1, 3, 6, 1, 2, 1, 1, 3, 0), c.NULL_VALUE)])
    bad = {
        "unknown user": V3User("nobody", "SHA256", "lab-auth-key", "AES128", "lab-priv-key"),
        "wrong digest": V3User("labuser", "SHA256", "lab-auth-kex", "AES128", "lab-priv-key"),
        "decryption": V3User("labuser", "SHA256", "lab-auth-key", "AES128", "lab-priv-kex"),
    }
    async with SnmpClient.open() as client:
        pdu = await client.request(ADDR, port, USER, c.GET, vbs)
        assert pdu.varbinds[0][1][0] == c.TIMETICKS
        for words, user in bad.items():
            with pytest.raises(SnmpError, match=words) as err:
                await client.request(ADDR, port, user, c.GET, vbs, Attempts(1.0, 0))
            assert err.value.reason is Reason.AUTH


async def test_engine_ids_are_distinct_and_addresses_loopback_only(pool: SnmpAgentPool) -> None:
    """Each agent has its own engine id; non-loopback addresses and duplicates are refused."""
    a = await pool.add(ADDR, 0, AgentState(), v3=USER)
    b = await pool.add("127.102.40.2", 0, AgentState(), v3=USER)
    assert pool.engine_id(ADDR, a) != pool.engine_id("127.102.40.2", b)
    with pytest.raises(ValueError, match="not a loopback"):
        await pool.add("0.0.0.0", 0, AgentState(), community=COMMUNITY)
    with pytest.raises(ValueError, match="already exists"):
        await pool.add(ADDR, a, AgentState(), community=COMMUNITY)
    with pytest.raises(ValueError, match="community or a v3 user"):
        await pool.add("127.102.40.3", 0, AgentState())
