"""The onvif_time probe against ipycam's ONVIF service (a peer not written here), on
127.79.0.0/24: a camera clock read right, ahead under libfaketime, WS-UsernameToken
digests that ipycam's own verifier accepts, and hostile or incomplete replies refused."""

from __future__ import annotations

import importlib.util
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from probes import onvif
from probes.base import ParamError, ProbeContext, ProbeResult, Reason, Target
from tests.peers import _ready_port as ready_port
from tests.peers import reply_with, require, stop, tcp_server

NET = "127.79.0"
FAKETIME = "/usr/bin/faketime"
IPYCAM_SCRIPT = Path(__file__).parents[1] / "peers_ipycam_onvif.py"
PASSWORD = "onvif-Pa55-4711"  # the peer's password: must never show in a result or a log
TOLERANCE = 1.5  # seconds: ipycam answers in whole seconds, plus the round trip


@contextmanager
def ipycam(tmp: Path, address: str, ahead: str = "", user: str = "") -> Iterator[int]:
    """ipycam's ONVIF service on ``address``; ``ahead`` (e.g. "+120s") runs it under faketime."""
    if importlib.util.find_spec("ipycam") is None:
        pytest.skip("PyPI ipycam not installed (pip install -e '.[test]')")
    argv = [sys.executable, str(IPYCAM_SCRIPT), "--address", address]
    if user:
        argv += ["--username", user]
    env = {**os.environ, "IPYCAM_PASSWORD": PASSWORD}
    if ahead:
        require(FAKETIME, "libfaketime (Debian package faketime)")
        argv = [FAKETIME, "-f", ahead, *argv]
        env["FAKETIME_DONT_FAKE_MONOTONIC"] = "1"
    log = tmp / f"ipycam-{address}.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, env=env)
    try:
        yield ready_port(proc, log)
    finally:
        stop(proc)
        assert proc.stdout is not None
        proc.stdout.close()


async def check(port: int, address: str, **raw: str) -> ProbeResult:
    async with ProbeContext() as ctx:
        return await onvif.probe(Target("cam", address, port, 2.0), onvif.parse_params(raw), ctx)


async def test_ipycam_clock_in_step(tmp_path: Path) -> None:
    """A camera on this host's clock: offset about zero, within its whole-second resolution."""
    with ipycam(tmp_path, f"{NET}.1") as port:
        result = await check(port, f"{NET}.1")
    assert result.success, result.detail
    assert abs(result.measurements["clock_offset_seconds"]) <= TOLERANCE
    assert result.measurements["response_seconds"] > 0


@pytest.mark.parametrize(("ahead", "offset"), [("+120s", 120.0), ("-90s", -90.0)])
async def test_ipycam_clock_off_under_faketime(tmp_path: Path, ahead: str, offset: float) -> None:
    """The same camera under libfaketime: the probe sees its clock that far ahead (or behind)."""
    with ipycam(tmp_path, f"{NET}.2", ahead=ahead) as port:
        result = await check(port, f"{NET}.2")
    assert result.success, result.detail
    assert abs(result.measurements["clock_offset_seconds"] - offset) <= TOLERANCE


async def test_usernametoken_digest_accepted_by_ipycam(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """ipycam verifies the PasswordDigest with its own code: right password answers, a wrong one
    is refused as auth; the password is in no result, detail, repr or log line."""
    caplog.set_level(logging.DEBUG)
    with ipycam(tmp_path, f"{NET}.3", user="netwatch") as port:
        good = await check(port, f"{NET}.3", user="netwatch", password=PASSWORD)
        wrong = await check(port, f"{NET}.3", user="netwatch", password=PASSWORD + "x")
        anonymous = await check(port, f"{NET}.3")
    assert good.success, good.detail
    assert abs(good.measurements["clock_offset_seconds"]) <= TOLERANCE
    assert (wrong.success, wrong.reason) == (False, Reason.AUTH), wrong
    assert (anonymous.success, anonymous.reason) == (False, Reason.AUTH), anonymous
    params = onvif.parse_params({"user": "netwatch", "password": PASSWORD})
    shown = " ".join(repr(x) for x in (good, wrong, anonymous, params)) + caplog.text
    assert PASSWORD not in shown


def test_password_digest_known_answer() -> None:
    """The digest formula, base64(SHA1(nonce + created + password)), against a fixed answer
    (ipycam's ``compute_password_digest`` gives the same for these inputs)."""
    nonce = bytes(range(16))
    created = "2024-01-02T03:04:05Z"
    assert onvif.password_digest(nonce, created, "secret") == "YId6ZSvXCBx4L1qbUT4Hsj1W4Lc="


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol">
""" + b"".join(
    b'<!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
    for i in range(1, 10)) + b"""]>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&lol9;</s:Body></s:Envelope>
