"""Declared outages (停机报备) over the web with real tokens and sessions, on both engines:
a county declares for its own devices only, never reads, changes or cancels another's,
cannot cancel at all; the audit keeps every change; the page's forms need the CSRF token."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient

from netwatch.store import Store
from netwatch.web.app import create_app
from tests.web.conftest import City, bearer

BOTH_ENGINES = True
HOST = "127.31.0.2"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def at(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


async def client_for(aiohttp_client: Any, city: City) -> TestClient:
    city.clock.now = time.time()  # the monitor's clock meets the web's: declarations are now
    return await aiohttp_client(create_app(city.deps(store=True)), server_kwargs={"host": HOST})


async def declare(client: TestClient, token: str, **body: Any) -> Any:
    body.setdefault("end", at(120))
    body.setdefault("reason", "roadworks")
    return await client.post("/api/v1/outages", json=body, headers=bearer(token))


async def test_a_county_declares_only_for_its_own_devices(aiohttp_client: Any, city: City,
                                                          store: Store) -> None:
    client = await client_for(aiohttp_client, city)
    resp = await declare(client, city.east, under="sw-e", note="路面开挖")
    assert resp.status == 201, await resp.text()
    made = await resp.json()
    assert made["county"] == "east" and made["devices"] == ["cam-e1", "cam-e2", "sw-e"]
    assert made["state"] == "active" and made["reason_words"] == "道路施工"
    assert made["made_by"] not in (city.east,) and city.east not in await resp.text()
    # the monitor's view has it at once, without waiting for a sweep
    assert set(city.monitor.declared.by_device) >= {"sw-e", "cam-e1", "cam-e2"}

    theirs = await declare(client, city.east, devices=["cam-w1"])
    assert theirs.status == 403
    assert (await theirs.json())["detail"]["devices"] == ["cam-w1"]
    unknown = await declare(client, city.east, devices=["cam-zz"])
    assert unknown.status == 422 and (await unknown.json())["detail"]["devices"] == ["cam-zz"]
    past = await declare(client, city.east, devices=["cam-e1"], start=at(-10))
    assert past.status == 422 and (await past.json())["detail"]["field"] == "start"
    bad_time = await declare(client, city.east, devices=["cam-e1"], end="tomorrow")
    assert bad_time.status == 400 and (await bad_time.json())["detail"]["field"] == "end"
    overlap = await declare(client, city.east, devices=["cam-e2"], start=at(30))
    assert overlap.status == 409
    answer = await overlap.json()
    assert answer["detail"]["declaration"] == made["id"] and str(made["id"]) in answer["error"]
    other_county = await declare(client, city.east, county="west", devices=["cam-w1"])
    assert other_county.status == 403


async def test_another_county_cannot_read_change_or_cancel(aiohttp_client: Any, city: City,
                                                            store: Store) -> None:
    west = city.tokens.create("county", ["west"]).token
    client = await client_for(aiohttp_client, city)
    made = await (await declare(client, city.east, devices=["cam-e1"])).json()
    path = f"/api/v1/outages/{made['id']}"
    for method, suffix, body in (("GET", "", None), ("GET", "/audit", None),
                                 ("PATCH", "", {"end": "now"})):
        resp = await client.request(method, path + suffix, json=body, headers=bearer(west))
        assert resp.status == 404, (method, suffix)
    listed = await (await client.get("/api/v1/outages", headers=bearer(west))).json()
    assert listed == {"total": 0, "outages": []}
    asked = await client.get("/api/v1/outages?county=east", headers=bearer(west))
    assert asked.status == 403
    mine = await (await client.get("/api/v1/outages", headers=bearer(city.east))).json()
    assert [o["id"] for o in mine["outages"]] == [made["id"]]

    cancel = await client.post(path + "/cancel", json={}, headers=bearer(city.east))
    assert cancel.status == 403  # only an admin cancels, even its own
    shorter = await client.patch(path, json={"end": at(60)}, headers=bearer(city.east))
    assert shorter.status == 200 and (await shorter.json())["state"] == "active"
    longer = await client.patch(path, json={"end": at(600)}, headers=bearer(city.east))
    assert longer.status == 422 and (await longer.json())["detail"]["field"] == "end"
    cancelled = await client.post(path + "/cancel", json={"note": "未经审批"},
                                  headers=bearer(city.admin))
    assert cancelled.status == 200 and (await cancelled.json())["state"] == "cancelled"
    again = await client.patch(path, json={"end": "now"}, headers=bearer(city.east))
    assert again.status == 409

    trail = await (await client.get(path + "/audit", headers=bearer(city.admin))).json()
    assert [a["action"] for a in trail["audit"]] == ["declare", "shorten", "cancel"]
    actors = [a["actor"] for a in trail["audit"]]
    assert actors[0] == actors[1] != actors[2]
    assert trail["audit"][2]["detail"]["note"] == "未经审批"
    body = await (await client.get(path + "/audit", headers=bearer(city.east))).text()
    for secret in (city.east, city.admin):
        assert secret not in body


async def test_an_admin_must_name_the_county(aiohttp_client: Any, city: City,
                                             store: Store) -> None:
    client = await client_for(aiohttp_client, city)
    nameless = await declare(client, city.admin, devices=["cam-w1"])
    assert nameless.status == 400 and (await nameless.json())["detail"]["field"] == "county"
    named = await declare(client, city.admin, county="west", devices=["cam-w1"],
                          reason="other", note="搬迁机房")
    assert named.status == 201 and (await named.json())["county"] == "west"


async def login_and_csrf(client: TestClient, token: str) -> str:
    resp = await client.post("/login", data={"token": token, "next": "/outages"},
                             allow_redirects=False)
    assert resp.status == 303
    page = await client.get("/outages")
    assert page.status == 200
    found = CSRF_FIELD.search(await page.text())
    assert found is not None
    return found.group(1)


async def test_the_page_declares_and_ends_with_the_csrf_token(aiohttp_client: Any,
                                                              city: City, store: Store) -> None:
    client = await client_for(aiohttp_client, city)
    unauthenticated = await client.get("/outages", allow_redirects=False)
    assert unauthenticated.status == 303
    assert unauthenticated.headers["Location"].startswith("/login?")
    csrf = await login_and_csrf(client, city.east)
    # a datetime-local field's value: the city's local time, without an offset
    end = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(hours=2)).strftime(
        "%Y-%m-%dT%H:%M")
    form = {"how": "devices", "what": "cam-e1，cam-e2", "start": "", "end": end,
            "reason": "power", "note": ""}
    refused = await client.post("/outages", data=form, allow_redirects=False)
    assert refused.status == 403  # no CSRF token: the middleware refuses the cookie's write
    assert (await client.get("/api/v1/outages")).status == 200
    assert (await (await client.get("/api/v1/outages")).json())["total"] == 0

    done = await client.post("/outages", data={**form, "csrf_token": csrf},
                             allow_redirects=False)
    assert done.status == 303 and done.headers["Location"] == "/outages"
    page = await (await client.get("/outages")).text()
    assert "停机中 active" in page and "电力检修" in page and "cam-e1、cam-e2" in page
    again = await client.post("/outages", data={**form, "csrf_token": csrf},
                              allow_redirects=False)
    assert again.status == 409
    text = await again.text()
    assert "报备未记录" in text and "与已有报备的设备和时间重叠" in text
    assert 'value="cam-e1，cam-e2"' in text  # the values are kept
    theirs = await client.post("/outages", data={**form, "what": "cam-w1", "csrf_token": csrf},
                               allow_redirects=False)
    assert theirs.status == 403 and "含其他县区的设备" in await theirs.text()

    [listed] = (await (await client.get("/api/v1/outages")).json())["outages"]
    ended = await client.post(f"/outages/{listed['id']}/end", data={"csrf_token": csrf},
                              allow_redirects=False)
    assert ended.status == 303
    [after] = (await (await client.get("/api/v1/outages")).json())["outages"]
    assert after["state"] == "ended"
    assert after["end_unix"] < datetime.now(UTC).timestamp() + 1
