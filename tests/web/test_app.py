"""The app shell: /metrics encoding, health and readiness, security headers, body limit."""

from __future__ import annotations

import gzip
import threading

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from netwatch.web import app as app_module
from netwatch.web.access import RULES
from netwatch.web.app import BODY_LIMIT, accepts_gzip, create_app
from netwatch.web.workers import POOL, THREAD_PREFIX
from tests.web.conftest import City, bearer


@pytest.fixture
async def raw_client(aiohttp_client, city: City) -> TestClient:  # type: ignore[no-untyped-def]
    """A client that leaves response bodies compressed, to see what went over the wire."""
    return await aiohttp_client(create_app(city.deps()), auto_decompress=False)


async def test_metrics_plain_has_the_exposition_content_type(raw_client: TestClient,
                                                             city: City) -> None:
    """Without gzip in Accept-Encoding the body is the exposition's text, uncompressed."""
    resp = await raw_client.get("/metrics", headers={"Accept-Encoding": "identity"})
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "Content-Encoding" not in resp.headers
    body = await resp.read()
    assert b'netwatch_device_up{county="east",kind="switch",device="sw-e"} 0' in body
    assert b"netwatch_ready 0" in body


async def test_metrics_gzip_when_accepted(raw_client: TestClient, city: City) -> None:
    """gzip is used when accepted and decompresses to the same exposition."""
    resp = await raw_client.get("/metrics", headers={"Accept-Encoding": "deflate, gzip"})
    assert resp.headers["Content-Encoding"] == "gzip"
    assert resp.headers["Vary"] == "Accept-Encoding"
    assert resp.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    body = gzip.decompress(await resp.read())
    assert body == city.exposition.render()
    resp = await raw_client.get("/metrics", headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in resp.headers


async def test_large_metrics_are_compressed_off_the_loop(aiohttp_client, city: City) -> None:
    """A body above the in-thread threshold still arrives gzipped and intact."""
    class Big:
        def render_parts(self) -> list[bytes]:
            return [b"netwatch_big_series{i=\"%d\"} 1\n" % i for i in range(40_000)]

        async def scrape_parts(self) -> list[bytes]:
            return self.render_parts()

    client = await aiohttp_client(create_app(city.deps(exposition=Big())),
                                  auto_decompress=False)
    resp = await client.get("/metrics", headers={"Accept-Encoding": "gzip"})
    wire = await resp.read()
    assert resp.headers["Content-Encoding"] == "gzip"
    text = b"".join(Big().render_parts())
    assert gzip.decompress(wire) == text
    assert len(wire) < len(text) // 4


async def test_request_work_runs_in_a_bounded_pool_of_its_own(aiohttp_client, city: City,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    """Compressing a large scrape runs on the web pool (web_workers threads), never on the
    loop's default executor that the daemon's own work needs."""
    threads: list[str] = []
    real = app_module._gzip

    def spy(parts: list[bytes]) -> bytes:
        threads.append(threading.current_thread().name)
        return real(parts)

    monkeypatch.setattr(app_module, "_gzip", spy)

    class Big:
        async def scrape_parts(self) -> list[bytes]:
            return [b"x" * 1024] * 400

    app = create_app(city.deps(exposition=Big(), web_workers=1))
    client = await aiohttp_client(app)
    for _ in range(3):
        resp = await client.get("/metrics", headers={"Accept-Encoding": "gzip"})
        assert resp.status == 200
    assert len(threads) == 3 and all(t.startswith(THREAD_PREFIX) for t in threads)
    assert app[POOL]._max_workers == 1


@pytest.mark.parametrize(("header", "expected"), [
    ("gzip", True), ("GZIP;q=0.5", True), ("br, gzip;q=0.001", True), ("*", True),
    ("", False), ("identity", False), ("gzip;q=0", False), ("*, gzip;q=0", False),
    ("*;q=0", False), ("gzip;q=zero", False), ("x-gzip", True),
])
def test_accepts_gzip(header: str, expected: bool) -> None:
    """Accept-Encoding parsing honours q-values and the * wildcard."""
    assert accepts_gzip(header) is expected


async def test_healthz_and_readyz_until_every_group_swept(aiohttp_client, city: City) -> None:
    """/healthz is 200 throughout; /readyz is 503 naming the unswept groups, then 200."""
    client = await aiohttp_client(create_app(city.deps()))
    resp = await client.get("/healthz")
    assert (resp.status, await resp.text()) == (200, "ok\n")
    resp = await client.get("/readyz")
    assert resp.status == 503
    assert await resp.json() == {"ready": False, "degraded": False,
                                 "pending": ["trunking_site@30s"], "problems": [],
                                 "counties": {}, "duties": "active"}
    await city.sweep("trunking_site")
    resp = await client.get("/readyz")
    assert (resp.status, await resp.json()) == (
        200, {"ready": True, "degraded": False, "pending": [], "problems": [],
              "counties": {}, "duties": "active"})


async def test_security_headers_on_every_answer(aiohttp_client, city: City) -> None:
    """HTML, JSON and error answers carry nosniff, DENY framing, no referrer and a CSP
    without inline scripts or styles; API answers are not cached."""
    client = await aiohttp_client(create_app(city.deps()))
    for path, headers in (("/", {}), ("/api/v1/devices", bearer(city.admin)),
                          ("/api/v1/devices", {}), ("/nothing", {})):
        resp = await client.get(path, headers=headers)
        assert resp.headers["X-Content-Type-Options"] == "nosniff", path
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["Referrer-Policy"] == "no-referrer"
        csp = resp.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "unsafe-inline" not in csp
        if path.startswith("/api/"):
            assert resp.headers["Cache-Control"] == "no-store"


async def test_request_bodies_over_one_mib_are_refused(aiohttp_client, city: City,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's body limit is 1 MiB: a larger body is a JSON 413, a body at the limit is read
    (checked through a route added for the test, since no endpoint of this issue reads one)."""
    app = create_app(city.deps())
    monkeypatch.setitem(RULES, ("POST", "/-/echo-length"), frozenset({"admin"}))

    async def length(request: web.Request) -> web.Response:
        return web.Response(text=str(len(await request.read())))

    app.router.add_post("/-/echo-length", length)
    client = await aiohttp_client(app)
    resp = await client.post("/-/echo-length", data=b"x" * BODY_LIMIT, headers=bearer(city.admin))
    assert (resp.status, await resp.text()) == (200, str(1024 * 1024))
    resp = await client.post("/-/echo-length", data=b"x" * (BODY_LIMIT + 1),
                             headers=bearer(city.admin))
    assert resp.status == 413
    assert (await resp.json())["error"] == "request body too large"
