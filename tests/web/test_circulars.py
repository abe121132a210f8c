"""The circulars on the web: every county reads every circular (API, session pages, files);
no credential gets 401 or the login page; a tester gets 403."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from aiohttp.test_utils import TestClient

from netwatch.circulars import record_circular
from netwatch.store import Store
from netwatch.web.app import create_app
from tests.circulars.factory import record
from tests.web.conftest import City, bearer

BOTH_ENGINES = True  # circulars listed and read on both engines
HOST = "127.32.0.1"


@pytest.fixture
async def client(aiohttp_client, city: City,  # type: ignore[no-untyped-def]
                 store: Store) -> TestClient:
    """The app with October's and November's circulars stored."""
    november = record()
    october = replace(record(), month="2026-10", number="示公科信通〔2026〕10号", seq=10,
                      issue_date="2026-11-02")
    with store.transaction() as tx:
        for r in (october, november):
            record_circular(tx, r.month, r.prefix, r.year, r.seq, r.number, r.issue_date, 0.0,
                            r.to_json())
    return await aiohttp_client(create_app(city.deps(store=store)),
                                server_kwargs={"host": HOST})


async def test_every_county_token_lists_and_reads_every_circular(client: TestClient,
                                                                 city: City) -> None:
    """The east token sees both months, newest first, with their files' paths; one record
    answers in full (a county far from east's in it); no token: 401; a tester: 403."""
    resp = await client.get("/api/v1/circulars", headers=bearer(city.east))
    body = await resp.json()
    assert resp.status == 200 and body["total"] == 2
    assert [(c["month"], c["number"]) for c in body["circulars"]] == [
        ("2026-11", "示公科信通〔2026〕11号"), ("2026-10", "示公科信通〔2026〕10号")]
    newest = body["circulars"][0]
    assert newest["formats"]["pdf"] == f"/circulars/{newest['id']}.pdf"
    resp = await client.get(f"/api/v1/circulars/{newest['id']}", headers=bearer(city.east))
    one = await resp.json()
    assert one["number"] == "示公科信通〔2026〕11号"
    assert one["criticised"][0]["county"] == "south"
    assert one == {**json.loads(record().to_json()), "formats": newest["formats"]}
    assert (await client.get("/api/v1/circulars")).status == 401
    assert (await client.get("/api/v1/circulars",
                             headers=bearer(city.west_tester))).status == 403
    assert (await client.get("/api/v1/circulars/999", headers=bearer(city.admin))).status == 404


async def test_a_county_session_sees_the_pages_and_the_files(client: TestClient,
                                                             city: City) -> None:
    """Without a session the page redirects to the login; an east session lists both
    circulars, shows November's mentions and serves its files; the notices page links here."""
    resp = await client.get("/circulars", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/login?next=/circulars"
    resp = await client.post("/login", data={"token": city.east, "next": "/circulars"},
                             allow_redirects=False)
    assert resp.status == 303
    resp = await client.get("/circulars")
    page = await resp.text()
    assert resp.status == 200
    assert "示公科信通〔2026〕11号" in page and "示公科信通〔2026〕10号" in page
    [one] = [line for line in page.splitlines() if "〔2026〕11号</a>" in line]
    circular_id = one.split('href="/circulars/')[1].split('"')[0]
    resp = await client.get(f"/circulars/{circular_id}")
    page = await resp.text()
    assert resp.status == 200 and "南区：视频监控在线率91.24%，低于目标值95.00%" in page
    for fmt in ("html", "pdf", "docx", "xlsx", "json"):
        assert f'href="/circulars/{circular_id}.{fmt}"' in page
    resp = await client.get(f"/circulars/{circular_id}.html")
    assert resp.status == 200 and "style-src 'sha256-" in resp.headers["Content-Security-Policy"]
    assert "关于2026年11月" in await resp.text()
    resp = await client.get(f"/circulars/{circular_id}.json")
    assert resp.status == 200 and (await resp.json())["number"] == "示公科信通〔2026〕11号"
    resp = await client.get(f"/circulars/{circular_id}.xlsx")
    assert resp.status == 200 and (await resp.read())[:2] == b"PK"
    assert resp.headers["Content-Disposition"].startswith("attachment; filename*=UTF-8''")
    resp = await client.get("/notices")
    assert 'href="/circulars"' in await resp.text()
