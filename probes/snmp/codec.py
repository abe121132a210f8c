"""BER and SNMP message encoding: v2c messages, v3 messages and scoped PDUs, nothing else.

A small hand-written codec (RFC 3416 PDUs, RFC 3412 v3 framing, RFC 3414 USM
security parameters) shared by the probe's client and the device lab's agent.
It is the hot path of every SNMP check, so it works on ``bytes`` with offsets
and plain tuples: an OID is a ``tuple[int, ...]``, a value is ``(tag, python
value)`` such as ``(COUNTER32, 17)`` or ``(OCTET_STRING, b"ge-0/0/1")``.

Every malformed input (truncated, wrong tag, oversized or indefinite length,
trailing bytes) raises ``CodecError``; no other exception escapes a decoder.

Decoding is linear in the message's size and bounded by caps, because replies
arrive from the network and the decoder runs on the event loop: a message over
``MAX_MESSAGE_SIZE`` octets (the msgMaxSize the client advertises), an OID
sub-identifier over ``MAX_SUBID_OCTETS`` octets or an OID of more than
``MAX_OID_ARCS`` arcs (RFC 2578 3.5), an integer over ``MAX_INT_OCTETS``
octets, a length in more than ``MAX_LENGTH_OCTETS`` octets or in the
indefinite form, USM engine boots or time outside 0..2^31-1 (RFC 3414 2.2)
and an engine id over ``MAX_ENGINE_ID`` octets are all ``CodecError``, which
the probe reports as a ``protocol`` failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

OID = tuple[int, ...]
Value = tuple[int, Any]
VarBind = tuple[OID, Value]

INTEGER = 0x02
OCTET_STRING = 0x04
NULL = 0x05
OBJECT_ID = 0x06
SEQUENCE = 0x30
IP_ADDRESS = 0x40
COUNTER32 = 0x41
GAUGE32 = 0x42
TIMETICKS = 0x43
OPAQUE = 0x44
COUNTER64 = 0x46
NO_SUCH_OBJECT = 0x80
NO_SUCH_INSTANCE = 0x81
END_OF_MIB_VIEW = 0x82
EXCEPTIONS = frozenset((NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW))
_UNSIGNED = frozenset((COUNTER32, GAUGE32, TIMETICKS, COUNTER64))

GET = 0xA0
GET_NEXT = 0xA1
RESPONSE = 0xA2
SET = 0xA3
GET_BULK = 0xA5
INFORM = 0xA6
TRAP = 0xA7
REPORT = 0xA8
_PDU_TAGS = frozenset((GET, GET_NEXT, RESPONSE, SET, GET_BULK, INFORM, TRAP, REPORT))

V2C = 1
V3 = 3
FLAG_AUTH = 0x01
FLAG_PRIV = 0x02
FLAG_REPORTABLE = 0x04
USM_MODEL = 3

NULL_VALUE: Value = (NULL, None)

MAX_MESSAGE_SIZE = 16384  # octets of one message; ample for the probe's GET and GETBULK
MAX_SUBID_OCTETS = 10  # octets of one OID sub-identifier (70 bits; SNMP needs 5 for 2^32-1)
MAX_OID_ARCS = 128  # arcs of one OID (RFC 2578 3.5)
MAX_INT_OCTETS = 9  # octets of an INTEGER or unsigned value (Counter64 with a sign octet)
MAX_LENGTH_OCTETS = 4  # octets of a long-form length
MAX_ENGINE_CLOCK = 0x7FFFFFFF  # msgAuthoritativeEngineBoots/Time: INTEGER (0..2147483647)
MAX_ENGINE_ID = 32  # octets of an snmpEngineID (RFC 3411 5)


class CodecError(ValueError):
    """The bytes are not a well-formed SNMP message of the kind expected."""


@dataclass(frozen=True, slots=True)
class Pdu:
    """A decoded PDU; for GETBULK the two middle fields are non-repeaters and max-repetitions."""

    tag: int
    request_id: int
    error_status: int
    error_index: int
    varbinds: tuple[VarBind, ...]


@dataclass(frozen=True, slots=True)
class UsmParams:
    """RFC 3414 UsmSecurityParameters; ``auth_offset`` locates authParams in the whole message."""

    engine_id: bytes
    boots: int
    time: int
    user: bytes
    auth_params: bytes
    priv_params: bytes
    auth_offset: int = 0


@dataclass(frozen=True, slots=True)
class V3Message:
    """A decoded v3 message; ``data`` is the scoped PDU TLV, or the ciphertext when encrypted."""

    msg_id: int
    max_size: int
    flags: int
    usm: UsmParams
    data: bytes


# ---------------------------------------------------------------- encoding


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def tlv(tag: int, content: bytes) -> bytes:
    """One BER element; the building block of every encoder here."""
    n = len(content)
    if n < 0x80:
        return bytes((tag, n)) + content
    return bytes((tag,)) + _length(n) + content


def enc_int(n: int, tag: int = INTEGER) -> bytes:
    """A two's-complement INTEGER (or unsigned application type) of minimal length."""
    size = ((n if n >= 0 else ~n).bit_length() + 8) // 8
    return tlv(tag, n.to_bytes(size, "big", signed=True))


