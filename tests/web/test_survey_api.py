"""POST /api/v1/readings and GET /api/v1/points over the real app, store and tokens."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from aiohttp.typedefs import Handler

from netwatch.metrics import Exposition
from netwatch.monitor import Monitor
from netwatch.store import Store, StoreThread, TokenStore
from netwatch.web.app import WebDeps, create_app
from netwatch.web.auth import StoredTokens
from netwatch.web.ratelimit import RateLimiter
from netwatch.web.survey import ROWS_LIMIT, VIA_SESSION
from tests.survey.city import load_city
from tests.web.conftest import Clock, ScriptedRunner, bearer

BOTH_ENGINES = True  # readings and their idempotency keys on both engines
NORTH: dict[str, Any] = {"point": "n-cp-1", "taken_at": "2026-01-01T08:00:00+08:00",
                         "rssi_dbm": -95}
SOUTH: dict[str, Any] = {"lat": 38.2, "lon": 106.1, "taken_at": "2026-01-01T08:00:00Z",
                         "technology": "pdt", "rssi_dbm": -112}


@dataclass
class Tokens:
    admin: str
    north_tester: str  # named "alice"
    county: str


@web.middleware
async def session_marker(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Stands in for the phone form's session middleware: marks requests it would mark."""
    if request.headers.get("X-Test-Session"):
        request[VIA_SESSION] = True
    return await handler(request)


@pytest.fixture
async def survey_app(aiohttp_client, tmp_path: Path,  # type: ignore[no-untyped-def]
                     store: Store, db: StoreThread) -> tuple[TestClient, Tokens]:
    """The app over the survey city, with a long retention.

    The API takes ``time.time()`` as now, so the fixed 2026-01-01 readings stay
    within retention by widening it rather than by moving a clock.
    """
    inv = load_city(tmp_path)
    inv = replace(inv, coverage=replace(inv.coverage, retention_seconds=100 * 365 * 86400.0))
    clock = Clock()
    monitor = Monitor(inv, ScriptedRunner(), db, clock=clock)  # type: ignore[arg-type]

    async def reload() -> dict[str, Any]:
        return {"ok": True}

    token_store = TokenStore(store, clock=clock)
    tokens = Tokens(admin=token_store.create("admin", []).token,
                    north_tester=token_store.create("tester", ["north"], name="alice").token,
                    county=token_store.create("county", ["north"]).token)
    deps = WebDeps(monitor=monitor, tokens=StoredTokens(db, clock=clock),
                   limiter=RateLimiter(limit=3, per=60.0, clock=Clock()),
                   exposition=Exposition(monitor, clock=clock, process_metrics=False),
                   reload=reload, db=db, version="9.9.9")
    app = create_app(deps)
    app.middlewares.append(session_marker)
    return await aiohttp_client(app), tokens


def readings(store: Store) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in store.execute(
        "SELECT id, tester, county, source FROM readings ORDER BY id")]


async def test_json_object_and_array_201(survey_app: tuple[TestClient, Tokens],
                                         store: Store) -> None:
    """One object or an array: 201 with the ids; the tester is the token's name."""
    client, tokens = survey_app
    resp = await client.post("/api/v1/readings", json=NORTH, headers=bearer(tokens.north_tester))
    assert resp.status == 201
    (first,) = (await resp.json())["ids"]
    resp = await client.post("/api/v1/readings", json=[SOUTH, {**SOUTH, "rssi_dbm": -100}],
                             headers=bearer(tokens.admin))
    assert resp.status == 201
    ids = (await resp.json())["ids"]
    assert readings(store)[0] == (first, "alice", "north", "api")
    assert [r[0] for r in readings(store)[1:]] == ids


async def test_source_form_via_session(survey_app: tuple[TestClient, Tokens],
                                       store: Store) -> None:
    """A request the form's session marked is stored with source ``form``."""
    client, tokens = survey_app
    resp = await client.post("/api/v1/readings", json=NORTH,
                             headers={**bearer(tokens.north_tester), "X-Test-Session": "1"})
    assert resp.status == 201
    assert readings(store)[0][3] == "form"


async def test_exact_resubmission_is_201_with_same_ids(survey_app: tuple[TestClient, Tokens],
                                                       store: Store) -> None:
    """Sending the same body again answers 201 with the same ids and stores nothing new."""
    client, tokens = survey_app
    body = [{**NORTH, "client_id": "phone-1"}, NORTH]
    first = await client.post("/api/v1/readings", json=body, headers=bearer(tokens.north_tester))
    again = await client.post("/api/v1/readings", json=body, headers=bearer(tokens.north_tester))
    assert first.status == again.status == 201
    assert (await first.json()) == (await again.json())
    assert len(readings(store)) == 2


async def test_conflict_409(survey_app: tuple[TestClient, Tokens], store: Store) -> None:
    """The same client_id with another body is 409 naming the row; nothing of it stored."""
    client, tokens = survey_app
    auth = bearer(tokens.north_tester)
    await client.post("/api/v1/readings", json={**NORTH, "client_id": "c"}, headers=auth)
    resp = await client.post("/api/v1/readings",
                             json=[NORTH, {**NORTH, "client_id": "c", "rssi_dbm": -60}],
                             headers=auth)
    assert resp.status == 409
    body = await resp.json()
    assert body["detail"] == [{"row": 1, "field": "client_id",
                               "reason": "this client_id was used for a different reading"}]
    assert len(readings(store)) == 1


