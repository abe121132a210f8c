"""The survey form in real headless Chromium against a real server: log in, locate, submit,
queue offline, send once back online, and show the server's refusals."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from netwatch.store import Store
from netwatch.web.app import create_app
from netwatch.web.session_store import IDLE, SessionStore
from tests.browser import CHROMIUM, Page, chromium
from tests.web.conftest import INVENTORY, City, Clock, write_inventory

HOST = "127.111.0.3"
HERE = (30.6001, 120.2001)  # where the phone says it is, 15 m from wp-near
POINTS = """\
coverage_points:
  - {id: wp-near, name: 西区桥头, county: west, lat: 30.6, lon: 120.2, technology: pdt,
     serving_site: ts-w1}
  - {id: wp-far, name: 西区学校, county: west, lat: 30.62, lon: 120.23, technology: broadband}
  - {id: ep-1, name: 东区广场, county: east, lat: 30.5, lon: 120.1, technology: pdt}
"""
PENDING = "document.getElementById('pending').dataset.count"
STATUS = "document.getElementById('status').textContent"

pytestmark = pytest.mark.skipif(shutil.which(CHROMIUM) is None,
                                reason=f"{CHROMIUM} is not installed")


@pytest.fixture
def session_clock() -> Clock:
    return Clock()


class Server:
    """The city, with coverage points, served on a real socket of this test's own address."""

    def __init__(self, runner: web.AppRunner) -> None:
        self.runner = runner
        self.url = f"http://{HOST}:{runner.addresses[0][1]}"
        self.running = True

    async def stop(self) -> None:
        """Close the socket and every open connection: the phone has lost the network."""
        if self.running:
            self.running = False
            await self.runner.cleanup()


@pytest.fixture
async def server(city: City, store: Store, tmp_path: Path,
                 session_clock: Clock) -> AsyncIterator[Server]:
    write_inventory(tmp_path, INVENTORY + POINTS)
    assert (await city.reload())["ok"]
    sessions = SessionStore(clock=session_clock)
    runner = web.AppRunner(create_app(city.deps(store=store, sessions=sessions)))
    await runner.setup()
    await web.TCPSite(runner, HOST, 0).start()
    served = Server(runner)
    try:
        yield served
    finally:
        await served.stop()


@pytest.fixture
def base_url(server: Server) -> str:
    return server.url


def readings(store: Store) -> list[dict[str, Any]]:
    rows = store.conn.execute(
        "SELECT tester, idem_key, county, point, lat, lon, technology, rssi_dbm, no_service, "
        "note, source FROM readings ORDER BY id").fetchall()
    return [dict(r) for r in rows]


async def log_in(page: Page, token: str) -> None:
    """Paste the token into the login page and send it."""
    await page.fill("#token", token)
    await page.then_load("document.querySelector('form').submit()")


async def submit(page: Page, point: str, rssi: str, note: str = "") -> None:
    """Fill the form as a tester would and press the submit button."""
    await page.click(f'input[name="point"][value="{point}"]')
    await page.fill("#rssi_dbm", rssi)
    await page.fill("#note", note)
    await page.click("#submit")


async def test_survey_form_online_offline_and_errors(base_url: str, city: City, store: Store,
                                                     tmp_path: Path,
                                                     session_clock: Clock) -> None:
    """Online readings are stored at once (source form); offline ones wait on the phone with a
    visible count and are stored exactly once when the network returns; a refused reading
    says why; a reading made after the session expired waits until the tester logs in again."""
    async with chromium(tmp_path / "profile") as browser:
        await browser.grant(base_url, "geolocation")
        page = await browser.new_page()
        await page.geolocation(*HERE)

        await page.goto(base_url + "/survey")
        assert (await page.url()).startswith(base_url + "/login?next=")
        await log_in(page, city.west_tester)
        assert await page.url() == base_url + "/survey"

        names = await page.wait_for(
            "Array.from(document.querySelectorAll('label.point')).map(l => l.textContent)")
        assert len(names) == 2  # the east point is outside the tester's county
        assert names[0].startswith("西区桥头") and "米" in names[0]
        assert "位置" in await page.text("#here")

        await submit(page, "wp-near", "-85", "桥下 <b>")
        await page.wait_for(f"{PENDING} === '0' && {STATUS}.includes('已发送')")
        (first,) = readings(store)
        assert first["point"] == "wp-near" and first["rssi_dbm"] == -85.0
        assert first["source"] == "form" and first["county"] == "west"
        assert first["note"] == "桥下 <b>"

        await page.offline(True)
        await submit(page, "", "-90")
        await submit(page, "", "-91")
        await page.wait_for(f"{PENDING} === '2'")
        assert await page.text("#pending") == "2 条待发送"
        assert "保留在本机" in await page.evaluate(STATUS)
        assert len(readings(store)) == 1

        await page.offline(False)
        await page.wait_for(f"{PENDING} === '0'", within=30.0)
        rows = readings(store)
        assert [r["rssi_dbm"] for r in rows] == [-85.0, -90.0, -91.0]
        for row in rows[1:]:
            assert row["point"] is None and row["source"] == "form"
            assert abs(row["lat"] - HERE[0]) < 1e-6 and abs(row["lon"] - HERE[1]) < 1e-6
        assert len({r["idem_key"] for r in rows}) == 3

        await submit(page, "wp-near", "-10")  # stronger than any real signal: refused
        problem = await page.wait_for(
            "document.querySelector('#problems li .problem')?.textContent")
        assert "400" in problem and "接收电平 RSSI" in problem
        assert "接收电平 RSSI -10" in await page.text("#problems li div")
        assert await page.evaluate(PENDING) == "0"
        assert len(readings(store)) == 3

        session_clock.now += IDLE
        await submit(page, "wp-near", "-95")
        await page.wait_for(f"{STATUS}.includes('登录已过期')")
        assert await page.evaluate(PENDING) == "1"
        assert len(readings(store)) == 3
        await page.then_load("document.querySelector('#status a').click()")
        assert await page.url() == base_url + "/login?next=/survey"
        await log_in(page, city.west_tester)
        await page.wait_for(f"{PENDING} === '0'")  # sent on load
        assert [r["rssi_dbm"] for r in readings(store)] == [-85.0, -90.0, -91.0, -95.0]
        assert await page.evaluate("document.querySelectorAll('#problems li').length") == 1
        assert page.exceptions == []
        assert not [line for line in page.console if "Content Security Policy" in line]


async def test_survey_form_opens_with_no_network(server: Server, city: City, store: Store,
                                                 tmp_path: Path) -> None:
    """Once opened online, the form opens again with the server out of reach (its service
    worker keeps the page, its assets and the points), and a reading made there waits."""
    async with chromium(tmp_path / "profile") as browser:
        await browser.grant(server.url, "geolocation")
        page = await browser.new_page()
        await page.geolocation(*HERE)
        await page.goto(server.url + "/survey")
        await log_in(page, city.west_tester)
        await page.wait_for("navigator.serviceWorker.controller !== null")
        await page.wait_for("caches.match('/api/v1/points').then(kept => kept !== undefined)")

        await server.stop()
        await page.goto(server.url + "/survey")
        assert await page.url() == server.url + "/survey"
        await page.wait_for("document.querySelectorAll('label.point').length === 2")
        await submit(page, "wp-near", "-99")
        await page.wait_for(f"{PENDING} === '1'")
        assert readings(store) == []
        assert page.exceptions == []