def enc_oid(oid: OID) -> bytes:
    """An OBJECT IDENTIFIER; raises CodecError for arcs BER cannot carry."""
    if len(oid) < 2 or oid[0] > 2 or (oid[0] < 2 and oid[1] > 39) or min(oid) < 0:
        raise CodecError(f"cannot encode OID {'.'.join(map(str, oid))}")
    out = bytearray()
    for arc in (oid[0] * 40 + oid[1], *oid[2:]):
        if arc < 0x80:
            out.append(arc)
            continue
        chunk = []
        while arc:
            chunk.append(arc & 0x7F | 0x80)
            arc >>= 7
        chunk[0] &= 0x7F
        out.extend(reversed(chunk))
    return tlv(OBJECT_ID, bytes(out))


def enc_value(value: Value) -> bytes:
    """A var-bind value from its ``(tag, python value)`` pair."""
    tag, v = value
    if tag in (INTEGER, COUNTER32, GAUGE32, TIMETICKS, COUNTER64):
        return enc_int(v, tag)
    if tag in (OCTET_STRING, IP_ADDRESS, OPAQUE):
        return tlv(tag, v)
    if tag == OBJECT_ID:
        return enc_oid(v)
    if tag in (NULL, NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW):
        return bytes((tag, 0))
    raise CodecError(f"cannot encode value of tag 0x{tag:02x}")


def enc_varbinds(varbinds: list[VarBind] | tuple[VarBind, ...]) -> bytes:
    """The VarBindList; callers cache it when the same OIDs go out every check."""
    return tlv(SEQUENCE, b"".join(tlv(SEQUENCE, enc_oid(o) + enc_value(v)) for o, v in varbinds))


def enc_pdu(tag: int, request_id: int, varbinds: bytes, status: int = 0, index: int = 0) -> bytes:
    """A PDU around an encoded VarBindList (for GETBULK: non-repeaters, max-repetitions)."""
    return tlv(tag, enc_int(request_id) + enc_int(status) + enc_int(index) + varbinds)


def enc_v2c(community: bytes, pdu: bytes) -> bytes:
    """A community-based SNMPv2c message."""
    return tlv(SEQUENCE, b"\x02\x01\x01" + tlv(OCTET_STRING, community) + pdu)


def enc_scoped_pdu(context_engine_id: bytes, pdu: bytes, context_name: bytes = b"") -> bytes:
    """The ScopedPDU that v3 carries in clear or encrypts."""
    ids = tlv(OCTET_STRING, context_engine_id) + tlv(OCTET_STRING, context_name)
    return tlv(SEQUENCE, ids + pdu)


def enc_v3(
    msg_id: int, flags: int, usm: UsmParams, data: bytes, max_size: int = MAX_MESSAGE_SIZE
) -> tuple[bytes, int]:
    """A v3 message and the offset of its authParams content, where the digest goes.

    ``data`` is a ScopedPDU TLV, or an OCTET STRING TLV of ciphertext; the message
    carries ``usm.auth_params`` as given (zeros before signing).
    """
    header = tlv(
        SEQUENCE,
        enc_int(msg_id) + enc_int(max_size) + tlv(OCTET_STRING, bytes((flags,))) + b"\x02\x01\x03",
    )
    prefix = (
        tlv(OCTET_STRING, usm.engine_id)
        + enc_int(usm.boots)
        + enc_int(usm.time)
        + tlv(OCTET_STRING, usm.user)
    )
    auth = tlv(OCTET_STRING, usm.auth_params)
    content = prefix + auth + tlv(OCTET_STRING, usm.priv_params)
    sec_seq = tlv(SEQUENCE, content)
    sec = tlv(OCTET_STRING, sec_seq)
    body = b"\x02\x01\x03" + header + sec + data
    message = tlv(SEQUENCE, body)
    offset = (
        len(message)
        - len(body)
        + 3
        + len(header)
        + len(sec)
        - len(sec_seq)
        + len(sec_seq)
        - len(content)
        + len(prefix)
        + len(auth)
        - len(usm.auth_params)
    )
    return message, offset


