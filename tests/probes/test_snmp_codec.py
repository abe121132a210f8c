"""The BER/SNMP codec: round trips, and every malformed input as a CodecError."""

from __future__ import annotations

import random

import pytest

from probes.snmp import codec as c

VALUES: list[c.VarBind] = [
    ((1, 3, 6, 1, 2, 1, 1, 3, 0), (c.TIMETICKS, 4294967295)),
    ((1, 3, 6, 1, 2, 1, 1, 1, 0), (c.OCTET_STRING, b"x" * 9000)),
    ((1, 3, 6, 1, 2, 1, 2, 2, 1, 8, 2147483647), (c.INTEGER, -2147483648)),
    ((1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6, 1), (c.COUNTER64, 2**64 - 1)),
    ((1, 3, 6, 1, 2, 1, 2, 2, 1, 14, 1), (c.COUNTER32, 0)),
    ((1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 15, 1), (c.GAUGE32, 128)),
    ((1, 3, 6, 1, 2, 1, 4, 20, 1, 1), (c.IP_ADDRESS, b"\x7f\x66\x00\x01")),
    ((2, 999, 4294967295), (c.OBJECT_ID, (1, 3, 6, 1, 4, 1, 8072))),
    ((1, 3, 6, 1, 9), (c.NO_SUCH_OBJECT, None)),
    ((1, 3, 6, 1, 10), (c.NO_SUCH_INSTANCE, None)),
    ((1, 3, 6, 1, 11), (c.END_OF_MIB_VIEW, None)),
    ((1, 3, 6, 1, 12), c.NULL_VALUE),
]


def sample_v2c() -> bytes:
    pdu = c.enc_pdu(c.RESPONSE, 123456, c.enc_varbinds(VALUES[:1] + VALUES[2:]))
    return c.enc_v2c(b"community", pdu)


def sample_v3() -> bytes:
    usm = c.UsmParams(b"\x80\x00\x1f\x88\x04lab", 7, 1234567, b"user", bytes(12), bytes(8))
    scoped = c.enc_scoped_pdu(b"\x80\x00\x1f\x88\x04lab", c.enc_pdu(c.GET, 9, c.enc_varbinds(())))
    return c.enc_v3(42, c.FLAG_AUTH | c.FLAG_REPORTABLE, usm, scoped)[0]


def test_v2c_round_trip_keeps_every_value_type() -> None:
    """Every value type, 32/64-bit extremes, big arcs and long lengths survive a round trip."""
    msg = c.enc_v2c(b"pub", c.enc_pdu(c.GET_BULK, -1, c.enc_varbinds(VALUES), 0, 25))
    assert c.message_version(msg) == c.V2C
    community, pdu = c.decode_v2c(msg)
    assert community == b"pub"
    assert (pdu.tag, pdu.request_id, pdu.error_status, pdu.error_index) == (c.GET_BULK, -1, 0, 25)
    assert list(pdu.varbinds) == VALUES


def test_v3_round_trip_locates_auth_params() -> None:
    """A v3 message decodes to its fields, and the auth offset points at the authParams."""
    usm = c.UsmParams(b"eid", 2**31 - 1, 0, b"u" * 200, b"\xaa" * 24, b"\xbb" * 8)
    scoped = c.enc_scoped_pdu(b"eid", c.enc_pdu(c.REPORT, 5, c.enc_varbinds(VALUES[:3])), b"ctx")
    msg, offset = c.enc_v3(2**31 - 1, c.FLAG_AUTH, usm, scoped, max_size=1500)
    assert msg[offset : offset + 24] == b"\xaa" * 24
    v3 = c.decode_v3(msg)
    assert (v3.msg_id, v3.max_size, v3.flags, v3.usm.auth_offset) == (2**31 - 1, 1500, 1, offset)
    assert v3.usm.engine_id == b"eid" and v3.usm.user == b"u" * 200
    engine_id, context, pdu = c.decode_scoped_pdu(v3.data)
    assert (engine_id, context, pdu.tag, pdu.request_id) == (b"eid", b"ctx", c.REPORT, 5)
    assert list(pdu.varbinds) == VALUES[:3]


