"""A flood of notice renders against the real daemon: refused in time, never in the duties' way.

The daemon runs in this process (as ``netwatch run`` builds it) on 127.63.0.1, with
twenty stored notices and a render pool of one thread and two places in its queue.
While a PDF is being laid out (the test holds the layout's turn, as the daemon's own
notice writing would), every web PDF waits: so what is queued, refused and still pending
is exact, not a matter of timing. The old daemon ran renders on the loop's default
executor, which its reload shared: a flood filled it and the reload waited behind it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from pathlib import Path

import aiohttp
import pytest

from netwatch.daemon import Daemon, DaemonOptions, Listen
from netwatch.inventory import load_inventory
from netwatch.monitor import AllowList
from netwatch.notices.pdf import LAYOUT
from netwatch.store import Store, TokenStore
from netwatch.web import RenderLimits
from tests.notices.factory import record

HOST = "127.63.0.1"
NOTICES = 20
FLOOD = 2 * NOTICES  # every notice's PDF in both languages: 40 distinct renders
LIMITS = RenderLimits(workers=1, queue=2)
ADMITTED = LIMITS.workers + LIMITS.queue
BOUND = 20.0  # seconds: a guard against a hang, far above what anything here takes

INVENTORY = """\
city: {name: 测试市, timezone: Asia/Shanghai}
counties:
  - {id: east, name: 东区, receiving_unit: 东区分局}
devices:
  - {id: cam-1, kind: camera, county: east, address: 127.63.1.1, name: 东门, checks: [icmp]}
  - {id: cam-2, kind: camera, county: east, address: 127.63.1.2, name: 西门, checks: [icmp]}
"""


@dataclass
class Running:
    daemon: Daemon
    url: str
    admin: str


def seed(db: Path) -> str:
    """Twenty notices of east, and an admin token."""
    with Store.open(db) as store:
        with store.transaction() as conn:
            for seq in range(1, NOTICES + 1):
                r = replace(record(), seq=seq, number=f"示公科信〔2026〕{seq}号",
                            issue_date=f"2026-11-{seq:02d}")
                conn.execute(
                    "INSERT INTO notices (id, county, issue_date, prefix, year, seq, number, "
                    "issued_at, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (seq, r.county, r.issue_date, r.prefix, r.year, r.seq, r.number, 0.0,
                     r.to_json()))
        return TokenStore(store).create("admin", []).token


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    path = tmp_path / "inventory.yaml"
    path.write_text(INVENTORY, encoding="utf-8")
    admin = seed(tmp_path / "netwatch.db")
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    opts = DaemonOptions(
        inventory_path=path, db_path=tmp_path / "netwatch.db", listen=Listen(HOST, 0),
        notice_dir=tmp_path / "notices", allow=AllowList.parse("127.63.0.0/16"),
        render_limits=LIMITS, on_ready=ready.set_result)
    daemon = Daemon(opts, load_inventory(path))
    stop = asyncio.Event()
    task = asyncio.create_task(daemon.run(stop))
    try:
        done, _ = await asyncio.wait({ready, task}, timeout=BOUND,
                                     return_when=asyncio.FIRST_COMPLETED)
        assert ready in done, "the daemon did not start"
        yield Running(daemon, ready.result(), admin)
    finally:
        stop.set()
        await asyncio.wait_for(task, BOUND)


Answer = tuple[int, dict[str, str], bytes]


async def fetch(session: aiohttp.ClientSession, method: str, url: str, token: str) -> Answer:
    async with session.request(method, url, headers={"Authorization": f"Bearer {token}"}) as r:
        return r.status, dict(r.headers), await r.read()


async def until(condition: Callable[[], bool], tasks: set[asyncio.Task[Answer]]) -> None:
    """Wait (bounded) until ``condition()`` holds, waking as requests answer or every 10 ms."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + BOUND
    while not condition():
        assert loop.time() < deadline, "not reached in time"
        waiting = {t for t in tasks if not t.done()}
        if waiting:
            await asyncio.wait(waiting, timeout=0.01, return_when=asyncio.FIRST_COMPLETED)
        else:
            await asyncio.sleep(0.01)


