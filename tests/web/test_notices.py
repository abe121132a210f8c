"""Notice API and pages: scoping by token county, JSON, HTML and Markdown answers."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from netwatch.store import Store
from netwatch.web.app import create_app
from netwatch.web.auth import needs_token
from tests.notices.factory import item, record
from tests.web.conftest import City, bearer
from tests.web.test_pages import Page

BOTH_ENGINES = True  # notices listed and acknowledged on both engines


@pytest.fixture
async def client(aiohttp_client, city: City,  # type: ignore[no-untyped-def]
                 store: Store) -> TestClient:
    """The app with one east and one west notice stored."""
    east = record()
    west = replace(record(), county="west", county_name="西区", number="示公科信〔2026〕13号",
                   seq=13)
    with store.transaction() as conn:
        for i, r in enumerate((east, west), 1):
            conn.execute(
                "INSERT INTO notices (id, county, issue_date, prefix, year, seq, number, "
                "issued_at, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (i, r.county, r.issue_date, r.prefix, r.year, r.seq, r.number, 0.0, r.to_json()))
    return await aiohttp_client(create_app(city.deps(store=store)))


async def test_county_token_sees_only_its_county(client: TestClient, city: City) -> None:
    """An east token lists the east notice only; admin lists both; asking for west is 403."""
    resp = await client.get("/api/v1/notices", headers=bearer(city.east))
    assert [n["county"] for n in (await resp.json())["notices"]] == ["east"]
    resp = await client.get("/api/v1/notices", headers=bearer(city.admin))
    assert {n["county"] for n in (await resp.json())["notices"]} == {"east", "west"}
    resp = await client.get("/api/v1/notices?county=west", headers=bearer(city.east))
    assert resp.status == 403
    resp = await client.get("/api/v1/notices?from=2026-12-01", headers=bearer(city.admin))
    assert (await resp.json())["total"] == 0


async def test_one_notice_json_and_scope(client: TestClient, city: City) -> None:
    """A notice answers as JSON; another county's notice is 404 to a county token."""
    resp = await client.get("/api/v1/notices/1", headers=bearer(city.east))
    assert (await resp.json())["number"] == "示公科信〔2026〕12号"
    resp = await client.get("/api/v1/notices/2", headers=bearer(city.east))
    assert resp.status == 404
    resp = await client.get("/api/v1/notices/x", headers=bearer(city.admin))
    assert resp.status == 404


