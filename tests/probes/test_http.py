"""The http probe against nginx, aiohttp and misbehaving raw servers (127.103.2.0/24)."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from probes import http
from probes.base import ParamError, ProbeContext, ProbeResult, Reason, Target
from tests.peers import nginx, reply_with, tcp_server

NGINX_ADDRESS = "127.103.2.1"
AIOHTTP_ADDRESS = "127.103.2.2"
RAW_ADDRESS = "127.103.2.3"


@pytest.fixture(scope="module")
def nginx_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """nginx (Debian nginx-light) with 200, 301, 401, 403, 404 and 503 locations."""
    with nginx(tmp_path_factory.mktemp("nginx"), NGINX_ADDRESS) as port:
        yield port


async def check(address: str, port: int, wait: float = 1.0, **raw: Any) -> ProbeResult:
    """Run one http check with inventory-style settings."""
    return await http.probe(
        Target("dev", address, port, wait), http.parse_params(raw), ProbeContext()
    )


@pytest.mark.peer
@pytest.mark.parametrize(
    ("path", "success", "reason", "status"),
    [
        ("/", True, Reason.OK, 200),
        ("/moved", True, Reason.OK, 301),
        ("/private", False, Reason.AUTH, 401),
        ("/forbidden", False, Reason.AUTH, 403),
        ("/missing", False, Reason.BAD_STATUS, 404),
        ("/broken", False, Reason.BAD_STATUS, 503),
    ],
)
async def test_nginx_statuses(
    nginx_port: int, path: str, success: bool, reason: Reason, status: int
) -> None:
    """Default expectations: 2xx/3xx succeed, 401/403 are auth, other statuses bad_status."""
    result = await check(NGINX_ADDRESS, nginx_port, path=path)
    assert (result.success, result.reason) == (success, reason), result
    assert result.measurements["status_code"] == status
    assert result.measurements["connect_seconds"] > 0
    assert result.measurements["response_seconds"] > 0


@pytest.mark.peer
async def test_nginx_expected_statuses_and_head(nginx_port: int) -> None:
    """expect_status widens what is healthy; HEAD works without a body."""
    assert (await check(NGINX_ADDRESS, nginx_port, path="/missing", expect_status=["4xx"])).success
    assert (await check(NGINX_ADDRESS, nginx_port, path="/private", expect_status=[401])).success
    narrow = await check(NGINX_ADDRESS, nginx_port, path="/moved", expect_status=["200-299"])
    assert narrow.reason is Reason.BAD_STATUS and "301" in narrow.detail
    assert (await check(NGINX_ADDRESS, nginx_port, method="HEAD")).success


@pytest.fixture
async def edge_server(aiohttp_server: Any) -> Any:
    """An aiohttp server recording Host headers, with large, chunked and empty replies."""
    hosts: list[str] = []

    async def host(request: web.Request) -> web.Response:
        hosts.append(request.headers["Host"])
        return web.Response(text="ok")

    async def large(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * 2_000_000)

    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(5):
            await response.write(b"chunk" * 100)
        await response.write_eof()
        return response

    async def empty(request: web.Request) -> web.Response:
        return web.Response(status=204)

    app = web.Application()
    app.router.add_get("/host", host)
    app.router.add_get("/large", large)
    app.router.add_get("/chunked", chunked)
    app.router.add_get("/empty", empty)
    server = await aiohttp_server(app, host=AIOHTTP_ADDRESS)
    server.hosts = hosts
    return server


async def test_host_header(edge_server: Any) -> None:
    """The Host header is the address and port, or the configured host name."""
    port = edge_server.port
    assert (await check(AIOHTTP_ADDRESS, port, path="/host")).success
    assert (await check(AIOHTTP_ADDRESS, port, path="/host", host="cam.example")).success
    assert edge_server.hosts == [f"{AIOHTTP_ADDRESS}:{port}", f"cam.example:{port}"]


@pytest.mark.parametrize("path", ["/large", "/chunked", "/empty"])
async def test_bodies_are_drained_within_limit(edge_server: Any, path: str) -> None:
    """Large, chunked and empty bodies all end the check successfully."""
    result = await check(AIOHTTP_ADDRESS, edge_server.port, path=path, max_body=4096)
    assert result.success, result


def _self_signed(tmp: Path) -> ssl.SSLContext:
    """A server TLS context with a fresh self-signed certificate for the raw address."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "netwatch test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(AIOHTTP_ADDRESS))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    (tmp / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp / "cert.pem", tmp / "key.pem")
    return context