"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&x;</s:Body></s:Envelope>
"""
UNDECLARED = (b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">'
              b"<s:Body>&x;</s:Body></s:Envelope>")
NO_UTC = (b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
          b'xmlns:tt="http://www.onvif.org/ver10/schema"><s:Body><SystemDateAndTime>'
          b"<tt:LocalDateTime><tt:Time><tt:Hour>1</tt:Hour><tt:Minute>2</tt:Minute>"
          b"<tt:Second>3</tt:Second></tt:Time><tt:Date><tt:Year>2024</tt:Year>"
          b"<tt:Month>1</tt:Month><tt:Day>2</tt:Day></tt:Date></tt:LocalDateTime>"
          b"</SystemDateAndTime></s:Body></s:Envelope>")
BAD_DATE = NO_UTC.replace(b"LocalDateTime", b"UTCDateTime").replace(b">2<", b">31<") \
    .replace(b"<tt:Month>1<", b"<tt:Month>2<")


def http_reply(body: bytes, status: str = "200 OK") -> bytes:
    return (f"HTTP/1.1 {status}\r\nContent-Type: application/soap+xml\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body


@pytest.mark.parametrize(("body", "words"), [
    (BILLION_LAUGHS, "DOCTYPE"),
    (EXTERNAL, "DOCTYPE"),
    (UNDECLARED, "undefined entity"),
    (NO_UTC, "no UTCDateTime"),
    (BAD_DATE, "not a date and time"),
    (b"<s:Envelope>" + b"x" * (onvif.BODY_LIMIT + 10) + b"</s:Envelope>", "over"),
    (b"not xml at all", "malformed XML"),
], ids=["billion_laughs", "external_entity", "undeclared_entity", "no_utc", "bad_date",
        "oversized", "garbage"])
async def test_hostile_or_incomplete_reply_is_protocol(body: bytes, words: str) -> None:
    """DTDs and entities are refused before expansion, a reply without UTCDateTime, with an
    impossible date, oversized or not XML is ``protocol``."""
    async with tcp_server(f"{NET}.10", reply_with(http_reply(body))) as port:
        result = await check(port, f"{NET}.10")
    assert (result.success, result.reason) == (False, Reason.PROTOCOL), result
    assert words in result.detail
    assert "clock_offset_seconds" not in result.measurements


async def test_not_authorized_fault_is_auth() -> None:
    """A 400 with an ONVIF NotAuthorized fault (how cameras refuse a token) is ``auth``."""
    fault = (b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
             b'xmlns:ter="http://www.onvif.org/ver10/error"><s:Body><s:Fault><s:Code>'
             b"<s:Value>s:Sender</s:Value><s:Subcode><s:Value>ter:NotAuthorized</s:Value>"
             b"</s:Subcode></s:Code></s:Fault></s:Body></s:Envelope>")
    async with tcp_server(f"{NET}.11", reply_with(http_reply(fault, "400 Bad Request"))) as port:
        result = await check(port, f"{NET}.11")
    assert result.reason == Reason.AUTH, result
    async with tcp_server(f"{NET}.11", reply_with(http_reply(b"", "404 Not Found"))) as port:
        missing = await check(port, f"{NET}.11")
    assert missing.reason == Reason.BAD_STATUS, missing


async def test_silent_device_times_out_within_deadline() -> None:
    """A device that accepts and never answers is ``timeout``."""
    async with tcp_server(f"{NET}.12", reply_with(b"", then_wait=True)) as port:
        async with ProbeContext() as ctx:
            result = await onvif.probe(Target("cam", f"{NET}.12", port, 0.3),
                                       onvif.parse_params({}), ctx)
    assert result.reason == Reason.TIMEOUT, result


@pytest.mark.parametrize(("raw", "field", "words"), [
    ({"user": "u"}, "password", "go together"),
    ({"password": "p"}, "user", "go together"),
    ({"path": "onvif"}, "path", "must start with '/'"),
    ({"port": 80}, "port", "unknown setting"),
    ({"user": 5, "password": "p"}, "user", "expected text"),
])
def test_bad_params_name_their_field(raw: dict[str, object], field: str, words: str) -> None:
    with pytest.raises(ParamError) as caught:
        onvif.parse_params(raw)
    assert caught.value.field == field and words in caught.value.message


def test_defaults() -> None:
    params = onvif.parse_params(None)
    assert (params.path, params.user, params.password) == ("/onvif/device_service", "", "")
    assert onvif.DEFAULT_PORT == 80 and onvif.deadline(params, 1.0) == 3.0
