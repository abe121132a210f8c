"""The landing page's map of online rates: an admin session sees every county, a county session
its own, nobody else a map; and in real headless Chromium the admin's map is drawn under the
page's CSP (screenshot checked for the choropleth's colours)."""

from __future__ import annotations

import io
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from PIL import Image

from netwatch.maps import DISCLAIMER, rate_colour
from netwatch.web.app import create_app
from tests.browser import CHROMIUM, chromium
from tests.maps.svgcheck import read, subpaths
from tests.web.conftest import INVENTORY, City, write_inventory

HOST = "127.72.0.2"
BOUNDED = INVENTORY.replace(
    "{id: east, name: 东区, receiving_unit: 东区分局}",
    "{id: east, name: 东区, receiving_unit: 东区分局, "
    "boundary: [[120.0, 30.4], [120.3, 30.4], [120.3, 30.7], [120.0, 30.7]]}").replace(
    "{id: west, name: 西区, receiving_unit: 西区分局}",
    "{id: west, name: 西区, receiving_unit: 西区分局, "
    "boundary: [[119.7, 30.4], [120.0, 30.4], [120.0, 30.7], [119.7, 30.7]]}").replace(
    "{id: south, name: 南区, receiving_unit: 南区分局}",
    "{id: south, name: 南区, receiving_unit: 南区分局, "
    "boundary: [[119.7, 30.1], [120.3, 30.1], [120.3, 30.4], [119.7, 30.4]]}")


@pytest.fixture
async def bounded(city: City, tmp_path: Path) -> City:
    """The web city with boundaries for its three counties (south has no devices: no rate)."""
    write_inventory(tmp_path, BOUNDED)
    assert (await city.reload())["ok"]
    return city


async def page_as(aiohttp_client: Any, city: City, token: str | None, **deps: Any) -> str:
    client: TestClient = await aiohttp_client(create_app(city.deps(**deps)),
                                              server_kwargs={"host": HOST})
    if token is not None:
        resp = await client.post("/login", data={"token": token, "next": "/"},
                                 allow_redirects=False)
        assert resp.status == 303
    resp = await client.get("/")
    assert resp.status == 200
    return await resp.text()


def svg_of(page: str) -> str:
    return page[page.index("<svg"):page.index("</svg>") + len("</svg>")]


async def test_admin_session_sees_every_county_coloured_by_its_rate(aiohttp_client: Any,
                                                                   bounded: City) -> None:
    page = await page_as(aiohttp_client, bounded, bounded.admin)
    drawn = read(svg_of(page))
    assert len(drawn.outlines) == 3
    assert all(p.endswith("Z") for d in drawn.outlines for p in subpaths(d))
    # east: three devices down, none up; west: one up, one down (the site never checked)
    assert {"东区", "在线率 0.0%", "西区", "在线率 50.0%", "南区", "无数据"} <= set(drawn.texts)
    fills = [p.get("fill") for p in drawn.root.iter("{http://www.w3.org/2000/svg}path")
             if p.get("class") == "outline"]
    assert sorted(fills) == sorted([rate_colour(0.0), rate_colour(0.5), rate_colour(None)])
    assert DISCLAIMER in drawn.texts and "Testville <b>各区县设备在线率" in drawn.texts
    assert "Testville <b>" not in svg_of(page)  # the city's name escaped in the map too


async def test_a_county_session_sees_only_its_own(aiohttp_client: Any, bounded: City) -> None:
    page = await page_as(aiohttp_client, bounded, bounded.east)
    drawn = read(svg_of(page))
    assert len(drawn.outlines) == 1
    assert "东区设备在线率" in drawn.texts and "在线率 0.0%" in drawn.texts
    assert "西区" not in drawn.texts and "在线率 50.0%" not in drawn.texts


@pytest.mark.parametrize("who", ["nobody", "tester"])
@pytest.mark.parametrize("metrics_auth", [False, True])
async def test_nobody_else_gets_a_map(aiohttp_client: Any, bounded: City, who: str,
                                      metrics_auth: bool) -> None:
    """Not the public page (even on loopback, where device names are open), not a tester."""
    token = bounded.west_tester if who == "tester" else None
    page = await page_as(aiohttp_client, bounded, token, metrics_auth=metrics_auth)
    assert "<svg" not in page and "在线率地图" not in page


@pytest.fixture
async def server(bounded: City) -> AsyncIterator[str]:
    runner = web.AppRunner(create_app(bounded.deps()))
    await runner.setup()
    await web.TCPSite(runner, HOST, 0).start()
    try:
        yield f"http://{HOST}:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason=f"{CHROMIUM} is not installed")
async def test_admin_landing_page_in_chromium(server: str, bounded: City,
                                              tmp_path: Path) -> None:
    """Log in as an admin in a real browser: the map is laid out (wide, every county), no
    CSP violation, and the screenshot shows the choropleth's fill and its outlines."""
    async with chromium(tmp_path / "profile") as browser:
        page = await browser.new_page()
        await page.goto(server + "/login?next=/")
        await page.fill("#token", bounded.admin)
        await page.then_load("document.querySelector('form').submit()")
        assert await page.url() == server + "/"
        width = await page.wait_for(
            "document.querySelector('#rate-map svg')?.getBoundingClientRect().width")
        assert width > 600
        outlines = await page.evaluate(
            "document.querySelectorAll('#rate-map path.outline').length")
        assert outlines == 3
        shot = await page.screenshot(width=1280, height=1000)
        (tmp_path / "landing.png").write_bytes(shot)
        assert not [line for line in page.console if "Content Security Policy" in line]
    image = Image.open(io.BytesIO(shot)).convert("RGB")
    counts = {colour: n for n, colour in image.getcolors(maxcolors=1 << 24) or []}
    assert counts.get(_rgb(rate_colour(0.0)), 0) > 20_000  # two counties under 90 %
    assert counts.get((0, 0, 0), 0) > 2_000  # outlines, frame, text


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)
