"""The ``rtsp`` probe: is a camera's RTSP service alive, and does it hand out streams freely.

On one connection: ``OPTIONS * RTSP/1.0``; any RTSP status line below 500 proves
the service alive (a 200 should list methods in ``Public:``). Then, unless
``describe`` is off, ``DESCRIBE rtsp://address:port<path>`` without credentials:
401 means alive and protected; 200 with SDP means anyone can pull the stream,
reported as the finding ``open_stream`` on a successful check; 3xx/4xx mean
alive (the detail says which); 5xx from either request is ``bad_status``.

With credentials (``user`` and ``password``, ``probes.rtspauth``) a 401 is answered:
DESCRIBE again with Digest (MD5 or SHA-256) or Basic, as the camera asks. A camera
that then accepts them is alive and our settings are right; one that answers 401
or 403 again refused them: ``auth``.

Deadline: up to three sequential steps (connect, OPTIONS, DESCRIBE), each within
``timeout``: ``3 × timeout`` (``2 × timeout`` with ``describe: false``), one more
for the answered challenge when credentials are given.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from probes import rtspauth, textconn
from probes.base import Measurement, ParamError, ProbeContext, ProbeResult, Reason, Target
from probes.textproto import Head, ProtocolError, is_request_path, request

NAME = "rtsp"
DEFAULT_PORT: int | None = 554
MEASUREMENTS = (Measurement.STATUS_CODE, Measurement.DESCRIBE_STATUS_CODE,
                Measurement.RESPONSE_SECONDS)
USER_AGENT = "netwatch/0.1"
BODY_LIMIT = 64 * 1024
OPEN_STREAM = "open_stream"


@dataclass(frozen=True, slots=True)
class Params:
    """Which stream path DESCRIBE asks for, whether to ask at all, and as whom."""

    path: str = "/"
    describe: bool = True
    credentials: rtspauth.Credentials | None = field(default=None, repr=False)


def parse_params(raw: Mapping[str, Any] | None) -> Params:
    """Build Params from the inventory, naming the first bad or unknown setting."""
    raw = raw or {}
    unknown = sorted(set(raw) - {"path", "describe", "user", "password"})
    if unknown:
        raise ParamError(unknown[0], "unknown setting (known: describe, password, path, user)")
    path = raw.get("path", "/")
    if not is_request_path(path):
        raise ParamError("path", "must start with '/' and hold no spaces or control characters")
    describe = raw.get("describe", True)
    if not isinstance(describe, bool):
        raise ParamError("describe", f"expected true or false, got {describe!r}")
    return Params(path, describe, rtspauth.parse_credentials(raw))


def deadline(params: Params, timeout: float) -> float:
    """Connect, OPTIONS and (optionally) DESCRIBE, each within ``timeout``."""
    if not params.describe:
        return 2 * timeout
    return (4 if params.credentials is not None else 3) * timeout


async def _exchange(conn: textconn.Conn, data: bytes) -> tuple[Head, bytes]:
    """Send one request and read its reply with any body."""
    conn.send(data)
    head = await conn.read_head("RTSP")
    length = head.content_length()
    if length and length > BODY_LIMIT:
        raise ProtocolError(f"reply body of {length} bytes is over {BODY_LIMIT}")
    body = await conn.read_body(length, length) if length else b""
    return head, body


def _status(head: Head) -> str:
    return f"{head.status} {head.phrase}".rstrip()


async def probe(target: Target, params: Params, ctx: ProbeContext) -> ProbeResult:
    """OPTIONS for liveness, then an unauthenticated DESCRIBE for protection."""
    try:
        conn, _ = await textconn.connect(target, 2 * BODY_LIMIT)
    except textconn.Failed as failed:
        return failed.result()
    measured: dict[str, float] = {}
    try:
        sent = time.perf_counter()
        options = request("OPTIONS", "*", "RTSP/1.0", (("CSeq", "1"), ("User-Agent", USER_AGENT)))
        head, _ = await textconn.step(_exchange(conn, options), target.timeout, "OPTIONS")
        measured["response_seconds"] = time.perf_counter() - sent
        measured["status_code"] = head.status
        if head.status >= 500:
            return ProbeResult.fail(Reason.BAD_STATUS, f"OPTIONS: {_status(head)}", **measured)
        info = {k: head.get(k) for k in ("public", "server") if head.get(k)}
        notes = [] if head.status != 200 or "public" in info else ["OPTIONS 200 without Public"]
        if head.status != 200:
            notes.append(f"OPTIONS {_status(head)}")
        findings: tuple[str, ...] = ()
        if params.describe:
            host = f"[{target.address}]" if ":" in target.address else target.address
            describe_uri = f"rtsp://{host}:{target.port}{params.path}"
            describe = request(
                "DESCRIBE",
                describe_uri,
                "RTSP/1.0",
                (("CSeq", "2"), ("Accept", "application/sdp"), ("User-Agent", USER_AGENT)),
            )
            what = f"DESCRIBE {params.path}"
            head, body = await textconn.step(_exchange(conn, describe), target.timeout, what)
            measured["describe_status_code"] = head.status
            if head.status >= 500:
                return ProbeResult.fail(Reason.BAD_STATUS, f"{what}: {_status(head)}", **measured)
            if head.status == 401 and params.credentials is not None:
                head, scheme = await _authenticated(conn, target, params.credentials, head,
                                                    describe_uri, what)
                measured["describe_status_code"] = head.status
                if head.status >= 500:
                    return ProbeResult.fail(Reason.BAD_STATUS, f"{what}: {_status(head)}",
                                            **measured)
                notes.append(f"{what} accepts our credentials ({scheme})" if head.status < 300
                             else f"{what} with credentials ({scheme}): {_status(head)}")
            elif head.status == 401:
                notes.append(f"{what} needs credentials")
            elif head.status == 200 and _is_sdp(head, body):
                findings = (OPEN_STREAM,)
                notes.append(f"{what} serves SDP without credentials: open stream")
            else:
                notes.append(f"{what}: {_status(head)}")
    except textconn.Failed as failed:
        return failed.result(**measured)
    finally:
        conn.close()
    result = ProbeResult.ok("; ".join(notes), **measured)
    result.info.update(info)
    result.findings = findings
    return result


async def _authenticated(conn: textconn.Conn, target: Target, credentials: rtspauth.Credentials,
                         challenged: Head, uri: str, what: str) -> tuple[Head, str]:
    """DESCRIBE again answering the 401's challenge; ``Failed`` (auth) if it is refused."""
    challenges = rtspauth.parse_challenges(challenged.get("www-authenticate"))
    chosen = rtspauth.choose(challenges)
    if chosen is None:
        raise textconn.Failed(Reason.AUTH, f"{what}: the camera asks for "
                              f"{rtspauth.offered(challenges)}, which netwatch cannot answer")
    auth = rtspauth.Authenticator(credentials, chosen)
    headers = (("CSeq", "3"), ("Accept", "application/sdp"), ("User-Agent", USER_AGENT),
               ("Authorization", auth.authorization("DESCRIBE", uri)))
    head, _ = await textconn.step(_exchange(conn, request("DESCRIBE", uri, "RTSP/1.0", headers)),
                                  target.timeout, what)
    if head.status in (401, 403):
        raise textconn.Failed(Reason.AUTH, f"{what}: {_status(head)}: credentials refused "
                                           f"({auth.scheme})")
    return head, auth.scheme


def _is_sdp(head: Head, body: bytes) -> bool:
    """Whether a DESCRIBE reply carries a session description."""
    return "application/sdp" in head.get("content-type").lower() or body.startswith(b"v=0")
