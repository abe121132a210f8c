"""The lab's RTSP, HTTP and TCP responders, spoken to over plain sockets on 127.104.10.0/24."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from netwatch.lab.lab import Lab
from netwatch.lab.responders import MAX_HEAD, RtspMode
from tests.lab.labkit import make_inventory, make_scenario
from tests.peers import free_port

NET = "127.104.10"


async def exchange(address: str, port: int, request: bytes, *, until_closed: bool = False,
                   responses: int = 1) -> bytes:
    """Send ``request`` and read back ``responses`` heads (plus bodies), or until closed."""
    reader, writer = await asyncio.open_connection(address, port)
    try:
        writer.write(request)
        await writer.drain()
        if until_closed:
            return await asyncio.wait_for(reader.read(), 5)
        data = b""
        for _ in range(responses):
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            data += head + await asyncio.wait_for(reader.readexactly(length), 5)
        return data
    finally:
        writer.close()


def rtsp(method: str, cseq: int, url: str = "rtsp://x/") -> bytes:
    return f"{method} {url} RTSP/1.0\r\nCSeq: {cseq}\r\nUser-Agent: test\r\n\r\n".encode()


@pytest.fixture
async def lab(tmp_path: Path) -> AsyncIterator[tuple[Lab, int]]:
    port = free_port(f"{NET}.1")
    devices = "".join(
        f"  - {{id: {name}, kind: camera, county: north, address: {NET}.{i}, name: {name},"
        f" ports: {{rtsp: {port}}}}}\n"
        for i, name in enumerate(["cam-p", "cam-401", "cam-503", "cam-open", "cam-down"], 1))
    devices += (f"  - {{id: web-1, kind: camera, county: south, address: {NET}.20, name: w,"
                f" checks: [icmp, {{probe: http, name: web, port: {port}}},"
                f" {{probe: tcp, name: ctl, port: {port + 1 if port < 65535 else port - 1}}}]}}\n")
    inventory = make_inventory(tmp_path, devices)
    scenario = make_scenario(inventory, """faults:
  - {device: cam-401, fault: rtsp_401}
  - {device: cam-503, fault: rtsp_503}
  - {device: cam-open, fault: open_stream}
  - {device: cam-down, fault: service_down}
""")
    async with Lab(inventory, scenario, firewall=False) as running:
        yield running, port


async def test_protected_camera_options_and_describe(lab: tuple[Lab, int]) -> None:
    """A default camera answers OPTIONS 200 with Public and DESCRIBE 401 with a Digest challenge."""
    _, port = lab
    reply = await exchange(f"{NET}.1", port, rtsp("OPTIONS", 7) + rtsp("DESCRIBE", 8),
                           responses=2)
    options, describe = reply.split(b"\r\n\r\n")[:2]
    assert options.startswith(b"RTSP/1.0 200 OK\r\n")
    assert b"CSeq: 7" in options and b"Public: OPTIONS, DESCRIBE" in options
    assert describe.startswith(b"RTSP/1.0 401 Unauthorized\r\n") and b"CSeq: 8" in describe
    assert b'WWW-Authenticate: Digest realm="netwatch-lab"' in describe


@pytest.mark.parametrize(("device", "status"), [
    (2, b"RTSP/1.0 401 Unauthorized"), (3, b"RTSP/1.0 503 Service Unavailable")])
async def test_fault_modes_answer_every_request(lab: tuple[Lab, int], device: int,
                                               status: bytes) -> None:
    """rtsp_401 and rtsp_503 cameras give that status even to OPTIONS."""
    _, port = lab
    for method in ("OPTIONS", "DESCRIBE"):
        reply = await exchange(f"{NET}.{device}", port, rtsp(method, 1))
        assert reply.startswith(status + b"\r\n")


async def test_open_stream_describe_serves_sdp(lab: tuple[Lab, int]) -> None:
    """An open_stream camera answers DESCRIBE 200 with an SDP body of the announced length."""
    _, port = lab
    reply = await exchange(f"{NET}.4", port, rtsp("DESCRIBE", 3))
    head, body = reply.split(b"\r\n\r\n", 1)
    assert head.startswith(b"RTSP/1.0 200 OK") and b"Content-Type: application/sdp" in head
    assert f"Content-Length: {len(body)}".encode() in head
    assert body.startswith(b"v=0\r\n") and b"m=video 0 RTP/AVP 96" in body


async def test_service_down_port_is_closed(lab: tuple[Lab, int]) -> None:
    """service_down leaves the camera's RTSP port closed: the connect is refused."""
    _, port = lab
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection(f"{NET}.5", port)


async def test_mode_change_takes_effect_at_once(lab: tuple[Lab, int]) -> None:
    """The lab can change a camera's answers while it runs."""
    running, port = lab
    running.rtsp["cam-p"].mode = RtspMode.OPEN
    reply = await exchange(f"{NET}.1", port, rtsp("DESCRIBE", 1))
    assert reply.startswith(b"RTSP/1.0 200 OK")


async def test_other_methods_and_garbage(lab: tuple[Lab, int]) -> None:
    """Without credentials SETUP is challenged like DESCRIBE; an open camera without a
    video check answers 405; a non-RTSP line gets 400 and the connection closes."""
    _, port = lab
    reply = await exchange(f"{NET}.1", port, rtsp("SETUP", 4))
    assert reply.startswith(b"RTSP/1.0 401 Unauthorized")
    reply = await exchange(f"{NET}.4", port, rtsp("SETUP", 4))
    assert reply.startswith(b"RTSP/1.0 405 Method Not Allowed") and b"Allow: " in reply
    garbage = await exchange(f"{NET}.1", port, b"\x16\x03\x01 hello\r\n\r\n", until_closed=True)
    assert garbage.startswith(b"RTSP/1.0 400 Bad Request")


async def test_oversized_head_is_cut_off(lab: tuple[Lab, int]) -> None:
    """A head that never ends is not buffered forever: the responder hangs up."""
    _, port = lab
    reply = await exchange(f"{NET}.1", port, b"OPTIONS * RTSP/1.0\r\nX: " + b"a" * (MAX_HEAD + 10),
                           until_closed=True)
    assert reply == b""


async def test_http_answers_and_keeps_alive(lab: tuple[Lab, int]) -> None:
    """The HTTP responder answers 200 twice on one connection, and HEAD without a body."""
    _, port = lab
    get = b"GET /status HTTP/1.1\r\nHost: x\r\n\r\n"
    reply = await exchange(f"{NET}.20", port, get + get, responses=2)
    assert reply.count(b"HTTP/1.1 200 OK\r\n") == 2 and reply.count(b"netwatch lab: web-1") == 2
    head = await exchange(f"{NET}.20", port,
                          b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                          until_closed=True)
    assert head.startswith(b"HTTP/1.1 200 OK") and head.endswith(b"\r\n\r\n")


async def test_tcp_check_port_accepts(lab: tuple[Lab, int]) -> None:
    """A tcp check's port accepts connections."""
    running, port = lab
    ctl = running.inventory.by_id()["web-1"].check("ctl")
    assert ctl is not None
    _, writer = await asyncio.open_connection(f"{NET}.20", ctl.port)
    writer.close()
    assert running.info is not None
    assert running.info.responders == {"rtsp": 4, "http": 1, "tcp": 1}
