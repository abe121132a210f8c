"""Malformed requests from a client: one warning line each at most once a minute, no traceback."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from netwatch.web.app import create_app
from netwatch.web.guard import GuardedSite, GuardStats, WebLimits
from netwatch.web.requestlog import RequestLog
from tests.web.conftest import City, Clock

HOST = "127.61.0.3"
TOKEN_LIKE = "Tok3n-in-a-broken-header-5f1e"
MALFORMED = (
    b"GET / HTTP/1.1\r\nHost: a\r\nBroken Header: x\r\n\r\n",  # a space in a header name
    b"GET / HTTP/1.1\r\nHost: a\r\nAuthorization " + TOKEN_LIKE.encode() + b"\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nX-Long: " + b"a" * 20_000 + b"\r\n\r\n",  # over 8 KiB
    b"GET /\x00 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET / HTTP/9.9\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
)


class Served:
    """The web app behind the daemon's listener, with the daemon's server logger."""

    def __init__(self, city: City) -> None:
        self.clock = Clock()
        self.log = RequestLog(clock=self.clock)
        self.runner = web.AppRunner(create_app(city.deps()), access_log=None,
                                    logger=self.log)
        self.port = 0

    async def send(self, raw: bytes) -> bytes:
        """``raw`` on a connection of its own; what the server wrote before closing it."""
        reader, writer = await asyncio.open_connection(HOST, self.port)
        try:
            writer.write(raw)
            await writer.drain()
            return await asyncio.wait_for(reader.read(), 30)
        finally:
            writer.close()


@pytest.fixture
async def served(city: City) -> AsyncIterator[Served]:
    served = Served(city)
    await served.runner.setup()
    site = GuardedSite(served.runner, HOST, 0, limits=WebLimits(), stats=GuardStats())
    await site.start()
    served.port = site.bound_port
    try:
        yield served
    finally:
        await served.runner.cleanup()


def server_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "aiohttp.server"]


async def test_a_flood_of_malformed_requests_is_one_warning_line(
        served: Served, caplog: pytest.LogCaptureFixture) -> None:
    """Sixty malformed requests in a minute: each answered 400, one warning line logged
    (address and kind of error, no traceback, nothing the client sent); a minute later the
    next one logs a line that counts the 59 left out."""
    caplog.set_level(logging.DEBUG)
    for i in range(60):
        answer = await served.send(MALFORMED[i % len(MALFORMED)])
        assert re.match(rb"HTTP/1\.[01] 4\d\d ", answer), (i, answer[:200])
    records = server_records(caplog)
    assert len(records) == 1
    line = records[0]
    assert line.levelno == logging.WARNING
    assert line.exc_info is None and line.exc_text is None
    text = line.getMessage()
    assert "\n" not in text and len(text) < 200
    assert re.fullmatch(r"malformed request from 127\.[0-9.]+ refused \(\w+\)", text), text
    assert TOKEN_LIKE not in caplog.text and "Traceback" not in caplog.text
    served.clock.now += 61
    await served.send(MALFORMED[1])
    records = server_records(caplog)
    assert len(records) == 2
    assert records[1].getMessage().endswith(" (59 more since the last such line, not logged)")
    assert records[1].levelno == logging.WARNING and records[1].exc_info is None


async def test_garbage_as_a_first_request_stays_at_debug(
        served: Served, caplog: pytest.LogCaptureFixture) -> None:
    """A TLS hello sent to the plain port (aiohttp's own choice: debug) is one debug line."""
    caplog.set_level(logging.DEBUG)
    reader, writer = await asyncio.open_connection(HOST, served.port)
    writer.write(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64)
    await writer.drain()
    await asyncio.wait_for(reader.read(), 30)
    writer.close()
    records = server_records(caplog)
    assert [(r.levelno, r.exc_info) for r in records] == [(logging.DEBUG, None)]
    assert "(BadHttpMethod)" in records[0].getMessage()


def test_other_errors_keep_their_traceback(caplog: pytest.LogCaptureFixture) -> None:
    """Anything but a malformed request (a handler's failure) is logged as before."""
    log = RequestLog(clock=Clock())
    try:
        raise RuntimeError("handler broke")
    except RuntimeError:
        log.exception("Error handling request from %s", HOST)
    [record] = server_records(caplog)
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert "handler broke" in caplog.text
