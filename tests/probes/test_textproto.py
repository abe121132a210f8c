"""Status-line and header parsing shared by the HTTP, RTSP and SIP probes."""

from __future__ import annotations

import pytest

from probes import textproto
from probes.textproto import (
    ProtocolError,
    find_head_end,
    is_safe_text,
    is_token,
    parse_head,
    parse_status_line,
    request,
)


def test_status_line_of_each_protocol() -> None:
    """A status line yields its version, code and phrase, phrase optional."""
    assert parse_status_line("RTSP/1.0 200 OK", "RTSP") == ("1.0", 200, "OK")
    assert parse_status_line("SIP/2.0 483 Too Many Hops", "SIP") == ("2.0", 483, "Too Many Hops")
    assert parse_status_line("HTTP/1.1 204", "HTTP") == ("1.1", 204, "")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("HTTP/1.1 200 OK", "not a RTSP status line"),
        ("RTSP/1.0 20 OK", "bad status code"),
        ("RTSP/1.0 099 Low", "bad status code"),
        ("RTSP/1.0 abc", "bad status code"),
        ("RTSP/1.0", "bad status code"),
        ("RTSP 200 OK", "not a RTSP status line"),
        ("\x00\x01binary", "not a RTSP status line"),
    ],
)
def test_bad_status_lines(line: str, message: str) -> None:
    """Anything but PROTO/x.y NNN is a protocol error saying what is wrong."""
    with pytest.raises(ProtocolError, match=message):
        parse_status_line(line, "RTSP")


def test_headers_lower_cased_joined_and_folded() -> None:
    """Header names are case-insensitive, repeats join with commas, folded lines continue."""
    head = parse_head(
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nvia: SIP/2.0/UDP b\r\n"
        b"Call-ID: abc\r\nSubject: one\r\n  two\r\nContent-Length: 0",
        "SIP",
    )
    assert head.status == 200
    assert head.get("via") == "SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b"
    assert head.get("call-id") == "abc"
    assert head.get("subject") == "one two"
    assert head.content_length() == 0


def test_compact_header_aliases() -> None:
    """SIP compact names (i, v, l) map to their long names when aliases are given."""
    head = parse_head(
        b"SIP/2.0 200 OK\ni: x\nv: y\nl: 3",
        "SIP",
        {"i": "call-id", "v": "via", "l": "content-length"},
    )
    assert (head.get("call-id"), head.get("via"), head.content_length()) == ("x", "y", 3)


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/1.1 200 OK\r\nno colon here",
        b"HTTP/1.1 200 OK\r\n folded first",
        b"HTTP/1.1 200 OK\r\n: empty name",
    ],
)
def test_bad_header_lines(data: bytes) -> None:
    """Header lines without a name and colon are protocol errors."""
    with pytest.raises(ProtocolError):
        parse_head(data, "HTTP")


@pytest.mark.parametrize("value", ["-1", "abc", "1e3", "99999999999999999"])
def test_bad_content_length(value: str) -> None:
    """A Content-Length that is not a plain byte count is a protocol error."""
    head = parse_head(f"HTTP/1.1 200 OK\r\nContent-Length: {value}".encode(), "HTTP")
    with pytest.raises(ProtocolError, match="Content-Length"):
        head.content_length()


def test_find_head_end_accepts_crlf_and_bare_lf() -> None:
    """The head ends at the first blank line, CRLF or bare LF, and the body follows."""
    assert find_head_end(b"A\r\nB: c\r\n\r\nbody") == (7, 11)
    assert find_head_end(b"A\nB: c\n\nbody") == (6, 8)
    assert find_head_end(b"A\r\nB: c\r\n") is None


def test_request_bytes() -> None:
    """A request head is CRLF-separated and ends with a blank line."""
    data = request("OPTIONS", "*", "RTSP/1.0", [("CSeq", "1")])
    assert data == b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n"


def test_token_and_safe_text() -> None:
    """Values that could break a request head (spaces, CR/LF) are recognised."""
    assert is_token("GET") and not is_token("GE T") and not is_token("")
    assert is_safe_text("/a?b=c") and not is_safe_text("/a\r\nX: y") and not is_safe_text("/a b")


@pytest.mark.parametrize("code", ["²²²", "²³¹", "٢٠٠", "１００"])
def test_non_ascii_digits_are_not_a_status_code(code: str) -> None:
    """``str.isdigit`` takes these; ``int`` raises or reads them: a protocol error instead."""
    with pytest.raises(ProtocolError, match="bad status code"):
        parse_status_line(f"HTTP/1.1 {code} OK", "HTTP")
    if code.isascii() or all(ord(ch) < 256 for ch in code):  # as the bytes of a reply
        with pytest.raises(ProtocolError, match="bad status code"):
            parse_head(f"HTTP/1.1 {code} OK".encode("latin-1"), "HTTP")


@pytest.mark.parametrize("value", ["²", "1²", "٣"])
def test_non_ascii_digits_are_not_a_content_length(value: str) -> None:
    head = parse_head(
        f"HTTP/1.1 200 OK\r\nContent-Length: {value}".encode("latin-1", "replace"), "HTTP"
    )
    with pytest.raises(ProtocolError, match="Content-Length"):
        head.content_length()
    head = parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: " + value.encode(), "HTTP")
    with pytest.raises(ProtocolError, match="Content-Length"):
        head.content_length()


def test_reason_phrase_is_cut_and_printable() -> None:
    head = parse_head(b"SIP/2.0 200 \x1b[2J" + b"y" * 1000, "SIP")
    assert len(head.phrase) == textproto.PHRASE_LIMIT and head.phrase.startswith("?[2J")


def test_many_repeated_and_folded_headers_join_in_order() -> None:
    """Thousands of repeats and folds (once quadratic to join) give the same joined values."""
    data = b"HTTP/1.1 200 OK" + b"\nA: 1" + b"\na: 2" * 5000 + b"\nB: x" + b"\n  y" * 5000
    head = parse_head(data, "HTTP")
    assert head.get("a") == "1" + ", 2" * 5000
    assert head.get("b") == "x" + " y" * 5000
