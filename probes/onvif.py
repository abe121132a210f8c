"""The ``onvif_time`` probe: a camera's clock, read with ONVIF ``GetSystemDateAndTime``.

One SOAP 1.2 POST over a fresh connection (``probes.textconn``, like the http probe):
the ONVIF core spec lets a client call ``GetSystemDateAndTime`` without credentials,
because a client needs the device's clock before it can build a time-bound token.
The reply's ``UTCDateTime`` (``Date`` Year/Month/Day, ``Time`` Hour/Minute/Second)
is compared with netwatch's own clock at the middle of the round trip:

    clock_offset_seconds = device_utc − (t_send + rtt / 2)

signed, positive when the camera is ahead. Devices answer in whole seconds, so the
figure has about a second of resolution; the monitor's threshold must be coarser.
A reply without ``UTCDateTime`` (or with an impossible date) is ``protocol``.

Credentials are optional: ``user`` with ``password`` (a secret, resolved by the
inventory from a ``${ENV}`` reference) add a WS-UsernameToken with PasswordDigest
(base64(SHA1(nonce + created + password))), for cameras that want one anyway. The
password is never put in a detail, a repr or a log.

Replies come from devices, so the XML is parsed by the stdlib expat with a DOCTYPE
refused at its first byte (no DTD, hence no entity of any kind: no billion laughs,
no external entity), and only a body of at most ``BODY_LIMIT`` bytes is parsed: a
longer one is ``protocol`` before any parsing.

Deadline: three sequential steps (connect, status line and headers, body), each
within ``timeout``: ``3 × timeout``.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn
from xml.parsers import expat
from xml.sax.saxutils import escape

from probes import textconn
from probes.base import Measurement, ParamError, ProbeContext, ProbeResult, Reason, Target
from probes.textproto import HEAD_LIMIT, Head, is_request_path, request

NAME = "onvif_time"
DEFAULT_PORT: int | None = 80
MEASUREMENTS = (Measurement.CLOCK_OFFSET_SECONDS, Measurement.RESPONSE_SECONDS)
DEFAULT_PATH = "/onvif/device_service"
BODY_LIMIT = 64 * 1024  # a GetSystemDateAndTime reply is well under 2 KiB
AUTH_STATUSES = (401, 403)
USER_AGENT = "netwatch/0.1"

SOAP_ENV = "http://www.w3.org/2003/05/soap-envelope"
DEVICE_WSDL = "http://www.onvif.org/ver10/device/wsdl"
WSSE = ("http://docs.oasis-open.org/wss/2004/01/"
        "oasis-200401-wss-wssecurity-secext-1.0.xsd")
WSU = ("http://docs.oasis-open.org/wss/2004/01/"
       "oasis-200401-wss-wssecurity-utility-1.0.xsd")
PASSWORD_DIGEST = ("http://docs.oasis-open.org/wss/2004/01/"
                   "oasis-200401-wss-username-token-profile-1.0#PasswordDigest")
BASE64_BINARY = ("http://docs.oasis-open.org/wss/2004/01/"
                 "oasis-200401-wss-soap-message-security-1.0#Base64Binary")
ACTION = f"{DEVICE_WSDL}/GetSystemDateAndTime"
_FIELDS = ("Year", "Month", "Day", "Hour", "Minute", "Second")


@dataclass(frozen=True, slots=True)
class Params:
    """Where the device service is and, optionally, whose token to send."""

    path: str = DEFAULT_PATH
    user: str = ""
    password: str = field(default="", repr=False)  # resolved secret: never shown


def parse_params(raw: Mapping[str, Any] | None) -> Params:
    """Build Params from the inventory, naming the first bad or unknown setting."""
    raw = raw or {}
    known = set(Params.__dataclass_fields__)
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ParamError(unknown[0], f"unknown setting (known: {', '.join(sorted(known))})")
    values: dict[str, str] = {}
    for key, default in (("path", DEFAULT_PATH), ("user", ""), ("password", "")):
        value = raw.get(key, default)
        if not isinstance(value, str):
            raise ParamError(key, f"expected text, got {type(value).__name__}")
        values[key] = value
    path, user, password = values["path"], values["user"], values["password"]
    if not is_request_path(path):
        raise ParamError("path", "must start with '/' and hold no spaces or control characters")
    if user and not user.isprintable():
        raise ParamError("user", "must hold no control characters")
    if bool(user) != bool(password):
        missing = "password" if user else "user"
        raise ParamError(missing, "user and password go together (or neither)")
    return Params(path, user, password)


def deadline(params: Params, timeout: float) -> float:
    """Three steps (connect, head, body), each within ``timeout``."""
    return 3 * timeout


def password_digest(nonce: bytes, created: str, password: str) -> str:
    """WS-UsernameToken PasswordDigest: base64(SHA1(nonce + created + password))."""
    digest = hashlib.sha1(nonce + created.encode() + password.encode()).digest()
    return base64.b64encode(digest).decode("ascii")


def envelope(params: Params, now: float | None = None, nonce: bytes | None = None) -> bytes:
    """The SOAP 1.2 request, with a UsernameToken header when credentials are set."""
    header = ""
    if params.user:
        nonce = os.urandom(16) if nonce is None else nonce
        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
        header = (
            f'<s:Header><wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}">'
            f"<wsse:UsernameToken><wsse:Username>{escape(params.user)}</wsse:Username>"
            f'<wsse:Password Type="{PASSWORD_DIGEST}">'
            f"{password_digest(nonce, created, params.password)}</wsse:Password>"
            f'<wsse:Nonce EncodingType="{BASE64_BINARY}">'
            f"{base64.b64encode(nonce).decode('ascii')}</wsse:Nonce>"
            f"<wsu:Created>{created}</wsu:Created></wsse:UsernameToken></wsse:Security>"
            "</s:Header>"
        )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="{SOAP_ENV}">{header}'
        f'<s:Body><GetSystemDateAndTime xmlns="{DEVICE_WSDL}"/></s:Body></s:Envelope>'
    ).encode()


class BadReply(Exception):
    """The reply is not a usable GetSystemDateAndTime answer (becomes ``protocol``)."""


@dataclass(slots=True)
class Reply:
    """What the parser found: the UTC fields (None when absent) and any SOAP fault codes."""

    utc: dict[str, str] | None = None
    fault: str = ""


def _refuse_dtd(*_: object) -> NoReturn:
    raise BadReply("the reply has a DOCTYPE (DTDs and entities are refused)")


def parse_reply(body: bytes) -> Reply:
    """Read ``UTCDateTime`` (and any fault code) from a SOAP reply; hardened expat.

    Namespaces are matched by local name: devices differ in prefixes and some omit
    the schema namespace. Any DTD is refused before it is read, so no entity can be
    declared; a reference to an undeclared one is a parse error.
    """
    if len(body) > BODY_LIMIT:
        raise BadReply(f"reply body over {BODY_LIMIT} bytes")
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.ExternalEntityRefHandler = _refuse_dtd
    reply = Reply()
    path: list[str] = []
    text: list[str] = []
    fields: dict[str, str] = {}

    def start(name: str, _attrs: dict[str, str]) -> None:
        path.append(name.rpartition(" ")[2])
        text.clear()
        if path[-1] == "UTCDateTime" and reply.utc is None:
            fields.clear()

    def end(name: str) -> None:
        local = path.pop()
        value = "".join(text).strip()
        text.clear()
        if "UTCDateTime" in path and local in _FIELDS:
            fields[local] = value
        elif local == "UTCDateTime" and reply.utc is None:
            reply.utc = dict(fields)
        elif local == "Value" and "Fault" in path and len(reply.fault) < 160:
            shown = "".join(c if c.isprintable() else "?" for c in value[:80])
            reply.fault = f"{reply.fault} {shown}".strip()  # code, then subcodes

    def chars(data: str) -> None:
        if len(text) < 64:
            text.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(body, True)
    except expat.ExpatError as exc:
        raise BadReply(f"malformed XML: {expat.ErrorString(exc.code)} "
                       f"at line {exc.lineno}") from None
    return reply


def device_utc(fields: Mapping[str, str]) -> float:
    """The device's UTC as a Unix time; BadReply for a missing or impossible field."""
    numbers: list[int] = []
    for name in _FIELDS:
        value = fields.get(name, "")
        if not (value.isascii() and value.isdigit() and len(value) <= 4):
            raise BadReply(f"UTCDateTime {name} is {value[:16]!r}, not a number")
        numbers.append(int(value))
    year, month, day, hour, minute, second = numbers
    if not (1970 <= year <= 9999 and 1 <= month <= 12 and hour <= 23 and minute <= 59
            and second <= 60 and 1 <= day <= calendar.monthrange(year, month)[1]):
        raise BadReply("UTCDateTime {:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d} "
                       "is not a date and time".format(*numbers))
    return float(calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)))


