"""The JSON API: device and fault answers, filters, paging, reload outcomes, no secrets."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from netwatch.web.app import create_app
from tests.web.conftest import HOSTILE, INVENTORY, SECRETS, T0, City, bearer, write_inventory


@pytest.fixture
async def client(aiohttp_client, city: City) -> TestClient:  # type: ignore[no-untyped-def]
    return await aiohttp_client(create_app(city.deps()))


async def get(client: TestClient, path: str, token: str, status: int = 200) -> Any:
    resp = await client.get(path, headers=bearer(token))
    assert resp.status == status, await resp.text()
    return await resp.json()


async def test_device_answer_carries_state_checks_and_faults(client: TestClient,
                                                             city: City) -> None:
    """A device lists its inventory facts, latest cycle, per-check results and open faults
    with times in the inventory's zone and as Unix seconds."""
    body = await get(client, "/api/v1/devices", city.admin)
    devices = {d["id"]: d for d in body["devices"]}
    sw = devices["sw-e"]
    assert (sw["name"], sw["county"], sw["kind"], sw["address"], sw["site"]) == (
        "East core switch", "east", "switch", "127.66.1.1", "east-hq")
    assert (sw["lat"], sw["lon"], sw["parent"], sw["up"], sw["state"]) == (
        30.5, 120.1, None, False, "fault")
    last = T0 + 5 * 30
    assert sw["checked_at_unix"] == last
    assert datetime.fromisoformat(sw["checked_at"]).timestamp() == last
    assert sw["checked_at"].endswith("+08:00")
    assert sw["last_up_at"] is None and sw["last_up_at_unix"] is None
    assert sw["fault"] == "unreachable"
    assert [f["fault"] for f in sw["open_faults"]] == ["unreachable"]
    assert sw["open_faults"][0]["first_seen_unix"] == T0 + 30
    assert sw["suppressed_children"] == 2
    assert set(sw["checks"]) == {"icmp", "snmp"}
    assert sw["checks"]["snmp"]["reason"] == "timeout"
    assert sw["checks"]["snmp"]["success"] is False
    cam = devices["cam-e1"]
    assert cam["open_faults"][0]["suppressed_by"] == "sw-e"
    vc = devices["vc-w1"]
    assert (vc["state"], vc["up"], vc["open_faults"]) == ("up", True, [])
    assert vc["last_up_at_unix"] == last
    assert vc["checks"]["icmp"]["measurements"]["rtt_seconds"] == 0.002
    assert vc["checks"]["icmp"]["duration_seconds"] == 0.004
    ts = devices["ts-w1"]
    assert (ts["state"], ts["up"], ts["checked_at"]) == ("unknown", None, None)
    assert ts["checks"]["snmp"] == {"probe": "snmp", "port": 161, "success": None,
                                    "reason": None, "detail": None, "duration_seconds": None,
                                    "measurements": {}}


async def test_device_filters(client: TestClient, city: City) -> None:
    """kind, state and repeated county filters narrow the list and its total."""
    async def ids(query: str) -> set[str]:
        body = await get(client, f"/api/v1/devices?{query}", city.admin)
        assert body["total"] == len(body["devices"])
        return {d["id"] for d in body["devices"]}

    assert await ids("kind=camera") == {"cam-e1", "cam-e2", "cam-w1"}
    assert await ids("state=fault") == {"sw-e", "cam-e1", "cam-e2", "cam-w1"}
    assert await ids("state=up") == {"vc-w1"}
    assert await ids("state=unknown") == {"ts-w1"}
    assert await ids("county=west&kind=camera") == {"cam-w1"}
    assert await ids("county=east&county=west&state=unknown") == {"ts-w1"}
    assert await ids("county=south") == set()


