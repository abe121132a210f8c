"""Input that used to answer 500 (or the wrong thing) answers a 4xx naming the problem.

Ids in paths are ASCII digits within SQLite's range (``٣`` is not 3, ``²`` not 2);
JSON numbers that no double holds, bodies nested 100,000 deep and multipart forms
without a boundary are 400s; a JSON body with a UTF-8 byte-order mark is accepted as
CSV is; the OpenAPI document says which values are refused.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from netwatch.store import Store
from netwatch.web.openapi import document
from tests.web.conftest import City, bearer
from tests.web.test_notices import _item, client  # noqa: F401  (the notices app fixture)
from tests.web.test_survey_api import NORTH, Tokens, survey_app  # noqa: F401

JSON = {"Content-Type": "application/json"}


async def test_ids_are_ascii_digits_within_range(client: TestClient, city: City,  # noqa: F811
                                                 store: Store) -> None:
    auth = bearer(city.admin)
    assert (await client.get("/api/v1/notices/1", headers=auth)).status == 200
    for raw in ("%D9%A1", "%C2%B9", "%EF%BC%91", str(2**63), "9" * 40, "1e3", "-1", "+1"):
        for path in (f"/api/v1/notices/{raw}", f"/notices/{raw}", f"/notices/{raw}.md"):
            resp = await client.get(path, headers=auth)
            assert resp.status == 404, (path, resp.status)
            assert "error" in await resp.json(), path
    item = _item(store, "east")
    promised = (date.today() + timedelta(days=7)).isoformat()
    ack = {"note": "已派人", "promised_date": promised}
    for raw in ("%D9%A3", "%C2%B2", str(2**63 + item)):
        resp = await client.post(f"/api/v1/notice-items/{raw}/ack", json=ack, headers=auth)
        assert resp.status == 404, raw
    resp = await client.post(f"/api/v1/notice-items/{item}/ack", json=ack, headers=auth)
    assert resp.status == 200


async def test_nested_ack_body_is_a_400(client: TestClient, city: City,  # noqa: F811
                                        store: Store) -> None:
    item = _item(store, "east")
    resp = await client.post(f"/api/v1/notice-items/{item}/ack",
                             data=b"[" * 100_000 + b"]" * 100_000,
                             headers={**bearer(city.admin), **JSON})
    assert resp.status == 400 and (await resp.json())["error"] == "the body is nested too deeply"


async def test_readings_numbers_nesting_and_bom(
        survey_app: tuple[TestClient, Tokens], store: Store) -> None:  # noqa: F811
    http, tokens = survey_app
    auth = {**bearer(tokens.north_tester), **JSON}
    base = '{"point": "n-cp-1", "taken_at": "2026-01-01T08:00:00+08:00", '
    for field, number in (("rssi_dbm", "1e400"), ("rssi_dbm", "1" + "0" * 400),
                          ("lat", "-1" + "0" * 5000), ("ber", "1" + "0" * 20)):
        extra = {"lat": ', "lon": 106.1, "rssi_dbm": -95', "ber": ', "rssi_dbm": -95'}.get(
            field, "")
        body = base + f'"{field}": {number}{extra}' + "}"
        resp = await http.post("/api/v1/readings", data=body.encode(), headers=auth)
        assert resp.status == 400, (field, number[:10], await resp.text())
        assert [p["field"] for p in (await resp.json())["detail"]] == [field]
    resp = await http.post("/api/v1/readings", data=b"[" * 100_000 + b"]" * 100_000,
                           headers=auth)
    assert resp.status == 400
    assert (await resp.json())["detail"][0]["reason"] == "the body is nested too deeply"
    assert store.conn.execute("SELECT count(*) FROM readings").fetchone()[0] == 0
    resp = await http.post("/api/v1/readings", data=b"\xef\xbb\xbf" + _json(NORTH),
                           headers=auth)
    assert resp.status == 201, await resp.text()


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


async def test_multipart_without_a_boundary_is_a_400(client: TestClient,  # noqa: F811
                                                     city: City) -> None:
    bare = {"Content-Type": "multipart/form-data"}
    resp = await client.post("/login", data=b"token=x", headers=bare)
    assert resp.status == 400 and (await resp.json())["error"] == "malformed form body"
    resp = await client.post("/login", data={"token": city.east, "next": "/"},
                             allow_redirects=False)
    assert resp.status == 303
    for path in ("/logout", "/api/v1/notice-items/1/ack"):
        resp = await client.post(path, data=b"csrf_token=x", headers=bare)
        assert resp.status == 400, path
        assert (await resp.json())["error"] == "malformed form body", path


async def test_empty_county_and_note_are_refused_as_the_document_says(
        client: TestClient, city: City, store: Store) -> None:  # noqa: F811
    doc = document("1.0")
    for path in ("/api/v1/devices", "/api/v1/faults", "/api/v1/blind-spots",
                 "/api/v1/points", "/api/v1/notices"):
        (param,) = [p for p in doc["paths"][path]["get"]["parameters"] if p["name"] == "county"]
        schema = param["schema"].get("items", param["schema"])
        assert schema["minLength"] == 1, path
    for path in ("/api/v1/devices", "/api/v1/faults", "/api/v1/notices"):
        resp = await client.get(f"{path}?county=", headers=bearer(city.admin))
        assert resp.status == 400, path
    ack = doc["paths"]["/api/v1/notice-items/{id}/ack"]["post"]["requestBody"]
    note = ack["content"]["application/json"]["schema"]["properties"]["note"]
    assert note["minLength"] == 1 and note["pattern"] == "\\S"
    item = _item(store, "east")
    promised = (date.today() + timedelta(days=7)).isoformat()
    for blank in ("", "   "):
        resp = await client.post(f"/api/v1/notice-items/{item}/ack",
                                 json={"note": blank, "promised_date": promised},
                                 headers=bearer(city.admin))
        assert resp.status == 400
