"""``GET /api/v1/blind-spots``: filters, token scopes, JSON fields and GeoJSON."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from netwatch.coverage import CoverageReport
from netwatch.coverage import snapshot as snapshot_module
from netwatch.coverage.snapshot import Snapshot
from netwatch.metrics import Exposition
from netwatch.monitor import Monitor
from netwatch.store import Store, StoreThread, TokenStore
from netwatch.web.app import WebDeps, create_app
from netwatch.web.auth import StoredTokens
from netwatch.web.ratelimit import RateLimiter
from tests.coverage.city import HOSTILE, NOW, add, add_many, load_city, open_fault
from tests.web.conftest import Clock, ScriptedRunner, bearer


class Coverage:
    """The app over the coverage city, with readings and tokens."""

    def __init__(self, tmp_path: Path, store: Store, db: StoreThread) -> None:
        clock = Clock()
        clock.now = NOW
        inventory = load_city(tmp_path)
        monitor = Monitor(inventory, ScriptedRunner(), db,  # type: ignore[arg-type]
                          clock=clock)
        tokens = TokenStore(store, clock=clock)
        self.admin = tokens.create("admin", []).token
        self.north = tokens.create("county", ["north"]).token
        self.tester = tokens.create("tester", ["south"]).token

        async def reload() -> dict[str, object]:
            return {"ok": True}

        self.snapshot = Snapshot()
        self.db = db

        async def current() -> CoverageReport | None:
            return self.snapshot.report

        self.current = current
        self.deps = WebDeps(monitor=monitor, tokens=StoredTokens(db, clock=clock),
                            limiter=RateLimiter(limit=3, per=60.0, clock=clock),
                            exposition=Exposition(monitor, clock=clock, process_metrics=False),
                            reload=reload, db=db, version="9.9.9",
                            coverage=self.current)


@pytest.fixture
async def cov(aiohttp_client, tmp_path: Path,  # type: ignore[no-untyped-def]
              store: Store, db: StoreThread) -> tuple[TestClient, Coverage]:
    """Blind: n-cp-1 (site down), n-cp-3 (hostile name), a south cell; weak: s-cp-1;
    n-cp-2 (broadband) blind without signal."""
    app = Coverage(tmp_path, store, db)
    add_many(store, [-120, -121, -119], county="north", point="n-cp-1")
    add_many(store, [-115, -115, -115], county="north", point="n-cp-3")
    for _ in range(3):
        add(store, county="north", point="n-cp-2", technology="broadband", no_service=True)
        add(store, county="south", lat=38.25, lon=106.1, rssi_dbm=-125)
    add_many(store, [-110, -110, -110], county="south", point="s-cp-1", lat=38.2, lon=106.02)
    open_fault(store, "n-ts-1", "unreachable")
    await app.snapshot.refresh(db, app.deps.monitor.inventory, NOW)  # the daemon's duty
    return await aiohttp_client(create_app(app.deps)), app


async def _ids(client: TestClient, token: str, query: str = "") -> list[str]:
    resp = await client.get(f"/api/v1/blind-spots{query}", headers=bearer(token))
    assert resp.status == 200, await resp.text()
    return sorted(f"{b['county']}/{b['id']}" for b in (await resp.json())["blind_spots"])


async def test_admin_sees_every_blind_spot_with_its_cause(
        cov: tuple[TestClient, Coverage]) -> None:
    client, app = cov
    resp = await client.get("/api/v1/blind-spots", headers=bearer(app.admin))
    body = await resp.json()
    assert resp.headers["Cache-Control"] == "no-store"
    assert body["total"] == 4 and body["window_seconds"] == 30 * 86400
    spots = {b["id"]: b for b in body["blind_spots"]}
    one = spots["n-cp-1"]
    assert (one["class"], one["median_dbm"], one["under_db"], one["readings"]) == (
        "blind", -120.0, 12.0, 3)
    assert (one["cause"], one["serving_site"], one["cause_fault"]) == (
        "site_down", "n-ts-1", "unreachable")
    assert (one["lat"], one["lon"], one["priority"], one["trend"]) == (38.61, 106.01, 1, "new")
    assert one["last_taken_unix"] == NOW - 3600
    assert one["last_taken"].endswith("+08:00")
    assert spots["n-cp-3"]["name"] == HOSTILE and spots["n-cp-3"]["cause"] == "coverage_hole"
    assert (spots["n-cp-2"]["median_dbm"], spots["n-cp-2"]["under_db"]) == (None, None)
    (cell,) = [b for b in body["blind_spots"] if b["subject_type"] == "cell"]
    assert (cell["county"], cell["name"], cell["technology"]) == ("south", "", "pdt")


async def test_filters_by_county_technology_and_class(
        cov: tuple[TestClient, Coverage]) -> None:
    client, app = cov
    assert await _ids(client, app.admin, "?county=south") == [
        "south/" + (await _cell(client, app))]
    assert await _ids(client, app.admin, "?technology=broadband") == ["north/n-cp-2"]
    assert await _ids(client, app.admin, "?class=weak") == ["south/s-cp-1"]
    assert await _ids(client, app.admin, "?class=unsurveyed&county=east") == ["east/e-cp-1"]
    both = await _ids(client, app.admin, "?class=weak&class=blind&county=south&county=north")
    assert len(both) == 5
    for query, status in (("?class=awful", 400), ("?technology=tetra", 400),
                          ("?format=kml", 400), ("?county=atlantis", 400),
                          ("?technology=pdt&technology=pdt", 400)):
        resp = await client.get(f"/api/v1/blind-spots{query}", headers=bearer(app.admin))
        assert resp.status == status, query
        assert "error" in await resp.json()


async def _cell(client: TestClient, app: Coverage) -> str:
    resp = await client.get("/api/v1/blind-spots", headers=bearer(app.admin))
    return next(b["id"] for b in (await resp.json())["blind_spots"]
                if b["subject_type"] == "cell")


async def test_county_tokens_see_their_own_counties_and_testers_none(
        cov: tuple[TestClient, Coverage]) -> None:
    client, app = cov
    assert await _ids(client, app.north) == ["north/n-cp-1", "north/n-cp-2", "north/n-cp-3"]
    resp = await client.get("/api/v1/blind-spots", headers=bearer(app.tester))
    assert resp.status == 403
    resp = await client.get("/api/v1/blind-spots?county=south", headers=bearer(app.north))
    assert resp.status == 403
    resp = await client.get("/api/v1/blind-spots")
    assert resp.status == 401


async def test_geojson_is_a_feature_collection_of_points(
        cov: tuple[TestClient, Coverage]) -> None:
    client, app = cov
    resp = await client.get("/api/v1/blind-spots?format=geojson&county=north",
                            headers=bearer(app.north))
    assert resp.status == 200 and resp.content_type == "application/geo+json"
    body = await resp.json()
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 3
    one = next(f for f in body["features"] if f["properties"]["id"] == "n-cp-1")
    assert one["geometry"] == {"type": "Point", "coordinates": [106.01, 38.61]}
    assert one["id"] == "point:n-cp-1:pdt" and one["properties"]["cause"] == "site_down"
    assert "lat" not in one["properties"]


async def test_without_a_store_the_endpoint_is_unavailable(
        aiohttp_client, tmp_path: Path, store: Store, db: StoreThread) -> None:  # type: ignore[no-untyped-def]
    app = Coverage(tmp_path, store, db)
    client = await aiohttp_client(create_app(replace(app.deps, db=None)))
    resp = await client.get("/api/v1/blind-spots", headers=bearer(app.admin))
    assert resp.status == 503


async def test_requests_filter_the_latest_analysis_and_never_start_one(
        cov: tuple[TestClient, Coverage], store: Store,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """However many requests come, none analyses the readings: they filter the daemon's
    latest report, and a new reading shows once the daemon's duty has refreshed it."""
    client, app = cov

    def no_analysis(*args: object) -> None:
        raise AssertionError("a request started a coverage analysis")

    monkeypatch.setattr(snapshot_module, "analyse", no_analysis)
    monkeypatch.setattr(snapshot_module, "analyse_apart", no_analysis)
    before = await _ids(client, app.admin)
    add_many(store, [-130, -130, -130], county="south", point="s-cp-1", lat=38.2, lon=106.02)
    for _ in range(5):
        assert await _ids(client, app.admin) == before
    monkeypatch.undo()
    await app.snapshot.refresh(app.db, app.deps.monitor.inventory, NOW)
    assert "south/s-cp-1" in await _ids(client, app.admin)


async def test_before_the_first_analysis_the_answer_is_503_with_retry_after(
        cov: tuple[TestClient, Coverage]) -> None:
    client, app = cov
    app.snapshot.report = None
    resp = await client.get("/api/v1/blind-spots", headers=bearer(app.admin))
    assert resp.status == 503 and resp.headers["Retry-After"] == "15"
    assert (await resp.json())["error"] == "coverage not analysed yet"
