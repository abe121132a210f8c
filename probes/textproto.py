"""Status lines and header blocks of the text protocols: HTTP/1.x, RTSP/1.0, SIP/2.0.

Parsing and building only, no I/O: bytes in, a ``Head`` out, or a ``ProtocolError``
whose message says what was wrong (it becomes a probe's ``Reason.PROTOCOL`` detail).
The three protocols share RFC 822-style heads: a start line, ``Name: value`` lines,
a blank line, then a body whose size ``Content-Length`` gives.

Replies come from devices, so parsing is bounded and linear: a head over
``HEAD_LIMIT`` octets is refused before it is parsed (``probes.textconn``; a UDP
datagram is smaller anyway), repeated and folded headers are joined once at
the end rather than by repeated concatenation, bytes decode as Latin-1 (any
octet is accepted, none raises), a status code or Content-Length must be ASCII
digits (``int()`` would take "²" for a digit and raise), Content-Length has at
most ``LENGTH_DIGITS`` digits, and the reason phrase quoted in details is cut to
``PHRASE_LIMIT`` characters with control characters replaced. Every problem is
a ``ProtocolError``, which the probes report as ``protocol``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

HEAD_LIMIT = 64 * 1024  # bytes of start line and headers a reply may have
LENGTH_DIGITS = 12  # digits of a Content-Length (under 1 TB; bodies are capped far lower)
PHRASE_LIMIT = 128  # characters of a reason phrase kept for details


class ProtocolError(Exception):
    """A reply that does not follow the protocol the probe spoke."""


@dataclass(frozen=True, slots=True)
class Head:
    """A parsed status line and its headers (names lower-cased, repeats joined by ", ")."""

    protocol: str  # "HTTP", "RTSP" or "SIP"
    version: str  # e.g. "1.1"
    status: int
    phrase: str
    headers: Mapping[str, str]

    def get(self, name: str, default: str = "") -> str:
        """A header's value by lower-case name, so callers need not care about case."""
        return self.headers.get(name, default)

    def content_length(self) -> int | None:
        """The declared body size, None when absent; a bad value is a protocol error."""
        raw = self.headers.get("content-length")
        if raw is None:
            return None
        value = raw.split(",")[0].strip()
        if not _ascii_digits(value) or len(value) > LENGTH_DIGITS:
            raise ProtocolError(f"bad Content-Length {_quote(raw)}")
        return int(value)


def _ascii_digits(text: str) -> bool:
    """Digits 0-9 only: ``str.isdigit`` also takes "²" and "٣", which ``int`` refuses or reads."""
    return text.isascii() and text.isdigit()


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in text[:PHRASE_LIMIT])


def excerpt(data: bytes | bytearray, size: int = 40) -> str:
    """A short printable quote of untrusted bytes for a detail message."""
    text = repr(bytes(data[:size]))[1:]
    return text + ("…" if len(data) > size else "")


def _quote(text: str) -> str:
    """``excerpt`` of decoded text; characters Latin-1 cannot hold become "?"."""
    return excerpt(text.encode("latin-1", "replace"))


def find_head_end(buf: bytes | bytearray, start: int = 0) -> tuple[int, int] | None:
    """Where the head ends and the body starts, accepting bare LF line ends too."""
    i = buf.find(b"\r\n\r\n", start)
    j = buf.find(b"\n\n", start)
    if j >= 0 and (i < 0 or j < i):
        return j, j + 2
    if i >= 0:
        return i, i + 4
    return None


def parse_status_line(line: str, protocol: str) -> tuple[str, int, str]:
    """Version, status code and phrase of ``PROTO/x.y NNN phrase``; ProtocolError if not."""
    parts = line.split(" ", 2)
    proto, _, version = parts[0].partition("/")
    if proto != protocol or not version:
        raise ProtocolError(f"not a {protocol} status line: {_quote(line)}")
    if len(parts) < 2 or len(parts[1]) != 3 or not _ascii_digits(parts[1]):
        raise ProtocolError(f"bad status code in {_quote(line)}")
    code = int(parts[1])
    if code < 100:
        raise ProtocolError(f"bad status code in {_quote(line)}")
    return version, code, _printable(parts[2].strip()) if len(parts) > 2 else ""


def parse_head(
    data: bytes | bytearray, protocol: str, aliases: Mapping[str, str] | None = None
) -> Head:
    """Parse a reply head (without the blank line); ``aliases`` maps compact header names."""
    lines = bytes(data).decode("latin-1").split("\n")
    version, code, phrase = parse_status_line(lines[0].rstrip("\r"), protocol)
    # each value is a list of its lines (folding), each name a list of values: joined once
    values: dict[str, list[list[str]]] = {}
    last: list[str] | None = None
    for raw in lines[1:]:
        line = raw.rstrip("\r")
        if not line:
            continue
        if line[0] in " \t":
            if last is None:
                raise ProtocolError(f"continuation line before any header: {excerpt(raw.encode())}")
            last.append(line.strip())
            continue
        name, colon, value = line.partition(":")
        name = name.strip().lower()
        if not colon or not name or " " in name:
            raise ProtocolError(f"bad header line {_quote(line)}")
        if aliases:
            name = aliases.get(name, name)
        last = [value.strip()]
        values.setdefault(name, []).append(last)
    headers = {name: ", ".join(" ".join(v) for v in vs) for name, vs in values.items()}
    return Head(protocol, version, code, phrase, headers)


def request(method: str, uri: str, version: str, headers: Iterable[tuple[str, str]]) -> bytes:
    """The bytes of a request head ending in the blank line (callers validate the parts)."""
    lines = [f"{method} {uri} {version}"]
    lines.extend(f"{name}: {value}" for name, value in headers)
    lines.append("\r\n")
    return "\r\n".join(lines).encode("utf-8")


def is_token(text: str) -> bool:
    """Whether ``text`` may stand as a method name or header token (RFC 7230 tchar)."""
    return bool(text) and all(c.isascii() and (c.isalnum() or c in "!#$%&'*+-.^_`|~") for c in text)


def is_safe_text(text: str) -> bool:
    """Whether a value can go into a request line or header without breaking the head."""
    return text.isprintable() and " " not in text and text.isascii()


def is_request_path(value: object) -> bool:
    """A ``path`` setting that can go into a request line: text starting with '/'."""
    return isinstance(value, str) and value.startswith("/") and is_safe_text(value)
