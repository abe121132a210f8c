"""The rtsp probe against GStreamer's RTSP server and raw fakes (127.103.3.0/24)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from probes import rtsp
from probes.base import ParamError, ProbeContext, ProbeResult, Reason, Target
from tests.peers import reply_with, rtsp_server, tcp_server

OPEN_ADDRESS = "127.103.3.1"
AUTH_ADDRESS = "127.103.3.2"
RAW_ADDRESS = "127.103.3.3"


@pytest.fixture(scope="module")
def open_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """GStreamer's RTSP server serving /stream to anyone."""
    with rtsp_server(tmp_path_factory.mktemp("rtsp-open"), OPEN_ADDRESS) as port:
        yield port


@pytest.fixture(scope="module")
def auth_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """GStreamer's RTSP server requiring Basic credentials for /stream."""
    with rtsp_server(tmp_path_factory.mktemp("rtsp-auth"), AUTH_ADDRESS, auth=True) as port:
        yield port


async def check(address: str, port: int, wait: float = 2.0, **raw: Any) -> ProbeResult:
    """Run one rtsp check with inventory-style settings."""
    target = Target("cam", address, port, wait)
    return await rtsp.probe(target, rtsp.parse_params(raw), ProbeContext())


@pytest.mark.peer
async def test_open_stream_is_a_finding(open_port: int) -> None:
    """OPTIONS 200 with Public, then DESCRIBE 200 with SDP: success with open_stream."""
    result = await check(OPEN_ADDRESS, open_port, path="/stream")
    assert result.success, result
    assert result.findings == ("open_stream",)
    assert result.measurements["status_code"] == 200
    assert result.measurements["describe_status_code"] == 200
    assert result.measurements["response_seconds"] > 0
    assert "DESCRIBE" in result.info["public"]
    assert "open stream" in result.detail


@pytest.mark.peer
async def test_protected_stream_is_alive_without_finding(auth_port: int) -> None:
    """DESCRIBE without credentials answered 401: alive and protected, no finding."""
    result = await check(AUTH_ADDRESS, auth_port, path="/stream")
    assert result.success and result.reason is Reason.OK, result
    assert result.findings == ()
    assert result.measurements["describe_status_code"] == 401
    assert "needs credentials" in result.detail


@pytest.mark.peer
async def test_unknown_path_is_alive(open_port: int) -> None:
    """DESCRIBE of a path the camera lacks (404) still proves the service alive."""
    result = await check(OPEN_ADDRESS, open_port, path="/nope")
    assert result.success and result.findings == ()
    assert result.measurements["describe_status_code"] == 404
    assert "404" in result.detail


@pytest.mark.peer
async def test_options_only(open_port: int) -> None:
    """With describe off only OPTIONS is sent."""
    result = await check(OPEN_ADDRESS, open_port, describe=False)
    assert result.success and "describe_status_code" not in result.measurements
    assert rtsp.deadline(rtsp.parse_params({"describe": False}), 1.0) == 2.0


