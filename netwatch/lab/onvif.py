"""The lab's ONVIF device service: ``GetSystemDateAndTime`` from a camera's own clock.

A lab camera's clock is the host's plus ``OnvifState.offset`` (the scenario's
``clock_offset`` fault sets it), told in whole seconds as cameras do. When the
camera's ``onvif_time`` check has credentials, a request must carry a matching
WS-UsernameToken (PasswordDigest, Created within ``MAX_SKEW`` of the camera's
clock), else the answer is a SOAP ``NotAuthorized`` fault with status 400, as
ONVIF devices send; without credentials the call is open, as the core spec allows.
Other requests on the port get the plain lab web page (``HttpProtocol``), so a
camera's ``http`` and ``onvif_time`` checks may share port 80. One request per
connection: every answer closes it.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
import hmac
import re
import time
from dataclasses import dataclass, field

from netwatch.lab.responders import (
    MAX_BODY,
    MAX_HEAD,
    SERVER,
    HttpProtocol,
    content_length,
    response,
    split_head,
)

MAX_SKEW = 300.0  # seconds a token's Created may differ from the camera's clock
_ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
    'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" '
    'xmlns:tt="http://www.onvif.org/ver10/schema" '
    'xmlns:ter="http://www.onvif.org/ver10/error"><s:Body>{}</s:Body></s:Envelope>\n'
)
_TIME = (
    "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>"
    "<tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>"
    "<tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone><tt:UTCDateTime>"
    "<tt:Time><tt:Hour>{3}</tt:Hour><tt:Minute>{4}</tt:Minute><tt:Second>{5}</tt:Second>"
    "</tt:Time><tt:Date><tt:Year>{0}</tt:Year><tt:Month>{1}</tt:Month><tt:Day>{2}</tt:Day>"
    "</tt:Date></tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>"
)
_FAULT = (
    "<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>ter:NotAuthorized"
    "</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang=\"en\">Sender not authorized"
    "</s:Text></s:Reason></s:Fault>"
)
_UNSUPPORTED = (
    "<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>ter:ActionNotSupported"
    "</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang=\"en\">Only "
    "GetSystemDateAndTime is played</s:Text></s:Reason></s:Fault>"
)


@dataclass(slots=True)
class OnvifState:
    """A lab camera's ONVIF service; the lab sets ``offset`` (seconds ahead of the host)."""

    device: str
    path: str
    user: str = ""
    password: str = field(default="", repr=False)
    offset: float = 0.0

    def now(self) -> float:
        """The camera's clock."""
        return time.time() + self.offset


def _token_field(body: str, tag: str) -> str | None:
    match = re.search(rf"<(?:\w+:)?{tag}\b[^>]*>([^<]*)</(?:\w+:)?{tag}>", body)
    return match.group(1).strip() if match else None


def token_ok(body: str, state: OnvifState) -> bool:
    """Whether the request's UsernameToken matches the camera's credentials."""
    user, digest = _token_field(body, "Username"), _token_field(body, "Password")
    nonce, created = _token_field(body, "Nonce"), _token_field(body, "Created")
    if user is None or digest is None or nonce is None or created is None:
        return False
    try:
        raw_nonce = base64.b64decode(nonce, validate=True)
        stamp = calendar.timegm(time.strptime(created.rstrip("Z")[:19], "%Y-%m-%dT%H:%M:%S"))
    except (binascii.Error, ValueError):
        return False
    if abs(stamp - state.now()) > MAX_SKEW:
        return False
    expected = base64.b64encode(hashlib.sha1(
        raw_nonce + created.encode() + state.password.encode()).digest()).decode()
    return hmac.compare_digest(user, state.user) and hmac.compare_digest(digest, expected)


class OnvifProtocol(HttpProtocol):
    """One HTTP connection to a lab camera's ONVIF port (and its web page)."""

    def __init__(self, state: OnvifState) -> None:
        super().__init__(state.device)
        self.state = state
        self.waiting: int | None = None  # the SOAP body's length, once its head is read

    def data_received(self, data: bytes) -> None:
        if self.waiting is None:
            head_end = (self.buffer + data).find(b"\r\n\r\n")
            if head_end < 0 and len(self.buffer) + len(data) <= MAX_HEAD:
                self.buffer += data
                return
            if head_end < 0:
                self.reject()
                return
            self.buffer += data
            parsed = split_head(self.buffer[:head_end])
            length = content_length(parsed[1]) if parsed else None
            if parsed is None or length is None or len(parsed[0]) != 3:
                self.reject()
                return
            start = parsed[0]
            if start[0] != "POST" or start[1] != self.state.path:
                self.handle(b"", start, {"connection": "close"})  # the plain web page
                return
            self.buffer = self.buffer[head_end + 4:]
            self.waiting = length
        else:
            self.buffer += data
        if len(self.buffer) >= self.waiting and self.transport is not None:
            self.transport.write(self._answer(self.buffer[:self.waiting]))
            self.transport.close()

    def _answer(self, body: bytes) -> bytes:
        text = body[:MAX_BODY].decode("utf-8", "replace")
        fields = [("Server", SERVER), ("Content-Type", "application/soap+xml; charset=utf-8"),
                  ("Connection", "close")]
        if "GetSystemDateAndTime" not in text:
            return response("HTTP/1.1", "400 Bad Request", fields,
                            _ENVELOPE.format(_UNSUPPORTED).encode())
        if self.state.user and not token_ok(text, self.state):
            fault = _ENVELOPE.format(_FAULT).encode()
            return response("HTTP/1.1", "400 Bad Request", fields, fault)
        now = time.gmtime(self.state.now())
        clock = _TIME.format(now.tm_year, now.tm_mon, now.tm_mday, now.tm_hour, now.tm_min,
                             now.tm_sec)
        return response("HTTP/1.1", "200 OK", fields, _ENVELOPE.format(clock).encode())
