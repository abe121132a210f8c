"""Two instances over one store, each active for its own counties: either one's API answers for
every county, its own from memory and the other's from the store (``device_status`` rows and
open fault episodes), with the states and faults one instance alone would give.

Instance a holds the leases of east and south, b that of west; each has its own database
thread and its own scripted probes. Each sees the other's counties as healthy in its shadow
checks, so an answer taken from the wrong place shows. The script is the web city's: sw-e
down with its two cameras suppressed under it, cam-w1's RTSP refused, vc-w1's SIP down for
three cycles then back; the trunking site is never swept.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from netwatch.inventory import load_inventory
from netwatch.metrics import Exposition
from netwatch.monitor import Monitor, Ownership, StatusWriter, claim, leases
from netwatch.store import Store, StoreThread, TokenStore
from netwatch.web.app import WebDeps, create_app
from netwatch.web.auth import StoredTokens
from netwatch.web.ratelimit import RateLimiter
from probes.base import Reason
from tests.web.conftest import (
    ENV,
    HEALTHY,
    PING,
    T0,
    Clock,
    ScriptedRunner,
    bearer,
    fail,
    ok,
    write_inventory,
)

BOTH_ENGINES = True
KINDS = ("switch", "camera", "vc_endpoint")
EAST, WEST = ("sw-e", "cam-e1", "cam-e2"), ("vc-w1", "cam-w1", "ts-w1")


@dataclass
class Instance:
    name: str
    monitor: Monitor
    writer: StatusWriter
    runner: ScriptedRunner
    client: TestClient

    async def sweep(self) -> None:
        """One cycle of the swept kinds, and its writes (which a daemon does not wait for)."""
        for key, group in list(self.monitor.groups.items()):
            if group.kind in KINDS:
                await self.monitor.run_group(key)
        assert await self.monitor.writes.flush(10.0)
        await self.writer.flush(10.0)

    async def get(self, path: str, token: str, status: int = 200) -> Any:
        resp = await self.client.get(path, headers=bearer(token))
        assert resp.status == status, await resp.text()
        return await resp.json()


@dataclass
class Pair:
    a: Instance
    b: Instance
    clock: Clock
    store: Store
    admin: str
    east: str  # a county token for east
    west: str  # a county token for west

    async def cycle(self) -> None:
        self.clock.now += 30
        await self.a.sweep()
        await self.b.sweep()


def script(runner: ScriptedRunner, mine: tuple[str, ...], cycle: int) -> None:
    """The city's cycle for the devices of ``mine``; the others answer (a shadow's view)."""
    runner.results = dict(HEALTHY)
    broken = {"sw-e": {"icmp": fail(), "snmp": fail()},
              "cam-e1": {"icmp": fail(), "rtsp": fail()},
              "cam-e2": {"icmp": fail(), "rtsp": fail()},
              "cam-w1": {"icmp": ok(**PING), "rtsp": fail(Reason.REFUSED, "connection refused")}}
    if cycle < 3:
        broken["vc-w1"] = {"icmp": ok(**PING), "sip": fail()}
    runner.results.update({d: r for d, r in broken.items() if d in mine})


@pytest.fixture
async def pair(aiohttp_client, tmp_path: Path, store: Store,  # type: ignore[no-untyped-def]
               db: StoreThread) -> AsyncIterator[Pair]:
    path = write_inventory(tmp_path)
    clock = Clock()
    tokens = TokenStore(store, clock=clock)
    threads = [db, StoreThread.open(store.path)]  # each instance its own database thread

    async def reload() -> dict[str, Any]:
        return {"ok": True}

    made = []
    for (name, counties), thread in zip((("a", {"east", "south"}), ("b", {"west"})), threads,
                                        strict=True):
        held = claim(store, name, counties, {}).held
        ownership = Ownership(name, frozenset(counties), generations=dict(held))
        runner = ScriptedRunner()
        monitor = Monitor(load_inventory(path, env=ENV), runner, thread,  # type: ignore[arg-type]
                          clock=clock, ownership=ownership)
        writer = StatusWriter(monitor)
        monitor.listeners.append(writer.on_sweep)
        deps = WebDeps(monitor=monitor, tokens=StoredTokens(thread, clock=clock),
                       limiter=RateLimiter(limit=3, per=60.0, clock=clock),
                       exposition=Exposition(monitor, clock=clock, process_metrics=False),
                       reload=reload, version="9.9.9")
        made.append(Instance(name, monitor, writer, runner, await aiohttp_client(
            create_app(deps))))
    pair = Pair(made[0], made[1], clock, store, tokens.create("admin", []).token,
                tokens.create("county", ["east"]).token,
                tokens.create("county", ["west"]).token)
    for cycle in range(5):
        script(pair.a.runner, EAST, cycle)
        script(pair.b.runner, WEST, cycle)
        await pair.cycle()
    try:
        yield pair
    finally:
        threads[1].close()


async def devices(instance: Instance, token: str, query: str = "") -> dict[str, Any]:
    body = await instance.get(f"/api/v1/devices?{query}", token)
    assert body["total"] == len(body["devices"])
    return {d["id"]: d for d in body["devices"]}


async def test_each_instance_lists_every_county_s_devices(pair: Pair) -> None:
    for instance, here, there in ((pair.a, EAST, WEST), (pair.b, WEST, EAST)):
        found = await devices(instance, pair.admin)
        assert list(found) == [*EAST, *WEST]  # inventory order, as one instance gives it
        assert {d: found[d]["state"] for d in found} == {
            "sw-e": "fault", "cam-e1": "fault", "cam-e2": "fault", "vc-w1": "up",
            "cam-w1": "fault", "ts-w1": "unknown"}, instance.name
        assert all("source" not in found[d] for d in here)  # its own probes
        assert {found[d]["source"] for d in there} == {"store"}
    west = leases(pair.store, ["west"])["west"]
    cam = (await devices(pair.a, pair.admin))["cam-w1"]  # b's county, seen from a
    assert (cam["up"], cam["fault"], cam["reasons"]) == (False, "service_down",
                                                         ["rtsp: refused"])
    assert (cam["written_by"], cam["as_of_unix"]) == ("b", west.renewed)
    assert (cam["checked_at_unix"], cam["state_since_unix"]) == (T0 + 30, T0 + 30)
    assert cam["last_up_at_unix"] is None and cam["checked_at"].endswith("+08:00")
    assert cam["checks"]["rtsp"] == {"probe": "rtsp", "port": 554, "success": False,
                                     "reason": "refused", "detail": "connection refused",
                                     "duration_seconds": None, "measurements": {}}
    assert [(f["fault"], f["first_seen_unix"]) for f in cam["open_faults"]] == [
        ("service_down", T0 + 30)]
    sw = (await devices(pair.b, pair.admin))["sw-e"]  # a's county, seen from b
    assert (sw["up"], sw["fault"], sw["suppressed_children"], sw["written_by"]) == (
        False, "unreachable", 2, "a")
    assert sw["checks"]["snmp"]["reason"] == "timeout"
    vc = (await devices(pair.a, pair.admin))["vc-w1"]
    assert (vc["up"], vc["state_since_unix"], vc["open_faults"]) == (True, T0 + 120, [])
    ts = (await devices(pair.a, pair.admin))["ts-w1"]  # never swept: no row
    assert (ts["state"], ts["up"], ts["checked_at"], ts["written_by"]) == (
        "unknown", None, None, None)


async def test_filters_paging_and_token_scopes_span_both_sources(pair: Pair) -> None:
    for instance in (pair.a, pair.b):
        async def ids(query: str, token: str = pair.admin, of: Instance = instance) -> set[str]:
            return set(await devices(of, token, query))

        assert await ids("state=fault") == {"sw-e", "cam-e1", "cam-e2", "cam-w1"}
        assert await ids("state=up") == {"vc-w1"}
        assert await ids("state=unknown") == {"ts-w1"}
        assert await ids("state=down") == set()
        assert await ids("kind=camera") == {"cam-e1", "cam-e2", "cam-w1"}
        assert await ids("county=west&kind=camera") == {"cam-w1"}
        assert await ids("county=east&county=west&state=unknown") == {"ts-w1"}
        assert await ids("", pair.east) == set(EAST)
        assert await ids("", pair.west) == set(WEST)
        await instance.get("/api/v1/devices?county=east", pair.west, status=403)
        seen: list[str] = []
        for offset in range(0, 8, 2):
            body = await instance.get(f"/api/v1/devices?limit=2&offset={offset}", pair.admin)
            assert (body["total"], body["offset"]) == (6, offset)
            seen += [d["id"] for d in body["devices"]]
        assert seen == [*EAST, *WEST]


async def test_each_instance_lists_every_county_s_faults(pair: Pair) -> None:
    answers = []
    for instance in (pair.a, pair.b):
        async def keys(query: str, of: Instance = instance) -> set[tuple[str, str, str]]:
            body = await of.get(f"/api/v1/faults?{query}", pair.admin)
            return {(f["device"], f["fault"], f["state"]) for f in body["faults"]}

        body = await instance.get("/api/v1/faults", pair.admin)
        answers.append(body)
        found = {(f["device"], f["fault"]): f for f in body["faults"]}
        assert set(found) == {("sw-e", "unreachable"), ("cam-e1", "unreachable"),
                              ("cam-e2", "unreachable"), ("cam-w1", "service_down")}
        sw = found[("sw-e", "unreachable")]
        assert (sw["suppressed_children"], sw["first_seen_unix"]) == (2, T0 + 30)
        assert found[("cam-e2", "unreachable")]["suppressed_by"] == "sw-e"
        assert "connection refused" in found[("cam-w1", "service_down")]["detail"]
        assert await keys("suppressed=true") == {("cam-e1", "unreachable", "open"),
                                                 ("cam-e2", "unreachable", "open")}
        assert await keys("fault=service_down") == {("cam-w1", "service_down", "open")}
        assert await keys("state=closed") == {("vc-w1", "service_down", "closed")}
        assert len(await keys("state=all")) == 5
        east_only = await instance.get("/api/v1/faults", pair.east)
        assert {f["device"] for f in east_only["faults"]} == set(EAST)
    # the same episodes, in the same order, whichever instance answers
    assert answers[0] == answers[1]


async def test_a_device_going_down_shows_on_the_other_instance_once_written(pair: Pair) -> None:
    """vc-w1 (b's county) stops answering: a says 'down' after b's sweep wrote it, then
    'fault' once b opened its fault, and 'up' again after b saw it back."""
    assert (await devices(pair.a, pair.admin))["vc-w1"]["state"] == "up"
    pair.b.runner.results["vc-w1"] = {"icmp": fail(), "sip": fail()}
    pair.clock.now += 30
    assert (await devices(pair.a, pair.admin))["vc-w1"]["state"] == "up"  # not swept yet
    await pair.b.sweep()
    vc = (await devices(pair.a, pair.admin, "state=down"))["vc-w1"]
    assert (vc["up"], vc["fault"], vc["state_since_unix"]) == (False, "unreachable",
                                                               pair.clock.now)
    for _ in range(10):
        if (await devices(pair.a, pair.admin))["vc-w1"]["state"] == "fault":
            break
        pair.clock.now += 30
        await pair.b.sweep()
    faults = await pair.a.get("/api/v1/faults?county=west", pair.admin)
    assert ("vc-w1", "unreachable") in {(f["device"], f["fault"]) for f in faults["faults"]}
    pair.b.runner.results["vc-w1"] = dict(HEALTHY["vc-w1"])
    pair.clock.now += 30
    await pair.b.sweep()
    assert (await devices(pair.a, pair.admin))["vc-w1"]["up"] is True