async def probe(target: Target, params: Params, ctx: ProbeContext) -> ProbeResult:
    """Ask for the device's clock and report its offset from ours."""
    try:
        conn, _ = await textconn.connect(target, max(BODY_LIMIT, HEAD_LIMIT) + 1)
    except textconn.Failed as failed:
        return failed.result()
    what = f"POST {params.path} GetSystemDateAndTime"
    measured: dict[str, float] = {}
    try:
        sent_at = time.time()
        sent = time.perf_counter()
        conn.send(_request(target, params, sent_at))
        head = await textconn.step(_final_head(conn), target.timeout, what)
        length = head.content_length()
        if length is not None and length > BODY_LIMIT:
            return ProbeResult.fail(Reason.PROTOCOL, f"{what}: reply body of {length} bytes, "
                                    f"over {BODY_LIMIT}")
        body = await textconn.step(conn.read_body(length, BODY_LIMIT + 1), target.timeout,
                                   f"{what} body")
        rtt = time.perf_counter() - sent
        measured["response_seconds"] = rtt
    except textconn.Failed as failed:
        return failed.result(**measured)
    finally:
        conn.close()
    return _judge(head, body, what, sent_at, rtt, measured)


def _judge(head: Head, body: bytes, what: str, sent_at: float, rtt: float,
           measured: dict[str, float]) -> ProbeResult:
    """The result from a complete reply: status, then the parsed clock."""
    reply: Reply | None = None
    problem = ""
    try:
        reply = parse_reply(body)
    except BadReply as exc:
        problem = str(exc)
    if head.status in AUTH_STATUSES or (reply is not None and "NotAuthorized" in reply.fault):
        return ProbeResult.fail(Reason.AUTH, f"{what}: status {head.status}, not authorized",
                                **measured)
    if head.status != 200:
        fault = f" (fault {reply.fault})" if reply is not None and reply.fault else ""
        return ProbeResult.fail(Reason.BAD_STATUS, f"{what}: status {head.status}{fault}",
                                **measured)
    if reply is None:
        return ProbeResult.fail(Reason.PROTOCOL, f"{what}: {problem}", **measured)
    if reply.utc is None:
        return ProbeResult.fail(Reason.PROTOCOL, f"{what}: the reply has no UTCDateTime",
                                **measured)
    try:
        utc = device_utc(reply.utc)
    except BadReply as exc:
        return ProbeResult.fail(Reason.PROTOCOL, f"{what}: {exc}", **measured)
    measured["clock_offset_seconds"] = utc - (sent_at + rtt / 2)
    return ProbeResult.ok("", **measured)


def _request(target: Target, params: Params, now: float) -> bytes:
    """The POST with its SOAP body; Host carries the port unless it is 80."""
    host = f"[{target.address}]" if ":" in target.address else target.address
    if target.port != 80:
        host = f"{host}:{target.port}"
    body = envelope(params, now)
    headers = (
        ("Host", host),
        ("User-Agent", USER_AGENT),
        ("Content-Type", f'application/soap+xml; charset=utf-8; action="{ACTION}"'),
        ("Content-Length", str(len(body))),
        ("Connection", "close"),
    )
    return request("POST", params.path, "HTTP/1.1", headers) + body


async def _final_head(conn: textconn.Conn) -> Head:
    """The first non-interim head (a 100 Continue may precede the real one)."""
    while True:
        head = await conn.read_head("HTTP")
        if head.status >= 200:
            return head
