"""The codec's caps: hostile replies are bounded CodecErrors, found after bounded work.

Work is counted, not timed: ``Counting`` is a bytes whose iteration counts the
octets the OID decoder looks at, so a test can say "rejected after at most N
octets" whatever the machine's load.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from probes.snmp import codec as c

ARC_PREFIX = b"\x2b"  # 1.3


class Counting(bytes):
    """Bytes that count how many octets were iterated."""

    seen = 0

    def __iter__(self) -> Iterator[int]:
        for b in super().__iter__():
            Counting.seen += 1
            yield b


def counted_dec_oid(content: bytes) -> tuple[c.OID | None, int]:
    """(the OID or None if refused, octets looked at)."""
    Counting.seen = 0
    try:
        return c.dec_oid(Counting(content)), Counting.seen
    except c.CodecError:
        return None, Counting.seen


def v2c_response(varbinds: bytes) -> bytes:
    """A v2c Response whose VarBindList content is ``varbinds`` as given."""
    pdu = c.tlv(
        c.RESPONSE, c.enc_int(7) + c.enc_int(0) + c.enc_int(0) + c.tlv(c.SEQUENCE, varbinds)
    )
    return c.enc_v2c(b"public", pdu)


def varbind(oid_content: bytes) -> bytes:
    return c.tlv(c.SEQUENCE, c.tlv(c.OBJECT_ID, oid_content) + b"\x05\x00")


def test_a_long_sub_identifier_is_refused_after_eleven_octets() -> None:
    """A 60 000-octet arc (quadratic to accumulate) is refused having read 11 octets of it."""
    oid, seen = counted_dec_oid(ARC_PREFIX + b"\x81" * 60_000 + b"\x01")
    assert oid is None
    assert seen <= 1 + c.MAX_SUBID_OCTETS + 1


def test_ten_octet_sub_identifiers_still_decode() -> None:
    """The cap is on length, not on legitimate large arcs: 10 octets (70 bits) decode."""
    arc = b"\x81" * 9 + b"\x01"
    oid, _ = counted_dec_oid(ARC_PREFIX + arc)
    assert oid == (1, 3, int("".join("0000001" for _ in range(10)), 2))
    assert c.dec_oid(c.enc_oid((1, 3, 2**32 - 1))[2:]) == (1, 3, 2**32 - 1)


def test_more_than_128_arcs_is_refused_early() -> None:
    """128 arcs decode; 129 do not, and a 12 000-arc OID is refused after 128 of them."""
    assert len(c.dec_oid(c.enc_oid((1, 3) + (1,) * 126)[2:])) == 128
    with pytest.raises(c.CodecError, match="128 arcs"):
        c.dec_oid(c.enc_oid((1, 3) + (1,) * 127)[2:])
    oid, seen = counted_dec_oid(ARC_PREFIX + b"\x01" * 12_000)
    assert oid is None
    assert seen <= c.MAX_OID_ARCS


def test_a_message_with_a_long_arc_is_a_codec_error() -> None:
    """Through the message decoder: a 12 000-octet arc is a CodecError naming the cap."""
    data = v2c_response(varbind(ARC_PREFIX + b"\xff" * 12_000 + b"\x01"))
    assert len(data) <= c.MAX_MESSAGE_SIZE
    with pytest.raises(c.CodecError, match="sub-identifier longer than 10 octets"):
        c.decode_v2c(data)


def test_a_message_over_the_max_size_is_refused_before_decoding() -> None:
    """One octet over MAX_MESSAGE_SIZE is refused, even when well formed; the cap itself is not."""
    filler = c.tlv(c.SEQUENCE, c.enc_oid((1, 3, 6)) + c.tlv(c.OCTET_STRING, b"x" * 100))
    body = filler * (c.MAX_MESSAGE_SIZE // len(filler))
    data = v2c_response(body)
    while len(data) < c.MAX_MESSAGE_SIZE:
        body += filler
        data = v2c_response(body)
    pad = len(data) - c.MAX_MESSAGE_SIZE  # trim the last var-bind's string to hit the size
    fitted = v2c_response(
        body[: -len(filler)]
        + c.tlv(c.SEQUENCE, c.enc_oid((1, 3, 6)) + c.tlv(c.OCTET_STRING, b"x" * (100 - pad)))
    )
    assert len(fitted) == c.MAX_MESSAGE_SIZE
    c.decode_v2c(fitted)
    over = v2c_response(
        body[: -len(filler)]
        + c.tlv(c.SEQUENCE, c.enc_oid((1, 3, 6)) + c.tlv(c.OCTET_STRING, b"x" * (101 - pad)))
    )
    assert len(over) == c.MAX_MESSAGE_SIZE + 1
    for decode in (c.message_version, c.decode_v2c, c.decode_v3):
        with pytest.raises(c.CodecError, match="over"):
            decode(over)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"\x30\x80\x02\x01\x01\x00\x00", "length form"),  # indefinite length
        (b"\x30\x84\xff\xff\xff\xff\x02\x01\x01", "exceeds"),  # length past the buffer
        (b"\x30\x88" + b"\x00" * 7 + b"\x03\x02\x01\x01", "length form"),  # 8-octet length
        (b"\x30\x0c\x02\x0a" + b"\x7f" * 10, "integer length"),  # an 80-bit version
    ],
)
def test_absurd_lengths_and_integers(data: bytes, words: str) -> None:
    """Indefinite, overlong and past-the-end lengths, and huge integers, are CodecErrors."""
    with pytest.raises(c.CodecError, match=words):
        c.message_version(data)


def v3_with_clock(boots: int, time: int, engine_id: bytes = b"\x80\x00\x1f\x88\x04lab") -> bytes:
    usm = c.UsmParams(engine_id, boots, time, b"", b"", b"")
    return c.enc_v3(5, 0, usm, c.enc_scoped_pdu(engine_id, c.enc_pdu(c.REPORT, 5, b"\x30\x00")))[0]


@pytest.mark.parametrize(
    ("boots", "time"), [(-1, 0), (0, -1), (2**31, 0), (0, 2**31), (2**40, 1), (1, -(2**60))]
)
def test_engine_clock_outside_rfc_range_is_a_codec_error(boots: int, time: int) -> None:
    """msgAuthoritativeEngineBoots/Time outside 0..2^31-1 never reach the USM (OverflowError)."""
    with pytest.raises(c.CodecError, match="boots or time"):
        c.decode_v3(v3_with_clock(boots, time))


def test_engine_clock_at_the_rfc_limits_decodes() -> None:
    msg = c.decode_v3(v3_with_clock(2**31 - 1, 0))
    assert (msg.usm.boots, msg.usm.time) == (2**31 - 1, 0)


def test_engine_id_over_32_octets_is_a_codec_error() -> None:
    """An snmpEngineID is 5..32 octets (RFC 3411); a longer one is refused."""
    assert c.decode_v3(v3_with_clock(1, 1, b"e" * 32)).usm.engine_id == b"e" * 32
    with pytest.raises(c.CodecError, match="engine id"):
        c.decode_v3(v3_with_clock(1, 1, b"e" * 33))