def test_encrypted_v3_keeps_the_ciphertext() -> None:
    """With the privacy flag the message data is the ciphertext OCTET STRING's content."""
    usm = c.UsmParams(b"e", 1, 1, b"u", bytes(12), b"saltsalt")
    msg, _ = c.enc_v3(1, c.FLAG_AUTH | c.FLAG_PRIV, usm, c.tlv(c.OCTET_STRING, b"\x01\x02\x03"))
    assert c.decode_v3(msg).data == b"\x01\x02\x03"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "truncated"),
        (b"\x30\x80\x02\x01\x01\x00\x00", "length form"),
        (b"\x30\x85\x00\x00\x00\x00\x01\x02", "length form"),
        (b"\x30\x84\x7f\xff\xff\xff\x02\x01\x01", "exceeds"),
        (b"\x31\x03\x02\x01\x01", "expected tag"),
        (b"\x30\x03\x02\x00\x00", "integer length"),
        (b"\x30\x03\x02\x01\x01\x00", "trailing"),
    ],
)
def test_malformed_framing_is_a_codec_error(data: bytes, words: str) -> None:
    """Empty, indefinite, oversized, mistagged and padded messages are refused by name."""
    with pytest.raises(c.CodecError, match=words):
        c.message_version(data)


def test_every_truncation_is_a_codec_error() -> None:
    """Cutting a valid v2c or v3 message anywhere gives a CodecError, never another error."""
    for msg, decode in ((sample_v2c(), c.decode_v2c), (sample_v3(), c.decode_v3)):
        for n in range(len(msg)):
            with pytest.raises(c.CodecError):
                decode(msg[:n])


def test_random_bytes_and_bit_flips_only_raise_codec_errors() -> None:
    """Seeded random garbage and single-byte corruptions never escape as other exceptions."""
    rng = random.Random(1234)
    good = [sample_v2c()[:400], sample_v3()]
    for _ in range(3000):
        if rng.random() < 0.5:
            data = rng.randbytes(rng.randint(0, 80))
        else:
            msg = bytearray(rng.choice(good))
            for _ in range(rng.randint(1, 3)):
                msg[rng.randrange(len(msg))] = rng.randrange(256)
            data = bytes(msg)
        for decode in (c.decode_v2c, c.decode_v3, c.message_version):
            try:
                decode(data)
            except c.CodecError:
                pass


def test_bad_oids_and_values() -> None:
    """OIDs BER cannot carry and unknown value tags are CodecErrors on both sides."""
    for oid in [(3, 1), (1, 40), (1,), (1, 3, -1)]:
        with pytest.raises(c.CodecError):
            c.enc_oid(oid)
    with pytest.raises(c.CodecError):
        c.enc_value((0x99, 1))
    with pytest.raises(c.CodecError, match="OID"):
        c.dec_oid(b"\x2b\x86")
    bad_value = c.tlv(c.SEQUENCE, c.tlv(c.SEQUENCE, c.enc_oid((1, 3)) + b"\x99\x00"))
    pdu = c.tlv(c.GET, b"\x02\x01\x01" * 3 + bad_value)
    with pytest.raises(c.CodecError, match="value tag"):
        c.dec_pdu(pdu, 0, len(pdu))


def test_integer_encoding_is_minimal_twos_complement() -> None:
    """INTEGERs take the fewest octets with the right sign bit (127, 128, -128, -129)."""
    assert c.enc_int(0) == b"\x02\x01\x00"
    assert c.enc_int(127) == b"\x02\x01\x7f"
    assert c.enc_int(128) == b"\x02\x02\x00\x80"
    assert c.enc_int(-128) == b"\x02\x01\x80"
    assert c.enc_int(-129) == b"\x02\x02\xff\x7f"
