"""The sip probe against kamailio and raw fakes, over UDP and TCP (127.103.4.0/24)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from probes import sip
from probes.base import ParamError, ProbeContext, ProbeResult, Reason, Target
from tests.peers import kamailio, tcp_server, udp_server

KAMAILIO_ADDRESS = "127.103.4.1"
RAW_ADDRESS = "127.103.4.2"
DIALOG_HEADERS = (b"via:", b"from:", b"to:", b"call-id:", b"cseq:")


@pytest.fixture(scope="module")
def kamailio_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """kamailio answering OPTIONS with 200 on UDP and TCP."""
    with kamailio(tmp_path_factory.mktemp("kamailio"), KAMAILIO_ADDRESS) as port:
        yield port


async def check(address: str, port: int, wait: float = 1.0, **raw: Any) -> ProbeResult:
    """Run one sip check with inventory-style settings."""
    return await sip.probe(Target("ep", address, port, wait), sip.parse_params(raw), ProbeContext())


@pytest.mark.peer
@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_kamailio_answers_options(kamailio_port: int, transport: str) -> None:
    """A real SIP server's 200 to OPTIONS is success with status and round-trip time."""
    result = await check(KAMAILIO_ADDRESS, kamailio_port, transport=transport)
    assert result.success and result.reason is Reason.OK, result
    assert result.measurements["status_code"] == 200
    assert 0 < result.measurements["rtt_seconds"] < 1
    assert result.detail == "200 OK"


def answer(*statuses: str, call_id: bytes | None = None) -> Callable[[bytes], list[bytes]]:
    """Replies echoing the request's dialog headers (or a foreign Call-ID), one per status."""

    def replies(request: bytes) -> list[bytes]:
        lines = [
            line
            for line in request.split(b"\r\n")
            if line.lower().startswith(DIALOG_HEADERS)
            and not (call_id and line.lower().startswith(b"call-id:"))
        ]
        if call_id:
            lines.append(b"Call-ID: " + call_id)
        head = b"\r\n".join(lines)
        return [
            b"SIP/2.0 " + status.encode() + b"\r\n" + head + b"\r\nContent-Length: 0\r\n\r\n"
            for status in statuses
        ]

    return replies


@pytest.mark.parametrize(
    ("statuses", "code"),
    [
        (("401 Unauthorized",), 401),
        (("405 Method Not Allowed",), 405),
        (("100 Trying", "200 OK"), 200),
    ],
)
async def test_any_final_status_proves_life(statuses: tuple[str, ...], code: int) -> None:
    """401/405 are alive too; a 100 Trying is followed by the final status."""
    async with udp_server(RAW_ADDRESS, answer(*statuses)) as (port, _):
        result = await check(RAW_ADDRESS, port)
    assert result.success and result.measurements["status_code"] == code, result


async def test_lone_provisional_is_alive_at_timeout() -> None:
    """Only a 100 Trying within the timeout still proves the stack alive, with a detail."""
    async with udp_server(RAW_ADDRESS, answer("100 Trying")) as (port, _):
        result = await check(RAW_ADDRESS, port, wait=0.3)
    assert result.success and result.measurements["status_code"] == 100
    assert "only 100 Trying" in result.detail


async def test_silent_port_times_out_after_one_retransmission() -> None:
    """A bound port that never answers: timeout, after the request was sent twice."""
    async with udp_server(RAW_ADDRESS, lambda request: []) as (port, received):
        result = await check(RAW_ADDRESS, port, wait=0.3)
    assert result.reason is Reason.TIMEOUT and not result.success
    assert len(received) == 2 and received[0] == received[1]
    assert received[0].startswith(b"OPTIONS sip:") and b"branch=z9hG4bK" in received[0]


async def test_foreign_call_id_is_ignored() -> None:
    """A reply to someone else's request does not count: the check times out."""
    async with udp_server(RAW_ADDRESS, answer("200 OK", call_id=b"someone-else")) as (port, _):
        result = await check(RAW_ADDRESS, port, wait=0.3)
    assert result.reason is Reason.TIMEOUT


async def test_foreign_then_ours() -> None:
    """A foreign reply before ours is skipped and ours is taken."""

    def replies(request: bytes) -> list[bytes]:
        return answer("500 Other", call_id=b"x")(request) + answer("404 Not Here")(request)

    async with udp_server(RAW_ADDRESS, replies) as (port, _):
        result = await check(RAW_ADDRESS, port)
    assert result.success and result.measurements["status_code"] == 404


async def test_garbage_is_a_protocol_failure() -> None:
    """A datagram that is not SIP from the target is a protocol failure."""
    async with udp_server(RAW_ADDRESS, lambda request: [b"\x00\x01garbage"]) as (port, _):
        result = await check(RAW_ADDRESS, port)
    assert result.reason is Reason.PROTOCOL and "not a SIP status line" in result.detail


async def test_garbage_before_our_reply_does_not_fail_the_check() -> None:
    """A datagram that is not SIP (forged or corrupt) ahead of our reply: the reply counts."""

    def replies(request: bytes) -> list[bytes]:
        return [b"\x00\x01garbage", b"SIP/2.0 \xb2\xb2\xb2 OK\r\n\r\n", *answer("200 OK")(request)]

    async with udp_server(RAW_ADDRESS, replies) as (port, _):
        result = await check(RAW_ADDRESS, port)
    assert result.success and result.measurements["status_code"] == 200, result


async def test_closed_udp_port_is_refused() -> None:
    """ICMP port-unreachable on the connected socket is reported as refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((RAW_ADDRESS, 0))
        port = sock.getsockname()[1]
    result = await check(RAW_ADDRESS, port)
    assert result.reason is Reason.REFUSED, result


async def test_tcp_compact_headers_and_keepalive() -> None:
    """Over TCP, leading CRLF keep-alives and compact header names are understood."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        reply = answer("200 OK")(request)[0]
        reply = reply.replace(b"Call-ID:", b"i:").replace(b"Via:", b"v:")
        writer.write(b"\r\n\r\n" + reply)
        await writer.drain()
        await reader.read()

    async with tcp_server(RAW_ADDRESS, handler) as port:
        result = await check(RAW_ADDRESS, port, transport="tcp")
    assert result.success and result.measurements["status_code"] == 200, result


async def test_tcp_garbage_and_refused() -> None:
    """Over TCP a non-SIP reply is a protocol failure and a closed port is refused."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    async with tcp_server(RAW_ADDRESS, handler) as port:
        garbage = await check(RAW_ADDRESS, port, transport="tcp")
    assert garbage.reason is Reason.PROTOCOL
    assert (await check(RAW_ADDRESS, port, transport="tcp")).reason is Reason.REFUSED


def test_params() -> None:
    """Transport is udp or tcp; the deadline counts TCP's connect step."""
    assert sip.parse_params(None).transport == "udp"
    assert sip.deadline(sip.parse_params({"transport": "tcp"}), 1.0) == 2.0
    assert sip.deadline(sip.Params(), 1.0) == 1.0
    for raw, field in [({"transport": "tls"}, "transport"), ({"proto": "udp"}, "proto")]:
        with pytest.raises(ParamError) as err:
            sip.parse_params(raw)
        assert err.value.field == field