async def test_flood_is_refused_with_retry_after_and_reload_goes_first(running: Running) -> None:
    """40 distinct PDFs at once: 3 are taken (one laid out, two queued), 37 answered 503 with
    Retry-After; POST /-/reload then completes while the taken ones are still pending, and
    they complete once the layout in progress is done."""
    stats = running.daemon.render_stats
    async with aiohttp.ClientSession() as session:
        with LAYOUT.turn():  # a PDF in progress: every web PDF waits behind it
            flood = {asyncio.create_task(fetch(
                session, "GET", f"{running.url}/notices/{n}.pdf?lang={lang}", running.admin))
                for n in range(1, NOTICES + 1) for lang in ("zh", "en")}
            await until(lambda: sum(t.done() for t in flood) == FLOOD - ADMITTED, flood)
            answered = [t.result() for t in flood if t.done()]
            assert {status for status, _, _ in answered} == {503}
            assert all(int(headers["Retry-After"]) >= 1 for _, headers, _ in answered)
            assert stats.refused == FLOOD - ADMITTED and stats.pending == ADMITTED

            status, _, body = await asyncio.wait_for(
                fetch(session, "POST", f"{running.url}/-/reload", running.admin), BOUND)
            assert status == 200 and b'"ok": true' in body
            pending = {t for t in flood if not t.done()}
            assert len(pending) == ADMITTED, "the reload waited for renders"
        results = [await t for t in pending]
    assert [status for status, _, _ in results] == [200] * ADMITTED
    assert all(body.startswith(b"%PDF-") for _, _, body in results)
    assert sum(stats.rendered.values()) == ADMITTED and stats.pending == 0
    daemon = running.daemon  # the duties' threads are the daemon's own, not the renders'
    assert daemon.duties.executor is daemon.threads is daemon.duties.coverage.executor


def rendered(metrics: str, fmt: str) -> float:
    found = re.search(rf'^netwatch_notice_renders_total{{format="{fmt}"}} (\S+)$', metrics,
                      re.M)
    assert found, "no render counter on /metrics"
    return float(found[1])


async def test_identical_requests_share_one_render(running: Running) -> None:
    """Ten requests for the same PDF while it waits: one layout, ten identical answers, and
    /metrics counts one render."""
    stats = running.daemon.render_stats
    url = f"{running.url}/notices/7.pdf?lang=en"
    async with aiohttp.ClientSession() as session:
        with LAYOUT.turn():
            same = {asyncio.create_task(fetch(session, "GET", url, running.admin))
                    for _ in range(10)}
            await until(lambda: stats.coalesced == 9, same)
            assert not any(t.done() for t in same)
        answers = [await t for t in same]
        _, _, metrics = await fetch(session, "GET", f"{running.url}/metrics", running.admin)
    assert {(status, body) for status, _, body in answers} == {(200, answers[0][2])}
    assert answers[0][2].startswith(b"%PDF-")
    assert stats.rendered["pdf"] == 1 and rendered(metrics.decode(), "pdf") == 1


async def test_a_client_that_leaves_through_the_guard_drops_its_render(
        running: Running) -> None:
    """Through the daemon's guarded listener too, a queued PDF whose client has gone is
    never laid out."""
    stats = running.daemon.render_stats
    host, port = running.url.removeprefix("http://").rsplit(":", 1)
    async with aiohttp.ClientSession() as session:
        with LAYOUT.turn():
            first = asyncio.create_task(fetch(
                session, "GET", f"{running.url}/notices/1.pdf", running.admin))
            await until(lambda: stats.pending == 1, {first})
            _, writer = await asyncio.open_connection(host, int(port))
            writer.write(f"GET /notices/2.pdf HTTP/1.1\r\nHost: {host}\r\n"
                         f"Authorization: Bearer {running.admin}\r\n\r\n".encode())
            await writer.drain()
            await until(lambda: stats.pending == 2, {first})
            writer.close()
            await writer.wait_closed()
            await until(lambda: stats.abandoned == 1, {first})
        status, _, _ = await asyncio.wait_for(first, BOUND)
    assert status == 200 and stats.rendered["pdf"] == 1 and stats.pending == 0
