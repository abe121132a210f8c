"""The notice render pool behind the real app on 127.63.0.2, with real renders (WeasyPrint).

While the test holds the PDF layout's turn (as the daemon writing a notice would), every
web PDF waits for it, so what is running, queued or refused is exact, not a matter of
timing.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import replace

import pytest
from aiohttp.test_utils import TestClient

from netwatch.notices.files import RENDERERS
from netwatch.notices.pdf import LAYOUT
from netwatch.notices.record import NoticeRecord
from netwatch.store import Store
from netwatch.web.app import create_app
from netwatch.web.limits import RenderLimits
from netwatch.web.renders import FIRST_GUESS, RENDERS, RenderCache, RenderStats
from tests.notices.factory import record
from tests.web.conftest import City, bearer

HOST = "127.63.0.2"
BOUND = 20.0  # seconds: a guard against a hang, far above what anything here takes


def seed(store: Store, count: int) -> None:
    with store.transaction() as conn:
        for seq in range(1, count + 1):
            r = replace(record(), seq=seq, number=f"示公科信〔2026〕{seq}号",
                        issue_date=f"2026-11-{seq:02d}")
            conn.execute(
                "INSERT INTO notices (id, county, issue_date, prefix, year, seq, number, "
                "issued_at, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (seq, r.county, r.issue_date, r.prefix, r.year, r.seq, r.number, 0.0,
                 r.to_json()))


async def served(aiohttp_client, city: City, store: Store,  # type: ignore[no-untyped-def]
                 limits: RenderLimits) -> TestClient:
    seed(store, 3)
    app = create_app(city.deps(store=store, render_limits=limits))
    return await aiohttp_client(app, server_kwargs={"host": HOST})


async def until(condition: Callable[[], bool]) -> None:
    """Poll (bounded) until the server side reaches ``condition``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + BOUND
    while not condition():
        assert loop.time() < deadline, "not reached in time"
        await asyncio.sleep(0.01)


@pytest.fixture
def laid_out(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The numbers of the notices whose PDF was laid out (the real renderer, counted)."""
    numbers: list[str] = []
    real = RENDERERS["pdf"]

    def counted(r: NoticeRecord, lang: str) -> bytes:
        numbers.append(r.number)
        return real(r, lang)

    monkeypatch.setitem(RENDERERS, "pdf", counted)
    return numbers


async def test_a_render_that_would_wait_too_long_is_refused(
        aiohttp_client, city: City, store: Store) -> None:  # type: ignore[no-untyped-def]
    """With one PDF in the only thread and a half-second bound, a second PDF (expected to
    wait a PDF's time) is refused at once: 503, JSON, Retry-After; the first completes."""
    client = await served(aiohttp_client, city, store, RenderLimits(workers=1, queue=4,
                                                                    wait=0.5))
    stats = client.app[RENDERS].stats
    with LAYOUT.turn():
        first = asyncio.create_task(client.get("/notices/1.pdf", headers=bearer(city.admin)))
        await until(lambda: stats.pending == 1)
        resp = await asyncio.wait_for(
            client.get("/notices/2.pdf", headers=bearer(city.admin)), BOUND)
        assert resp.status == 503
        assert resp.headers["Retry-After"] == str(math.ceil(FIRST_GUESS["pdf"]))
        assert (await resp.json())["error"] == "notice renderer busy"
    resp = await asyncio.wait_for(first, BOUND)
    assert resp.status == 200 and (await resp.read()).startswith(b"%PDF-")
    assert stats.refused == 1


async def test_a_client_that_leaves_takes_its_render_off_the_queue(
        aiohttp_client, city: City, store: Store,  # type: ignore[no-untyped-def]
        laid_out: list[str]) -> None:
    """A PDF queued behind another is never laid out once its client has disconnected."""
    client = await served(aiohttp_client, city, store, RenderLimits(workers=1, queue=4))
    stats = client.app[RENDERS].stats
    with LAYOUT.turn():
        first = asyncio.create_task(client.get("/notices/1.pdf", headers=bearer(city.admin)))
        await until(lambda: stats.pending == 1)
        reader, writer = await asyncio.open_connection(HOST, client.port)
        writer.write(f"GET /notices/2.pdf HTTP/1.1\r\nHost: {HOST}\r\n"
                     f"Authorization: Bearer {city.admin}\r\n\r\n".encode())
        await writer.drain()
        await until(lambda: stats.pending == 2)
        writer.close()
        await writer.wait_closed()
        await until(lambda: stats.abandoned == 1)
        assert stats.pending == 1
    resp = await asyncio.wait_for(first, BOUND)
    assert resp.status == 200
    assert laid_out == ["示公科信〔2026〕1号"]
    assert stats.rendered["pdf"] == 1 and stats.pending == 0


async def test_other_formats_and_cache_hits_answer_beside_a_pdf(
        aiohttp_client, city: City, store: Store) -> None:  # type: ignore[no-untyped-def]
    """Two threads: Word, Excel and Markdown are laid out while a PDF waits for its turn;
    a file asked for again comes from the cache, with no render."""
    client = await served(aiohttp_client, city, store, RenderLimits(workers=2, queue=0))
    stats = client.app[RENDERS].stats
    with LAYOUT.turn():
        pdf = asyncio.create_task(client.get("/notices/1.pdf", headers=bearer(city.admin)))
        await until(lambda: stats.pending == 1)
        for fmt in ("docx", "xlsx", "md", "md"):
            resp = await asyncio.wait_for(
                client.get(f"/notices/1.{fmt}", headers=bearer(city.admin)), BOUND)
            assert resp.status == 200, fmt
    assert (await asyncio.wait_for(pdf, BOUND)).status == 200
    assert stats.rendered == {"pdf": 1, "docx": 1, "xlsx": 1, "md": 1}


def test_the_cache_is_bounded_in_bytes_and_entries() -> None:
    """Least recently used out first, by bytes as well as by entries; a file larger than
    the whole bound is not kept."""
    stats = RenderStats()
    cache = RenderCache(entries=3, size=1000, stats=stats)
    for n in range(3):
        cache.put((n, "pdf", "zh"), bytes(400))
    assert list(cache.kept) == [(1, "pdf", "zh"), (2, "pdf", "zh")] and stats.cached_bytes == 800
    assert cache.get((1, "pdf", "zh")) is not None  # now the most recently used
    cache.put((3, "md", "zh"), bytes(10))
    cache.put((4, "md", "zh"), bytes(10))
    assert list(cache.kept) == [(1, "pdf", "zh"), (3, "md", "zh"), (4, "md", "zh")]
    cache.put((5, "pdf", "en"), bytes(1001))
    assert (5, "pdf", "en") not in cache.kept and stats.cached_bytes == 420
