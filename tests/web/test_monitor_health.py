"""Skipped checks (the monitor's own limits) open no fault, close none, and turn the
monitor's own health red: the skip counter, ``netwatch_monitor_degraded`` and ``/readyz``
says so in its body (never by a 503)."""

from __future__ import annotations

from netwatch.monitor.capacity import Capacity, assess, problems
from netwatch.web.app import create_app
from probes.base import ProbeResult, Reason
from tests.web.conftest import HEALTHY, PING, City, ok


def skip(reason: Reason = Reason.ENGINE_SATURATED) -> ProbeResult:
    return ProbeResult.fail(reason, "not sent: ICMP engine saturated")


def faults(city: City) -> set[tuple[str, str]]:
    return {(f.device, f.fault) for f in city.monitor.open_faults()}


async def test_skipped_checks_open_no_fault(city: City) -> None:
    """A healthy camera whose ICMP is skipped for many cycles (its RTSP failing too, by the
    same shortage) opens nothing; the counter says how many and why."""
    before = faults(city)
    for _ in range(6):
        city.runner.results = dict(HEALTHY)
        city.runner.results["cam-w1"] = {"icmp": skip(),
                                         "rtsp": skip(Reason.LOCAL_RESOURCES)}
        await city.sweep("camera")
    assert faults(city) - before == set()
    assert city.monitor.skipped[("camera", "engine_saturated")] == 6
    assert city.monitor.skipped[("camera", "local_resources")] == 6
    text = city.exposition.render().decode()
    assert 'netwatch_checks_skipped_total{kind="camera",reason="engine_saturated"} 6' in text
    assert "netwatch_monitor_degraded 1" in text


async def test_skipped_checks_close_no_fault(city: City) -> None:
    """A camera down with an open fault stays open while its checks are only skipped."""
    assert ("cam-w1", "service_down") in faults(city)
    for _ in range(4):
        city.runner.results = dict(HEALTHY)
        city.runner.results["cam-w1"] = {"icmp": ok(**PING), "rtsp": skip(Reason.BATCH_OVERRAN)}
        await city.sweep("camera")
    assert ("cam-w1", "service_down") in faults(city)


async def test_readyz_stays_200_while_degraded(aiohttp_client, city: City) -> None:
    """Skipped checks make /readyz say ``degraded`` with the group and reason, and the metric
    1, while the status a load balancer reads stays 200 (the instance still serves); once
    sweeps are whole the body is clean again."""
    client = await aiohttp_client(create_app(city.deps()))
    await city.sweep("trunking_site")
    resp = await client.get("/readyz")
    assert (resp.status, await resp.json()) == (
        200, {"ready": True, "degraded": False, "pending": [], "problems": [],
              "counties": {}, "duties": "active"})
    city.runner.results = dict(HEALTHY)
    city.runner.results["cam-e1"] = {"icmp": skip(), "rtsp": ok(status_code=200)}
    await city.sweep("camera")
    resp = await client.get("/readyz")
    body = await resp.json()
    assert resp.status == 200 and body["ready"] is True and body["degraded"] is True
    assert [p for p in body["problems"] if "camera@" in p and "engine_saturated 1" in p]
    assert "netwatch_monitor_degraded 1" in city.exposition.render().decode()
    city.runner.results = dict(HEALTHY)
    await city.sweep("camera")
    resp = await client.get("/readyz")
    assert (resp.status, (await resp.json())["degraded"]) == (200, False)
    assert "netwatch_monitor_degraded 0" in city.exposition.render().decode()


async def test_a_reload_adding_a_group_keeps_the_instance_ready(aiohttp_client,
                                                                city: City) -> None:
    """Ready once every group of the first inventory was swept; a reload that adds a group
    lists it as pending until its sweep, and the answer stays 200."""
    client = await aiohttp_client(create_app(city.deps()))
    await city.sweep("trunking_site")
    text = city.inventory_path.read_text(encoding="utf-8")
    city.inventory_path.write_text(text + (
        "  - {id: cam-s1, kind: camera, county: south, address: 127.66.10.9, name: South cam,"
        " interval: 45s}\n"), encoding="utf-8")
    assert (await city.reload())["ok"] is True
    resp = await client.get("/readyz")
    body = await resp.json()
    assert resp.status == 200 and body["ready"] is True and body["pending"] == ["camera@45s"]
    await city.sweep("camera")
    resp = await client.get("/readyz")
    assert (resp.status, (await resp.json())["pending"]) == (200, [])


async def test_readyz_and_metrics_say_when_the_inventory_is_over_capacity(
    aiohttp_client, city: City
) -> None:
    """An inventory over a capacity setting: /readyz degraded with what to change, and the
    load ratio over 1 in /metrics."""
    await city.sweep("trunking_site")
    tiny = Capacity(icmp_rate=1.0)
    loads = assess(city.monitor.inventory.devices, tiny)
    city.monitor.capacity = loads
    city.monitor.capacity_problems = problems(loads, tiny)
    client = await aiohttp_client(create_app(city.deps()))
    resp = await client.get("/readyz")
    body = await resp.json()
    assert resp.status == 200 and body["degraded"] is True
    assert any("icmp_echoes" in p and "NETWATCH_ICMP_RATE" in p for p in body["problems"])
    text = city.exposition.render().decode()
    ratio = next(line for line in text.splitlines()
                 if line.startswith('netwatch_capacity_load_ratio{resource="icmp_echoes"}'))
    assert float(ratio.rsplit(" ", 1)[1]) > 1