async def test_device_state_down_before_a_fault_opens(client: TestClient, city: City) -> None:
    """A device failing its latest cycle without an open fault yet is 'down'."""
    city.runner.results["vc-w1"] = {"icmp": city.runner.results["cam-e1"]["icmp"],
                                    "sip": city.runner.results["cam-e1"]["rtsp"]}
    await city.sweep("vc_endpoint")
    body = await get(client, "/api/v1/devices?state=down", city.admin)
    assert [d["id"] for d in body["devices"]] == ["vc-w1"]


async def test_device_pagination(client: TestClient, city: City) -> None:
    """Pages of limit/offset cover every device once, in inventory order, with the total."""
    seen: list[str] = []
    for offset in range(0, 8, 2):
        body = await get(client, f"/api/v1/devices?limit=2&offset={offset}", city.admin)
        assert (body["total"], body["limit"], body["offset"]) == (6, 2, offset)
        seen += [d["id"] for d in body["devices"]]
    assert seen == [d.id for d in city.monitor.inventory.devices]


@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "offset=-1", "limit=ten",
                                   "state=broken", "kind=router", "kind=camera&kind=switch"])
async def test_bad_query_parameters_are_400(client: TestClient, city: City, query: str) -> None:
    """A bad parameter is a JSON 400 naming it."""
    body = await get(client, f"/api/v1/devices?{query}", city.admin, status=400)
    assert query.split("=")[0] in body["error"]


async def test_faults_open_by_default_with_suppression(client: TestClient, city: City) -> None:
    """Open faults come from the monitor; children under a failing parent are suppressed and
    counted on the parent."""
    body = await get(client, "/api/v1/faults", city.admin)
    faults = {(f["device"], f["fault"]): f for f in body["faults"]}
    assert set(faults) == {("sw-e", "unreachable"), ("cam-e1", "unreachable"),
                           ("cam-e2", "unreachable"), ("cam-w1", "service_down")}
    assert body["count"] == 4 and body["truncated"] is False
    sw = faults[("sw-e", "unreachable")]
    assert (sw["state"], sw["suppressed"], sw["suppressed_children"]) == ("open", False, 2)
    assert sw["first_seen_unix"] == T0 + 30
    assert sw["first_seen"].endswith("+08:00")
    assert sw["name"] == "East core switch"
    assert isinstance(sw["id"], int)
    cam = faults[("cam-e2", "unreachable")]
    assert (cam["suppressed"], cam["suppressed_by"], cam["name"]) == (True, "sw-e", HOSTILE)
    assert "connection refused" in faults[("cam-w1", "service_down")]["detail"]


async def test_fault_filters(client: TestClient, city: City) -> None:
    """suppressed, fault, kind, county and state filters each narrow the answer."""
    async def keys(query: str) -> set[tuple[str, str, str]]:
        body = await get(client, f"/api/v1/faults?{query}", city.admin)
        return {(f["device"], f["fault"], f["state"]) for f in body["faults"]}

    assert await keys("suppressed=true") == {("cam-e1", "unreachable", "open"),
                                             ("cam-e2", "unreachable", "open")}
    assert await keys("suppressed=false&county=east") == {("sw-e", "unreachable", "open")}
    assert await keys("fault=service_down") == {("cam-w1", "service_down", "open")}
    assert await keys("kind=switch") == {("sw-e", "unreachable", "open")}
    assert await keys("state=closed") == {("vc-w1", "service_down", "closed")}
    assert await keys("state=closed&fault=unreachable") == set()
    assert len(await keys("state=all")) == 5
    assert await keys("state=all&county=west&kind=vc_endpoint") == {
        ("vc-w1", "service_down", "closed")}


async def test_closed_faults_carry_their_episode(client: TestClient, city: City) -> None:
    """A closed episode says when it opened, closed and why."""
    body = await get(client, "/api/v1/faults?state=closed", city.admin)
    (vc,) = body["faults"]
    assert vc["close_reason"] == "recovered"
    assert vc["first_seen_unix"] == T0 + 30
    assert vc["opened_at_unix"] == T0 + 90
    assert vc["closed_at_unix"] == T0 + 150
    assert vc["closed_at"].endswith("+08:00")