async def test_tls(aiohttp_server: Any, tmp_path: Path) -> None:
    """HTTPS with verification off succeeds; with it on, an untrusted certificate fails."""

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", hello)
    server = await aiohttp_server(app, host=AIOHTTP_ADDRESS, ssl=_self_signed(tmp_path))
    unverified = await check(AIOHTTP_ADDRESS, server.port, tls=True, tls_verify=False)
    assert unverified.success and unverified.measurements["status_code"] == 200
    verified = await check(AIOHTTP_ADDRESS, server.port, tls=True)
    assert verified.reason is Reason.PROTOCOL and "certificate" in verified.detail


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (b"SSH-2.0-OpenSSH_9.2\r\n", "not a HTTP reply"),
        (b"\x16\x03\x01\x00\x05hello", "not a HTTP reply"),
        (b"HTTP/1.1 2000 OK\r\n\r\n", "bad status code"),
        (b"HTTP/1.1 200 OK\r\nno-colon\r\n\r\n", "bad header line"),
        (b"HTTP/1.1 200 OK\r\nContent-Ty", "closed inside"),
        (b"", "closed without"),
        (b"HTTP/1.1 200 OK\r\nX-Pad: " + b"a" * 70_000 + b"\r\n\r\n", "longer than"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", "body truncated"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n", "Content-Length"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: \xb2\r\n\r\n", "Content-Length"),  # "²"
        (b"HTTP/1.1 \xb2\xb3\xb9 OK\r\n\r\n", "bad status code"),  # "²³¹"
    ],
)
async def test_malformed_replies_are_protocol_failures(reply: bytes, message: str) -> None:
    """Garbage, truncated and oversized replies give a protocol failure naming the fault."""
    async with tcp_server(RAW_ADDRESS, reply_with(reply)) as port:
        result = await check(RAW_ADDRESS, port)
    assert result.reason is Reason.PROTOCOL, result
    assert message in result.detail


async def test_interim_reply_is_skipped() -> None:
    """A 100 Continue before the real reply is skipped, the final status counts."""
    reply = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    async with tcp_server(RAW_ADDRESS, reply_with(reply)) as port:
        result = await check(RAW_ADDRESS, port)
    assert result.success and result.measurements["status_code"] == 200


async def test_slow_loris_head_times_out_on_deadline() -> None:
    """A server dribbling its head a byte at a time is cut off at the timeout."""

    async def dribble(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\n")
        for _ in range(200):
            writer.write(b"X")
            await writer.drain()
            await asyncio.sleep(0.02)

    async with tcp_server(RAW_ADDRESS, dribble) as port:
        started = time.monotonic()
        result = await check(RAW_ADDRESS, port, wait=0.3)
        elapsed = time.monotonic() - started
    assert result.reason is Reason.TIMEOUT and "GET /" in result.detail
    assert elapsed < http.deadline(http.Params(), 0.3)


async def test_stalled_body_times_out_keeping_status() -> None:
    """Headers then a body that never completes: timeout, with the status measured."""
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial"
    async with tcp_server(RAW_ADDRESS, reply_with(reply, then_wait=True)) as port:
        result = await check(RAW_ADDRESS, port, wait=0.3)
    assert result.reason is Reason.TIMEOUT and "body" in result.detail
    assert result.measurements["status_code"] == 200


async def test_ipv6_host_header_is_bracketed() -> None:
    """An IPv6 literal target is reached and named as [addr]:port in the Host header."""
    seen: list[bytes] = []

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")

    try:
        async with tcp_server("::1", record) as port:
            result = await check("::1", port)
    except OSError as exc:
        pytest.skip(f"no IPv6 loopback here: {exc}")
    assert result.success and f"Host: [::1]:{port}\r\n".encode() in seen[0]


async def test_refused() -> None:
    """No listener: refused."""
    async with tcp_server(RAW_ADDRESS, reply_with(b"")) as port:
        pass
    assert (await check(RAW_ADDRESS, port)).reason is Reason.REFUSED


def test_params() -> None:
    """Settings parse to ranges; bad or unknown ones name their field."""
    params = http.parse_params({"expect_status": [204, "3xx", "400-404"], "method": "head"})
    assert params.expect_status == ((204, 204), (300, 399), (400, 404))
    assert params.method == "HEAD"
    assert http.parse_params({"expect_status": "2xx"}).expect_status == ((200, 299),)
    assert http.deadline(params, 1.5) == 4.5
    for raw, field in [
        ({"paht": "/"}, "paht"),
        ({"path": "no-slash"}, "path"),
        ({"path": "/a\r\nX-Injected: 1"}, "path"),
        ({"host": "a b"}, "host"),
        ({"method": "G T"}, "method"),
        ({"expect_status": ["9xx"]}, "expect_status"),
        ({"expect_status": ["300-200"]}, "expect_status"),
        ({"expect_status": []}, "expect_status"),
        ({"expect_status": [True]}, "expect_status"),
        ({"tls": "yes"}, "tls"),
        ({"max_body": -1}, "max_body"),
    ]:
        with pytest.raises(ParamError) as err:
            http.parse_params(raw)
        assert err.value.field == field, raw
