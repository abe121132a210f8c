"""The lab's SIP responder: a video-conference endpoint answering OPTIONS over UDP and TCP.

``OPTIONS`` gets ``200 OK`` with the request's Via, From, To (plus a tag), Call-ID
and CSeq copied back (RFC 3261 §8.2.6), other requests ``405``; ``ACK`` and
responses get nothing. A silent endpoint (``sip_silent``) keeps its sockets bound
and never answers, so a prober waits out its timeout instead of being refused.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass
from typing import Any

from netwatch.lab.responders import SERVER, HeadProtocol, header_lines, response

ALLOW = "OPTIONS"
COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "l": "content-length"}
REQUIRED = ("via", "from", "to", "call-id", "cseq")
_RPORT = re.compile(r";rport(?=;|$)")


@dataclass(slots=True)
class SipState:
    """A lab endpoint's SIP behaviour; the lab mutates it."""

    device: str
    silent: bool = False


def sip_reply(head: bytes, peer: tuple[str, int] | None = None) -> bytes | None:
    """The response to one SIP request head, None when nothing should be sent back.

    ``peer`` is the UDP source: the top Via then gets ``received``/``rport`` so the
    answer goes where the request came from (RFC 3581).
    """
    try:
        lines = head.decode("utf-8").split("\r\n")
    except UnicodeDecodeError:
        return None
    start = lines[0].split(" ")
    pairs = header_lines(lines[1:])
    if len(start) != 3 or start[2] != "SIP/2.0" or pairs is None or start[0] == "ACK":
        return None  # a response, ACK or garbage: nothing to answer
    vias: list[str] = []
    fields: dict[str, str] = {}
    for name, value in pairs:
        key = COMPACT.get(name.lower(), name.lower())
        if key == "via":
            vias.extend(v.strip() for v in value.split(","))
        else:
            fields.setdefault(key, value)
    if not vias:
        return None  # no way to route an answer
    if peer is not None:
        top = vias[0]
        vias[0] = _RPORT.sub(f";rport={peer[1]}", top) + f";received={peer[0]}"
    missing = [h for h in REQUIRED[1:] if h not in fields]
    to = fields.get("to", "")
    if "tag=" not in to.lower() and to:
        to = f"{to};tag={secrets.token_hex(4)}"
    headers = [("Via", v) for v in vias]
    headers += [("From", fields.get("from", "")), ("To", to),
                ("Call-ID", fields.get("call-id", "")), ("CSeq", fields.get("cseq", ""))]
    headers = [(k, v) for k, v in headers if v]
    if missing:
        status = "400 Bad Request"
    elif start[0] == "OPTIONS":
        status = "200 OK"
        headers += [("Allow", ALLOW), ("Accept", "application/sdp")]
    else:
        status = "405 Method Not Allowed"
        headers.append(("Allow", ALLOW))
    headers.append(("Server", SERVER))
    return response("SIP/2.0", status, headers + [("Content-Length", "0")])


class SipDatagram(asyncio.DatagramProtocol):
    """One endpoint's SIP over UDP."""

    def __init__(self, state: SipState) -> None:
        self.state = state
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if self.state.silent or self.transport is None:
            return
        head = data.split(b"\r\n\r\n", 1)[0]
        reply = sip_reply(head, (addr[0], addr[1]))
        if reply is not None:
            self.transport.sendto(reply, addr)


class SipStream(HeadProtocol):
    """One SIP over TCP connection to an endpoint, framed by Content-Length."""

    def __init__(self, state: SipState) -> None:
        super().__init__()
        self.state = state

    def handle(self, head: bytes, start: list[str], headers: dict[str, str]) -> None:
        if self.state.silent or self.transport is None:
            return
        reply = sip_reply(head)
        if reply is not None:
            self.transport.write(reply)