async def test_csv_body(survey_app: tuple[TestClient, Tokens], store: Store) -> None:
    """text/csv is accepted; its problems carry spreadsheet row numbers."""
    client, tokens = survey_app
    csv = ("point,taken_at,rssi_dbm,note\n"
           "n-cp-1,2026-01-01T08:00:00+08:00,-95,=cmd()\n")
    resp = await client.post("/api/v1/readings", data=csv.encode(),
                             headers={**bearer(tokens.north_tester), "Content-Type": "text/csv"})
    assert resp.status == 201
    note = store.execute("SELECT note FROM readings").fetchone()[0]
    assert note == "'=cmd()"
    bad = csv + "n-cp-1,2026-01-01T08:00:00+08:00,-5,\n"
    resp = await client.post("/api/v1/readings", data=bad.encode(),
                             headers={**bearer(tokens.admin), "Content-Type": "text/csv"})
    assert resp.status == 400
    assert (await resp.json())["detail"] == [
        {"row": 3, "field": "rssi_dbm", "reason": "must be within -140..-20"}]


async def test_400_lists_rows_and_stores_nothing(survey_app: tuple[TestClient, Tokens],
                                                 store: Store) -> None:
    """Invalid rows: 400 with row, field and reason each; the valid rows are not stored."""
    client, tokens = survey_app
    resp = await client.post("/api/v1/readings",
                             json=[NORTH, {**NORTH, "taken_at": "2026-01-01T08:00:00"},
                                   {**NORTH, "extra": 1}],
                             headers=bearer(tokens.admin))
    assert resp.status == 400
    body = await resp.json()
    assert body["error"] == "invalid readings"
    assert body["detail"] == [
        {"row": 1, "field": "taken_at", "reason": "needs a UTC offset (e.g. +08:00 or Z)"},
        {"row": 2, "field": "extra", "reason": "unknown field"}]
    assert readings(store) == []
    for payload in (b"{not json", b"42", b"[]", "\xff".encode("latin-1")):
        resp = await client.post("/api/v1/readings", data=payload,
                                 headers={**bearer(tokens.admin),
                                          "Content-Type": "application/json"})
        assert resp.status == 400, payload


async def test_401_and_403(survey_app: tuple[TestClient, Tokens], store: Store) -> None:
    """No token 401; a county token 403; a tester writing outside its county 403 naming rows."""
    client, tokens = survey_app
    resp = await client.post("/api/v1/readings", json=NORTH)
    assert resp.status == 401
    resp = await client.post("/api/v1/readings", json=NORTH, headers=bearer(tokens.county))
    assert resp.status == 403
    resp = await client.post("/api/v1/readings", json=[NORTH, SOUTH],
                             headers=bearer(tokens.north_tester))
    assert resp.status == 403
    assert (await resp.json())["detail"] == [
        {"row": 1, "field": "lat", "reason": "county south is outside this token's scope"}]
    assert readings(store) == []


async def test_413_and_415(survey_app: tuple[TestClient, Tokens], store: Store) -> None:
    """Over 1 MiB or over 5,000 rows: 413; other content types: 415."""
    client, tokens = survey_app
    auth = bearer(tokens.admin)
    big = json.dumps([{**NORTH, "note": "x" * 400}] * 3000).encode()
    assert len(big) > 1024 * 1024
    resp = await client.post("/api/v1/readings", data=big,
                             headers={**auth, "Content-Type": "application/json"})
    assert resp.status == 413
    assert (await resp.json())["error"] == "request body too large"
    many = json.dumps([NORTH] * (ROWS_LIMIT + 1)).encode()
    assert len(many) < 1024 * 1024
    resp = await client.post("/api/v1/readings", data=many,
                             headers={**auth, "Content-Type": "application/json"})
    assert resp.status == 413
    resp = await client.post("/api/v1/readings", data=b"point=n-cp-1",
                             headers={**auth, "Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status == 415
    assert readings(store) == []


async def test_points_nearest_first(survey_app: tuple[TestClient, Tokens]) -> None:
    """Given lat/lon, points come nearest first with distance_m; limit and filters apply."""
    client, tokens = survey_app
    resp = await client.get("/api/v1/points?lat=38.6&lon=106.0", headers=bearer(tokens.admin))
    assert resp.status == 200
    body = await resp.json()
    assert [p["id"] for p in body["points"]] == ["n-cp-1", "n-cp-2", "s-cp-1", "e-cp-1"]
    assert body["points"][0]["distance_m"] == pytest.approx(1412, abs=20)
    assert body["total"] == 4
    resp = await client.get("/api/v1/points?lat=38.2&lon=106.0&limit=1&technology=pdt",
                            headers=bearer(tokens.admin))
    assert [p["id"] for p in (await resp.json())["points"]] == ["s-cp-1"]
    resp = await client.get("/api/v1/points?county=east", headers=bearer(tokens.admin))
    (point,) = (await resp.json())["points"]
    assert point["id"] == "e-cp-1" and "distance_m" not in point


async def test_points_scoped_to_the_token(survey_app: tuple[TestClient, Tokens]) -> None:
    """A north token sees north's points only; asking for south is 403; bad queries 400."""
    client, tokens = survey_app
    for token in (tokens.north_tester, tokens.county):
        resp = await client.get("/api/v1/points", headers=bearer(token))
        assert {p["county"] for p in (await resp.json())["points"]} == {"north"}
    resp = await client.get("/api/v1/points?county=south", headers=bearer(tokens.north_tester))
    assert resp.status == 403
    for query in ("lat=38.6", "lat=x&lon=1", "lat=91&lon=1", "limit=0", "technology=lte"):
        resp = await client.get(f"/api/v1/points?{query}", headers=bearer(tokens.admin))
        assert resp.status == 400, query
    resp = await client.get("/api/v1/points")
    assert resp.status == 401
