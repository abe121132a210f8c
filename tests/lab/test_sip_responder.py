"""The lab's SIP responder: OPTIONS answered over UDP and TCP on 127.104.11.0/24, or not at all."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from netwatch.lab.lab import Lab
from netwatch.lab.sip_responder import sip_reply
from tests.lab.labkit import make_inventory, make_scenario
from tests.peers import free_port

NET = "127.104.11"


def options(via: str = "SIP/2.0/UDP 127.104.11.250:5062;branch=z9hG4bK-1;rport",
            to: str = "<sip:vc@127.104.11.1>", extra: str = "") -> bytes:
    return (
        f"OPTIONS sip:vc@127.104.11.1 SIP/2.0\r\nVia: {via}\r\nMax-Forwards: 70\r\n"
        f"From: <sip:probe@127.104.11.250>;tag=abc\r\nTo: {to}\r\nCall-ID: call-42@x\r\n"
        f"CSeq: 1 OPTIONS\r\n{extra}Content-Length: 0\r\n\r\n"
    ).encode()


def headers(reply: bytes) -> list[str]:
    return reply.decode().split("\r\n\r\n")[0].split("\r\n")


def test_options_copies_dialog_headers_and_tags_to() -> None:
    """200 OK echoes Via, From, Call-ID and CSeq and adds a tag to To."""
    lines = headers(sip_reply(options().split(b"\r\n\r\n")[0]) or b"")
    assert lines[0] == "SIP/2.0 200 OK"
    assert "Via: SIP/2.0/UDP 127.104.11.250:5062;branch=z9hG4bK-1;rport" in lines
    assert "From: <sip:probe@127.104.11.250>;tag=abc" in lines
    assert "Call-ID: call-42@x" in lines and "CSeq: 1 OPTIONS" in lines
    to = next(line for line in lines if line.startswith("To: "))
    assert to.startswith("To: <sip:vc@127.104.11.1>;tag=")
    assert lines[-1] == "Content-Length: 0"


def test_rport_filled_from_the_udp_source() -> None:
    """Over UDP the top Via gets received= and rport= of the packet's source (RFC 3581)."""
    reply = sip_reply(options().split(b"\r\n\r\n")[0], ("127.104.11.250", 40000)) or b""
    assert ("Via: SIP/2.0/UDP 127.104.11.250:5062;branch=z9hG4bK-1;rport=40000;"
            "received=127.104.11.250") in headers(reply)


def test_compact_and_multiple_vias_keep_order() -> None:
    """Compact header names are understood and every Via comes back in order."""
    request = (b"OPTIONS sip:x SIP/2.0\r\nv: SIP/2.0/TCP a;branch=1, SIP/2.0/TCP b;branch=2\r\n"
               b"v: SIP/2.0/TCP c;branch=3\r\nf: <sip:p@a>;tag=1\r\nt: <sip:x>;tag=keep\r\n"
               b"i: id-1\r\nCSeq: 9 OPTIONS")
    lines = headers(sip_reply(request) or b"")
    assert [ln for ln in lines if ln.startswith("Via")] == [
        "Via: SIP/2.0/TCP a;branch=1", "Via: SIP/2.0/TCP b;branch=2", "Via: SIP/2.0/TCP c;branch=3"]
    assert "To: <sip:x>;tag=keep" in lines and "Call-ID: id-1" in lines


@pytest.mark.parametrize(("request_head", "status"), [
    (b"INVITE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP a\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\n"
     b"CSeq: 1 INVITE", "SIP/2.0 405 Method Not Allowed"),
    (b"OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP a\r\nFrom: a\r\nTo: b\r\nCSeq: 1 OPTIONS",
     "SIP/2.0 400 Bad Request"),
])
def test_other_requests_get_an_error_status(request_head: bytes, status: str) -> None:
    """Methods other than OPTIONS get 405; a request without Call-ID gets 400."""
    assert headers(sip_reply(request_head) or b"")[0] == status


@pytest.mark.parametrize("head", [
    b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a\r\nCSeq: 1 OPTIONS",
    b"ACK sip:x SIP/2.0\r\nVia: SIP/2.0/UDP a\r\nCSeq: 1 ACK",
    b"OPTIONS sip:x SIP/2.0\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 OPTIONS",
    b"\xff\xfe garbage",
    b"OPTIONS sip:x SIP/2.0\r\nno colon here",
])
def test_nothing_to_answer(head: bytes) -> None:
    """Responses, ACKs, requests without Via and garbage get no answer."""
    assert sip_reply(head) is None


@pytest.fixture
async def lab(tmp_path: Path) -> AsyncIterator[int]:
    port = free_port(f"{NET}.1", udp=True)
    inventory = make_inventory(tmp_path, "".join(
        f"  - {{id: {name}, kind: vc_endpoint, county: south, address: {NET}.{i}, name: {name},"
        f" ports: {{sip: {port}}}}}\n" for i, name in enumerate(["vc-ok", "vc-silent"], 1)))
    scenario = make_scenario(inventory, "faults:\n  - {device: vc-silent, fault: sip_silent}\n")
    async with Lab(inventory, scenario, firewall=False) as running:
        assert running.info is not None
        assert running.info.responders == {"sip_udp": 2, "sip_tcp": 2}
        yield port


async def udp_request(address: str, port: int, wait: float) -> bytes | None:
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        sock.bind((f"{NET}.250", 0))
        await loop.sock_sendto(sock, options(), (address, port))
        try:
            return await asyncio.wait_for(loop.sock_recv(sock, 4096), wait)
        except TimeoutError:
            return None


async def test_udp_options_answered(lab: int) -> None:
    """An endpoint answers OPTIONS over UDP with 200 OK to the sender."""
    reply = await udp_request(f"{NET}.1", lab, 5)
    assert reply is not None and reply.startswith(b"SIP/2.0 200 OK\r\n")


async def test_tcp_options_answered_with_framing(lab: int) -> None:
    """Over TCP two requests in one write (with a body) get two answers."""
    reader, writer = await asyncio.open_connection(f"{NET}.1", lab)
    body_request = options(extra="Content-Type: text/plain\r\n").replace(
        b"Content-Length: 0\r\n\r\n", b"Content-Length: 5\r\n\r\nhello")
    writer.write(body_request + options())
    try:
        first = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        second = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    finally:
        writer.close()
    assert first.startswith(b"SIP/2.0 200 OK") and second.startswith(b"SIP/2.0 200 OK")


async def test_silent_endpoint_is_bound_but_mute(lab: int) -> None:
    """sip_silent: the port is open (no refusal) but OPTIONS never gets an answer."""
    assert await udp_request(f"{NET}.2", lab, 0.5) is None
    reader, writer = await asyncio.open_connection(f"{NET}.2", lab)
    writer.write(options())
    try:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(reader.read(1), 0.3)
    finally:
        writer.close()