async def test_notice_pages_and_every_format(client: TestClient, city: City) -> None:
    """The notice page has the landing look and links each format; each format answers:
    the printable HTML (zh/en, its own CSP), Markdown, PDF, Word and Excel; the list
    shows only the token's county."""
    assert needs_token("/notices/1", False) and needs_token("/notices", False)
    resp = await client.get("/notices/1", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/login?next=/notices/1"
    resp = await client.get("/notices/1", headers=bearer(city.east))
    page = await resp.text()
    assert resp.status == 200 and '<link rel="stylesheet" href="/static/netwatch.css">' in page
    assert '<a href="/">' in page
    for fmt in ("html", "pdf", "docx", "xlsx", "md"):
        assert f'href="/notices/1.{fmt}"' in page and f'href="/notices/1.{fmt}?lang=en"' in page
    resp = await client.get("/notices/1.html", headers=bearer(city.east))
    assert resp.status == 200 and "东区公安分局：" in await resp.text()
    assert "style-src 'sha256-" in resp.headers["Content-Security-Policy"]
    resp = await client.get("/notices/1.html?lang=en", headers=bearer(city.east))
    assert "OVERDUE" in await resp.text()
    resp = await client.get("/notices/1.html?lang=fr", headers=bearer(city.east))
    assert resp.status == 400
    resp = await client.get("/notices/1.md", headers=bearer(city.east))
    assert "示公科信〔2026〕12号" in await resp.text()
    for fmt, magic, how in (("pdf", b"%PDF-", "inline"), ("docx", b"PK", "attachment"),
                            ("xlsx", b"PK", "attachment")):
        resp = await client.get(f"/notices/1.{fmt}", headers=bearer(city.east))
        assert resp.status == 200 and (await resp.read()).startswith(magic), fmt
        assert resp.headers["Content-Disposition"].startswith(f"{how}; filename*=UTF-8''")
        assert resp.headers["Content-Disposition"].endswith(f".zh.{fmt}")
    resp = await client.get("/notices/2.pdf", headers=bearer(city.east))
    assert resp.status == 404
    resp = await client.get("/notices", headers=bearer(city.east))
    text = await resp.text()
    assert "示公科信〔2026〕12号" in text and "13号" not in text
    assert '<link rel="stylesheet" href="/static/netwatch.css">' in text


async def test_api_names_the_formats(client: TestClient, city: City) -> None:
    """GET /api/v1/notices/{id} is the record plus where each rendering is served."""
    resp = await client.get("/api/v1/notices/1", headers=bearer(city.east))
    body = await resp.json()
    assert body["formats"]["zh"]["pdf"] == "/notices/1.pdf"
    assert body["formats"]["en"]["xlsx"] == "/notices/1.xlsx?lang=en"


def _item(store: Store, county: str, state: str = "open") -> int:
    with store.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO notice_items (subject_type, subject, county, problem, name, kind, "
            "location, severity, state, close_reason, first_seen, created_at, "
            "rectify_within_days) VALUES ('device', ?, ?, 'unreachable', 'cam', 'camera', "
            "'x', 'major', ?, ?, 0, 0, 3) RETURNING id",
            (f"{county}-cam", county, state, "verified" if state == "closed" else None))
        return int(cur.fetchone()[0])


async def test_acknowledge_item(client: TestClient, city: City, store: Store) -> None:
    """A county acknowledges its own item, state unchanged; others' items are 404."""
    east, west = _item(store, "east"), _item(store, "west")
    url = f"/api/v1/notice-items/{east}/ack"
    promised = (date.today() + timedelta(days=7)).isoformat()
    resp = await client.post(url, json={"note": "已派人", "promised_date": promised},
                             headers=bearer(city.east))
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["acknowledgement"]["promised"] == promised
    row = store.execute("SELECT state, ack_note FROM notice_items WHERE id = ?",
                             (east,)).fetchone()
    assert (row["state"], row["ack_note"]) == ("open", "已派人")
    resp = await client.post(f"/api/v1/notice-items/{west}/ack",
                             json={"note": "x", "promised_date": promised},
                             headers=bearer(city.east))
    assert resp.status == 404
    resp = await client.post(url, json={"note": "", "promised_date": promised},
                             headers=bearer(city.east))
    assert resp.status == 400 and "note" in (await resp.json())["detail"]
    resp = await client.post(url, data=b"{", headers=bearer(city.east))
    assert resp.status == 400
    resp = await client.post(url, json={"note": "x", "promised_date": promised})
    assert resp.status == 401
    resp = await client.post(f"/api/v1/notice-items/{west}/ack",
                             json={"note": "x", "promised_date": promised},
                             headers=bearer(city.west_tester))
    assert resp.status == 403


async def test_a_county_session_sees_states_and_acknowledges_from_the_page(
        aiohttp_client: Any, city: City, store: Store) -> None:
    """Logged in, the east county sees its items' states now and acknowledges one with the
    page's form; without the CSRF token the form is refused and nothing is recorded."""
    with store.transaction() as conn:
        conn.execute("INSERT INTO notices (id, county, issue_date, prefix, year, seq, number, "
                     "issued_at, record) VALUES (1, 'east', '2026-11-28', '示公科信', 2026, 12, "
                     "'示公科信〔2026〕12号', 0, ?)", (record().to_json(),))
    first, second = _item(store, "east"), _item(store, "east", "closed")
    assert (first, second) == (1, 2)  # the record's items 1 and 2
    client = await aiohttp_client(create_app(city.deps(store=store)),
                                  server_kwargs={"host": "127.65.0.2"})
    resp = await client.post("/login", data={"token": city.east, "next": "/notices/1"},
                             allow_redirects=False)
    assert resp.status == 303
    page = await (await client.get("/notices/1")).text()
    assert "未整改 open" in page and "已销号 closed" in page
    assert page.count('action="/notices/1/items/') == 1  # the closed item has no form
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    promised = (date.today() + timedelta(days=7)).isoformat()
    form = {"note": "已派人抢修", "promised_date": promised}
    resp = await client.post("/notices/1/items/1/ack", data=form, allow_redirects=False)
    assert resp.status == 403
    assert store.execute("SELECT ack_note FROM notice_items WHERE id = 1").fetchone()[0] \
        is None
    resp = await client.post("/notices/1/items/1/ack", allow_redirects=False,
                             data={**form, "csrf_token": found.group(1)})
    assert resp.status == 303 and resp.headers["Location"] == "/notices/1"
    assert store.execute("SELECT state, ack_note FROM notice_items WHERE id = 1"
                              ).fetchone()[:] == ("open", "已派人抢修")
    assert "已派人抢修" in await (await client.get("/notices/1")).text()
    resp = await client.post("/notices/1/items/1/ack", allow_redirects=False,
                             data={"note": "", "promised_date": promised,
                                   "csrf_token": found.group(1)})
    assert resp.status == 400 and "note: must not be empty" in await resp.text()


async def test_the_list_page_shows_each_notice_s_counts(
        aiohttp_client: Any, city: City, store: Store) -> None:
    """Logged in as admin, each row of /notices shows its numbers of new, carried and
    overdue items in their own cells (never a Python repr)."""
    new = tuple(item(r) for r in (1, 2, 3))
    carried = tuple(item(r, item_id=10 + r, overdue=r == 5) for r in (4, 5))
    counted = replace(record(), items=new, carried=carried)
    with store.transaction() as conn:
        conn.execute("INSERT INTO notices (id, county, issue_date, prefix, year, seq, number, "
                     "issued_at, record) VALUES (1, 'east', '2026-11-28', '示公科信', 2026, 12, "
                     "'示公科信〔2026〕12号', 0, ?)", (counted.to_json(),))
    client = await aiohttp_client(create_app(city.deps(store=store)),
                                  server_kwargs={"host": "127.61.0.2"})
    resp = await client.post("/login", data={"token": city.admin, "next": "/notices"},
                             allow_redirects=False)
    assert resp.status == 303
    resp = await client.get("/notices")
    text = await resp.text()
    assert resp.status == 200 and "built-in method" not in text
    page = Page()
    page.feed(text)
    header, row = page.rows
    cells = dict(zip(header, row, strict=True))
    assert cells["文号 Number"] == "示公科信〔2026〕12号"
    assert (cells["新问题 New"], cells["前期 Carried"], cells["逾期 Overdue"]) == ("3", "2", "1")
