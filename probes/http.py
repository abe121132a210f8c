"""The ``http`` probe: one HTTP/1.1 request over a fresh connection, judged by its status.

A raw request on ``probes.textconn`` rather than aiohttp's client, which costs about
twice the CPU per new connection. ``Connection: close`` is sent, so the body is
drained (up to ``max_body`` bytes, not kept) until the server closes or the
declared length arrives. Redirects are not followed: 3xx is in the default
expected range. Status outside ``expect_status``: 401/403/407 give ``auth``,
others ``bad_status``.

Deadline: three sequential steps (connect with any TLS handshake, status line
and headers, body), each within ``timeout``: ``3 × timeout``.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from probes import textconn
from probes.base import Measurement, ParamError, ProbeContext, ProbeResult, Reason, Target
from probes.textproto import HEAD_LIMIT, Head, is_safe_text, is_token, request

NAME = "http"
DEFAULT_PORT: int | None = 80
MEASUREMENTS = (Measurement.STATUS_CODE, Measurement.RESPONSE_SECONDS, Measurement.CONNECT_SECONDS)
MAX_BODY_LIMIT = 16 * 1024 * 1024
DEFAULT_MAX_BODY = 64 * 1024
AUTH_STATUSES = (401, 403, 407)
USER_AGENT = "netwatch/0.1"


@dataclass(frozen=True, slots=True)
class Params:
    """What to request and which statuses count as healthy."""

    method: str = "GET"
    path: str = "/"
    expect_status: tuple[tuple[int, int], ...] = ((200, 399),)  # inclusive ranges
    host: str = ""  # Host header and TLS server name; the address when empty
    tls: bool = False
    tls_verify: bool = True
    max_body: int = DEFAULT_MAX_BODY  # bytes of body drained at most


def _status_range(item: object) -> tuple[int, int]:
    """One ``expect_status`` entry: 200, "200", "2xx" or "200-299"."""
    if isinstance(item, int) and not isinstance(item, bool):
        lo = hi = item
    elif isinstance(item, str) and len(item) == 3 and item[0].isdigit() and item[1:] == "xx":
        lo, hi = int(item[0]) * 100, int(item[0]) * 100 + 99
    elif isinstance(item, str) and item.strip().isdigit():
        lo = hi = int(item)
    elif isinstance(item, str) and item.count("-") == 1:
        first, last = (part.strip() for part in item.split("-"))
        if not (first.isdigit() and last.isdigit()):
            raise ParamError("expect_status", f"bad range {item!r}")
        lo, hi = int(first), int(last)
    else:
        raise ParamError("expect_status", f"{item!r} is not a status, 'Nxx' or 'LOW-HIGH'")
    if not (100 <= lo <= hi <= 599):
        raise ParamError("expect_status", f"{item!r} is outside 100-599")
    return lo, hi


def _text(raw: Mapping[str, Any], key: str, default: str) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str):
        raise ParamError(key, f"expected text, got {type(value).__name__}")
    return value


def _flag(raw: Mapping[str, Any], key: str, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise ParamError(key, f"expected true or false, got {value!r}")
    return value


def parse_params(raw: Mapping[str, Any] | None) -> Params:
    """Build Params from the inventory, naming the first bad or unknown setting."""
    raw = raw or {}
    known = set(Params.__dataclass_fields__)
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ParamError(unknown[0], f"unknown setting (known: {', '.join(sorted(known))})")
    method = _text(raw, "method", "GET").upper()
    if not is_token(method):
        raise ParamError("method", f"{method!r} is not an HTTP method")
    path = _text(raw, "path", "/")
    if not path.startswith("/") or not is_safe_text(path):
        raise ParamError("path", "must start with '/' and hold no spaces or control characters")
    host = _text(raw, "host", "")
    if host and not is_safe_text(host):
        raise ParamError("host", "must hold no spaces or control characters")
    expect = raw.get("expect_status", [(200, 399)])
    if not isinstance(expect, list | tuple):
        expect = [expect]
    if not expect:
        raise ParamError("expect_status", "must list at least one status")
    ranges = tuple(e if isinstance(e, tuple) else _status_range(e) for e in expect)
    max_body = raw.get("max_body", DEFAULT_MAX_BODY)
    if isinstance(max_body, bool) or not isinstance(max_body, int):
        raise ParamError("max_body", f"expected a number of bytes, got {max_body!r}")
    if not 0 <= max_body <= MAX_BODY_LIMIT:
        raise ParamError("max_body", f"must be 0..{MAX_BODY_LIMIT} bytes")
    return Params(
        method,
        path,
        ranges,
        host,
        _flag(raw, "tls", False),
        _flag(raw, "tls_verify", True),
        max_body,
    )


def deadline(params: Params, timeout: float) -> float:
    """Three steps (connect, head, body), each within ``timeout``."""
    return 3 * timeout


@lru_cache(maxsize=2)
def _tls_context(verify: bool) -> ssl.SSLContext:
    """One client context per verify mode: building one loads the CA store (milliseconds)."""
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _expected(code: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(lo <= code <= hi for lo, hi in ranges)


def _has_body(method: str, head: Head) -> bool:
    return method != "HEAD" and head.status >= 200 and head.status not in (204, 304)


async def probe(target: Target, params: Params, ctx: ProbeContext) -> ProbeResult:
    """Request, read the status line and headers, drain the body, judge the status."""
    tls = _tls_context(params.tls_verify) if params.tls else None
    try:
        conn, connect_s = await textconn.connect(
            target, max(params.max_body, HEAD_LIMIT), tls, params.host or None
        )
    except textconn.Failed as failed:
        return failed.result()
    what = f"{params.method} {params.path}"
    measured: dict[str, float] = {"connect_seconds": connect_s}
    try:
        sent = time.perf_counter()
        conn.send(_request(target, params))
        head = await textconn.step(_final_head(conn), target.timeout, what)
        measured["response_seconds"] = time.perf_counter() - sent
        measured["status_code"] = head.status
        if params.max_body and _has_body(params.method, head):
            await textconn.step(_drain(conn, head, params.max_body), target.timeout, f"{what} body")
    except textconn.Failed as failed:
        return failed.result(**measured)
    finally:
        conn.close()
    if _expected(head.status, params.expect_status):
        return ProbeResult.ok("", **measured)
    reason = Reason.AUTH if head.status in AUTH_STATUSES else Reason.BAD_STATUS
    status = f"{head.status} {head.phrase}".rstrip()
    return ProbeResult.fail(reason, f"{what}: status {status}, not expected", **measured)


def _request(target: Target, params: Params) -> bytes:
    """The request head; the Host header carries the port unless it is the scheme's default."""
    host = params.host or (f"[{target.address}]" if ":" in target.address else target.address)
    if target.port != (443 if params.tls else 80):
        host = f"{host}:{target.port}"
    headers = (
        ("Host", host),
        ("User-Agent", USER_AGENT),
        ("Accept", "*/*"),
        ("Connection", "close"),
    )
    return request(params.method, params.path, "HTTP/1.1", headers)


async def _final_head(conn: textconn.Conn) -> Head:
    """The first non-interim head: 1xx replies (except 101) precede the real one."""
    while True:
        head = await conn.read_head("HTTP")
        if head.status >= 200 or head.status == 101:
            return head


async def _drain(conn: textconn.Conn, head: Head, limit: int) -> None:
    """Read and drop the body up to ``limit`` bytes, so the server can finish cleanly."""
    await conn.read_body(head.content_length(), limit)