# ---------------------------------------------------------------- decoding


def _tlv(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the element at ``pos``, bounded by ``end``."""
    if pos + 2 > end:
        raise CodecError("truncated element")
    tag = data[pos]
    n = data[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        if k == 0 or k > MAX_LENGTH_OCTETS:
            raise CodecError("unsupported length form")
        if pos + k > end:
            raise CodecError("truncated length")
        n = int.from_bytes(data[pos : pos + k], "big")
        pos += k
    if pos + n > end:
        raise CodecError("length exceeds the message")
    return tag, pos, pos + n


def _expect(data: bytes, pos: int, end: int, tag: int, what: str) -> tuple[int, int]:
    t, s, e = _tlv(data, pos, end)
    if t != tag:
        raise CodecError(f"{what}: expected tag 0x{tag:02x}, got 0x{t:02x}")
    return s, e


def _int(data: bytes, pos: int, end: int, what: str) -> tuple[int, int]:
    s, e = _expect(data, pos, end, INTEGER, what)
    if s == e or e - s > MAX_INT_OCTETS:
        raise CodecError(f"{what}: bad integer length")
    return int.from_bytes(data[s:e], "big", signed=True), e


def _octets(data: bytes, pos: int, end: int, what: str) -> tuple[bytes, int]:
    s, e = _expect(data, pos, end, OCTET_STRING, what)
    return data[s:e], e


def dec_oid(content: bytes) -> OID:
    """An OBJECT IDENTIFIER's content octets as a tuple of arcs.

    Each octet is looked at once and each sub-identifier is accumulated from at
    most ``MAX_SUBID_OCTETS`` octets, so the work is bounded whatever arrives.
    """
    if not content or content[-1] & 0x80:
        raise CodecError("truncated or empty OID")
    arcs: list[int] = []
    acc = 0
    octets = 0
    for b in content:
        octets += 1
        if octets > MAX_SUBID_OCTETS:
            raise CodecError(f"OID sub-identifier longer than {MAX_SUBID_OCTETS} octets")
        acc = (acc << 7) | (b & 0x7F)
        if not b & 0x80:
            if len(arcs) == MAX_OID_ARCS - 1:  # the first sub-identifier holds two arcs
                raise CodecError(f"OID of more than {MAX_OID_ARCS} arcs")
            arcs.append(acc)
            acc = 0
            octets = 0
    first = arcs[0]
    head = (first // 40, first % 40) if first < 80 else (2, first - 80)
    return head + tuple(arcs[1:])


def _value(tag: int, content: bytes) -> Any:
    if tag == INTEGER:
        if not content or len(content) > MAX_INT_OCTETS:
            raise CodecError("bad integer length")
        return int.from_bytes(content, "big", signed=True)
    if tag in _UNSIGNED:
        if not content or len(content) > MAX_INT_OCTETS:
            raise CodecError("bad unsigned length")
        return int.from_bytes(content, "big")
    if tag in (OCTET_STRING, IP_ADDRESS, OPAQUE):
        return content
    if tag == OBJECT_ID:
        return dec_oid(content)
    if tag == NULL or tag in EXCEPTIONS:
        return None
    raise CodecError(f"unknown value tag 0x{tag:02x}")


def dec_pdu(data: bytes, pos: int, end: int) -> Pdu:
    """The PDU at ``pos``; it must fill the rest up to ``end``."""
    tag, s, e = _tlv(data, pos, end)
    if tag not in _PDU_TAGS:
        raise CodecError(f"unknown PDU tag 0x{tag:02x}")
    if e != end:
        raise CodecError("trailing bytes after PDU")
    request_id, p = _int(data, s, e, "request-id")
    status, p = _int(data, p, e, "error-status")
    index, p = _int(data, p, e, "error-index")
    vs, ve = _expect(data, p, e, SEQUENCE, "varbind list")
    if ve != e:
        raise CodecError("trailing bytes after varbind list")
    varbinds = []
    p = vs
    while p < ve:
        bs, be = _expect(data, p, ve, SEQUENCE, "varbind")
        os_, oe = _expect(data, bs, be, OBJECT_ID, "varbind name")
        vtag, cs, ce = _tlv(data, oe, be)
        if ce != be:
            raise CodecError("trailing bytes in varbind")
        varbinds.append((dec_oid(data[os_:oe]), (vtag, _value(vtag, data[cs:ce]))))
        p = be
    return Pdu(tag, request_id, status, index, tuple(varbinds))


def _message(data: bytes) -> tuple[int, int]:
    """The outer SEQUENCE of a message no larger than ``MAX_MESSAGE_SIZE``, filling ``data``."""
    if len(data) > MAX_MESSAGE_SIZE:
        raise CodecError(f"message of {len(data)} octets is over {MAX_MESSAGE_SIZE}")
    s, e = _expect(data, 0, len(data), SEQUENCE, "message")
    if e != len(data):
        raise CodecError("trailing bytes after message")
    return s, e


def message_version(data: bytes) -> int:
    """The msgVersion of a message, to dispatch v2c and v3 decoding."""
    s, e = _message(data)
    return _int(data, s, e, "version")[0]


def decode_v2c(data: bytes) -> tuple[bytes, Pdu]:
    """(community, PDU) of a v1/v2c message."""
    s, e = _message(data)
    version, p = _int(data, s, e, "version")
    if version not in (0, V2C):
        raise CodecError(f"not a v1/v2c message (version {version})")
    community, p = _octets(data, p, e, "community")
    return community, dec_pdu(data, p, e)


def decode_v3(data: bytes) -> V3Message:
    """The framing and USM parameters of a v3 message; the scoped PDU stays encoded."""
    s, e = _message(data)
    version, p = _int(data, s, e, "version")
    if version != V3:
        raise CodecError(f"not a v3 message (version {version})")
    hs, he = _expect(data, p, e, SEQUENCE, "msgGlobalData")
    msg_id, q = _int(data, hs, he, "msgID")
    max_size, q = _int(data, q, he, "msgMaxSize")
    flags, q = _octets(data, q, he, "msgFlags")
    model, q = _int(data, q, he, "msgSecurityModel")
    if len(flags) != 1 or q != he:
        raise CodecError("bad msgGlobalData")
    if model != USM_MODEL:
        raise CodecError(f"unsupported security model {model}")
    ss, se = _expect(data, he, e, OCTET_STRING, "msgSecurityParameters")
    us, ue = _expect(data, ss, se, SEQUENCE, "UsmSecurityParameters")
    engine_id, q = _octets(data, us, ue, "msgAuthoritativeEngineID")
    boots, q = _int(data, q, ue, "msgAuthoritativeEngineBoots")
    time, q = _int(data, q, ue, "msgAuthoritativeEngineTime")
    user, q = _octets(data, q, ue, "msgUserName")
    if not 0 <= boots <= MAX_ENGINE_CLOCK or not 0 <= time <= MAX_ENGINE_CLOCK:
        raise CodecError("engine boots or time outside 0..2147483647")
    if len(engine_id) > MAX_ENGINE_ID:
        raise CodecError(f"engine id longer than {MAX_ENGINE_ID} octets")
    auth_start, auth_end = _expect(data, q, ue, OCTET_STRING, "msgAuthenticationParameters")
    priv, q = _octets(data, auth_end, ue, "msgPrivacyParameters")
    if q != ue or ue != se:
        raise CodecError("bad UsmSecurityParameters")
    flag = flags[0]
    if flag & FLAG_PRIV:
        ds, de = _expect(data, se, e, OCTET_STRING, "encryptedPDU")
        body = data[ds:de]
    else:
        ds, de = _expect(data, se, e, SEQUENCE, "scopedPDU")
        body = data[se:de]
    if de != e:
        raise CodecError("trailing bytes after msgData")
    usm = UsmParams(engine_id, boots, time, user, data[auth_start:auth_end], priv, auth_start)
    return V3Message(msg_id, max_size, flag, usm, body)


def decode_scoped_pdu(data: bytes) -> tuple[bytes, bytes, Pdu]:
    """(contextEngineID, contextName, PDU) of a plaintext ScopedPDU.

    Decrypted ScopedPDUs may carry padding after the SEQUENCE; it is ignored.
    """
    s, e = _expect(data, 0, len(data), SEQUENCE, "scopedPDU")
    engine_id, p = _octets(data, s, e, "contextEngineID")
    name, p = _octets(data, p, e, "contextName")
    return engine_id, name, dec_pdu(data, p, e)