def rtsp_fake(replies: dict[str, bytes]) -> Any:
    """A handler answering each RTSP request by method; a method without a reply hangs up."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            reply = replies.get(head.split(b" ", 1)[0].decode())
            if reply is None:
                return
            writer.write(reply)
            await writer.drain()

    return handler


OPTIONS_OK = b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n"


@pytest.mark.parametrize(
    ("replies", "reason", "detail"),
    [
        (
            {"OPTIONS": b"RTSP/1.0 503 Service Unavailable\r\nCSeq: 1\r\n\r\n"},
            Reason.BAD_STATUS,
            "OPTIONS: 503",
        ),
        (
            {"OPTIONS": OPTIONS_OK, "DESCRIBE": b"RTSP/1.0 503 Busy\r\nCSeq: 2\r\n\r\n"},
            Reason.BAD_STATUS,
            "DESCRIBE /: 503",
        ),
        ({"OPTIONS": b"HTTP/1.1 400 Bad Request\r\n\r\n"}, Reason.PROTOCOL, "not a RTSP reply"),
        ({"OPTIONS": OPTIONS_OK}, Reason.PROTOCOL, "DESCRIBE /: connection closed without"),
        (
            {"OPTIONS": b"RTSP/1.0 200 OK\r\nContent-Length: 999999\r\n\r\n"},
            Reason.PROTOCOL,
            "body of 999999 bytes is over",
        ),
        ({"OPTIONS": b"\x00\xff\x00\xff"}, Reason.PROTOCOL, "not a RTSP reply"),
        (
            {"OPTIONS": b"RTSP/1.0 200 OK\r\nContent-Length: \xb3\r\n\r\n"},  # "³"
            Reason.PROTOCOL,
            "bad Content-Length",
        ),
        (
            {"OPTIONS": b"RTSP/1.0 200 OK\r\nX: " + b"\xff" * 70_000 + b"\r\n\r\n"},
            Reason.PROTOCOL,
            "longer than 65536 bytes",
        ),
    ],
)
async def test_fakes(replies: dict[str, bytes], reason: Reason, detail: str) -> None:
    """5xx is bad_status; non-RTSP, oversized replies and hang-ups are protocol failures."""
    async with tcp_server(RAW_ADDRESS, rtsp_fake(replies)) as port:
        result = await check(RAW_ADDRESS, port)
    assert result.reason is reason and not result.success, result
    assert detail in result.detail


async def test_truncated_reply() -> None:
    """A reply cut short of its declared body is a protocol failure."""
    reply = b"RTSP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nabc"
    async with tcp_server(RAW_ADDRESS, reply_with(reply)) as port:
        result = await check(RAW_ADDRESS, port)
    assert result.reason is Reason.PROTOCOL and "body truncated: 3 of 10" in result.detail


async def test_options_body_is_skipped_before_describe() -> None:
    """A body on the OPTIONS reply does not confuse the DESCRIBE reply that follows."""
    replies = {
        "OPTIONS": b"RTSP/1.0 200 OK\r\nPublic: OPTIONS\r\nContent-Length: 4\r\n\r\nbody",
        "DESCRIBE": b"RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\n\r\n",
    }
    async with tcp_server(RAW_ADDRESS, rtsp_fake(replies)) as port:
        result = await check(RAW_ADDRESS, port)
    assert result.success and result.measurements["describe_status_code"] == 401


async def test_silent_camera_times_out() -> None:
    """A camera that accepts but never answers times out at the OPTIONS step."""

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    async with tcp_server(RAW_ADDRESS, silent) as port:
        result = await check(RAW_ADDRESS, port, wait=0.2)
    assert result.reason is Reason.TIMEOUT and result.detail.startswith("OPTIONS")


async def test_refused() -> None:
    """Nothing on the port: refused."""
    async with tcp_server(RAW_ADDRESS, reply_with(b"")) as port:
        pass
    assert (await check(RAW_ADDRESS, port)).reason is Reason.REFUSED


def test_params() -> None:
    """Bad or unknown settings name their field; the deadline counts the steps."""
    assert rtsp.parse_params(None) == rtsp.Params("/", True)
    assert rtsp.deadline(rtsp.Params(), 1.0) == 3.0
    for raw, field in [
        ({"pth": "/"}, "pth"),
        ({"path": "x"}, "path"),
        ({"describe": 1}, "describe"),
    ]:
        with pytest.raises(ParamError) as err:
            rtsp.parse_params(raw)
        assert err.value.field == field


async def test_a_huge_reason_phrase_is_cut_in_the_detail() -> None:
    """A 60 KB reason phrase full of control characters reaches the detail cut and printable."""
    phrase = b"\x1b[31m" + b"x" * 60_000
    replies = {"OPTIONS": b"RTSP/1.0 503 " + phrase + b"\r\nCSeq: 1\r\n\r\n"}
    async with tcp_server(RAW_ADDRESS, rtsp_fake(replies)) as port:
        result = await check(RAW_ADDRESS, port)
    assert result.reason is Reason.BAD_STATUS
    assert len(result.detail) < 200 and "\x1b" not in result.detail
