"""The web listener's limits over real sockets: caps, eviction, head and body deadlines."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from netwatch.web.app import create_app
from netwatch.web.guard import GuardedSite, GuardStats, guard_families
from netwatch.web.limits import WebLimits
from tests.web.conftest import City

HOST = "127.163.9.1"
LIMITS = WebLimits(max_connections=4, per_address=3, header_timeout=0.5, keepalive_timeout=30)
REQUEST = b"GET /ping HTTP/1.1\r\nHost: netwatch\r\n\r\n"


class Listener:
    def __init__(self, site: GuardedSite, stats: GuardStats) -> None:
        self.site = site
        self.stats = stats

    async def connect(self, source: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(HOST, self.site.bound_port,
                                             local_addr=(source, 0))


@pytest.fixture
async def listener() -> AsyncIterator[Listener]:
    async def ping(request: web.Request) -> web.Response:
        return web.Response(text="pong")

    app = web.Application()
    app.router.add_get("/ping", ping)
    runner = web.AppRunner(app, keepalive_timeout=LIMITS.keepalive_timeout)
    await runner.setup()
    stats = GuardStats()
    site = GuardedSite(runner, HOST, 0, limits=LIMITS, stats=stats)
    await site.start()
    try:
        yield Listener(site, stats)
    finally:
        await runner.cleanup()


async def closed(reader: asyncio.StreamReader) -> bool:
    """Whether the server closes the connection (EOF or reset), waiting up to 10 s."""
    try:
        return await asyncio.wait_for(reader.read(), 10) == b""
    except ConnectionResetError:
        return True


async def pong(listener: Listener, source: str) -> bool:
    reader, writer = await listener.connect(source)
    writer.write(REQUEST)
    line = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    return line.startswith(b"HTTP/1.1 200")


async def test_one_address_holds_at_most_per_address(listener: Listener) -> None:
    held = [await listener.connect("127.163.9.10") for _ in range(3)]
    reader, _ = await listener.connect("127.163.9.10")
    assert await closed(reader)
    assert listener.stats.refused == 1
    assert await pong(listener, "127.163.9.11")
    for _, writer in held:
        writer.close()


async def test_at_the_cap_a_newcomer_replaces_the_oldest_silent_connection(
        listener: Listener) -> None:
    """Four silent connections fill the cap; a fifth client still gets its answer, and the
    first silent connection is the one closed for it."""
    held = [await listener.connect(f"127.163.9.{20 + n}") for n in range(4)]
    assert await pong(listener, "127.163.9.30")
    assert await closed(held[0][0])
    assert listener.stats.open <= LIMITS.max_connections
    for _, writer in held:
        writer.close()


async def test_a_connection_without_a_whole_head_in_time_is_closed(listener: Listener) -> None:
    """A slowloris client (a head that never ends) is closed after the header timeout; one
    that sent its request keeps its connection for the next request."""
    slow_reader, slow_writer = await listener.connect("127.163.9.40")
    slow_writer.write(b"GET /ping HTTP/1.1\r\nHost: netwatch\r\n")
    reader, writer = await listener.connect("127.163.9.41")
    writer.write(REQUEST)
    assert (await reader.readline()).startswith(b"HTTP/1.1 200")
    for _ in range(5):  # trickle a header line now and then: no help
        slow_writer.write(b"X-a: b\r\n")
        await asyncio.sleep(0.05)
    assert await closed(slow_reader)
    assert listener.stats.timed_out == 1
    writer.write(REQUEST)  # kept alive past the head deadline
    await reader.readuntil(b"pong")
    assert (await reader.readline()).startswith(b"HTTP/1.1 200")
    writer.close()
    families = "".join(f.text() for f in guard_families(listener.stats, LIMITS))
    assert 'netwatch_web_connections_closed_total{reason="header_timeout"} 1' in families


async def test_a_body_not_sent_in_time_is_a_408(aiohttp_client, city: City) -> None:  # type: ignore[no-untyped-def]
    """A client that announces a body and drips it is answered 408 once the body timeout
    has passed, before its token is even looked at."""
    client = await aiohttp_client(create_app(city.deps(body_timeout=0.3)))
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(b"POST /api/v1/readings HTTP/1.1\r\nHost: netwatch\r\n"
                 b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
    status = await asyncio.wait_for(reader.readline(), 10)
    assert status.startswith(b"HTTP/1.1 408"), status
    writer.close()