async def test_fault_limit_truncates(client: TestClient, city: City) -> None:
    """limit caps the list and says it was cut."""
    body = await get(client, "/api/v1/faults?state=all&limit=2", city.admin)
    assert (body["count"], body["truncated"], len(body["faults"])) == (2, True, 2)


async def test_reload_ok_returns_counts(client: TestClient, city: City) -> None:
    """An admin reload swaps in the edited inventory and reports what changed."""
    extra = ("  - {id: cam-w2, kind: camera, county: west, address: 127.66.10.4, "
             "name: West school camera}\n")
    write_inventory(city.inventory_path.parent, INVENTORY + extra)
    resp = await client.post("/-/reload", headers=bearer(city.admin))
    assert resp.status == 200
    assert await resp.json() == {"ok": True, "added": 1, "removed": 0, "changed": 0, "kept": 6}
    body = await get(client, "/api/v1/devices?state=unknown", city.admin)
    assert {d["id"] for d in body["devices"]} == {"ts-w1", "cam-w2"}
    body = await get(client, "/api/v1/faults", city.admin)
    assert body["count"] == 4  # state of kept devices survives


async def test_bad_inventory_is_refused_and_the_old_one_runs_on(client: TestClient,
                                                                city: City) -> None:
    """A broken file gives 422 listing FILE:LINE problems; devices and faults are unchanged."""
    before = await get(client, "/api/v1/devices", city.admin)
    write_inventory(city.inventory_path.parent,
                    INVENTORY.replace("county: west, address: 127.66.3.1",
                                      "county: nowhere, address: 127.66.3.1"))
    resp = await client.post("/-/reload", headers=bearer(city.admin))
    assert resp.status == 422
    body = await resp.json()
    assert body["error"].startswith("inventory refused")
    (problem,) = body["detail"]["problems"]
    assert problem.startswith(f"{city.inventory_path}:")
    assert "unknown county" in problem
    assert await get(client, "/api/v1/devices", city.admin) == before


async def test_unexpected_failure_is_a_bare_500(aiohttp_client, city: City) -> None:
    """An exception in a handler gives a JSON 500 without its message or a traceback."""
    async def broken() -> dict[str, Any]:
        raise RuntimeError(f"boom {SECRETS[0]}")

    client = await aiohttp_client(create_app(city.deps(reload=broken)))
    resp = await client.post("/-/reload", headers=bearer(city.admin))
    assert resp.status == 500
    text = await resp.text()
    assert json.loads(text)["error"] == "internal error"
    assert "boom" not in text and "Traceback" not in text and SECRETS[0] not in text


async def test_unknown_path_and_method_are_json_errors(client: TestClient, city: City) -> None:
    """Routing errors are JSON too; 405 keeps its Allow header."""
    resp = await client.get("/nothing")
    assert resp.status == 404
    assert (await resp.json())["error"] == "not found"
    resp = await client.get("/-/reload", headers=bearer(city.admin))
    assert resp.status == 405
    assert "POST" in resp.headers["Allow"]
    assert (await resp.json())["error"] == "method not allowed"


async def test_no_secret_in_any_answer(client: TestClient, city: City) -> None:
    """SNMP communities and v3 keys seeded through ${ENV} appear in no API answer."""
    paths = ["/api/v1/devices", "/api/v1/devices?limit=1000", "/api/v1/faults?state=all",
             "/api/v1/openapi.json", "/", "/metrics", "/readyz", "/api/v1/devices?state=bad"]
    assert any(c.probe == "snmp" for d in city.monitor.inventory.devices for c in d.checks)
    for path in paths:
        resp = await client.get(path, headers=bearer(city.admin))
        text = await resp.text()
        for secret in SECRETS:
            assert secret not in text, path
    resp = await client.post("/-/reload", headers=bearer(city.admin))
    text = await resp.text()
    assert resp.status == 200
    for secret in SECRETS:
        assert secret not in text
