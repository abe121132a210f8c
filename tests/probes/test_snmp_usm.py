"""USM keys, HMAC and privacy: RFC test vectors and round trips."""

from __future__ import annotations

import pytest

from probes.snmp import codec as c
from probes.snmp import usm as usm

ENGINE = bytes.fromhex("000000000000000000000002")  # RFC 3414 A.3


@pytest.mark.parametrize(
    ("hash_name", "expected"),
    [
        ("md5", "526f5eed9fcce26f8964c2930787d82b"),
        ("sha1", "6695febc9288e36282235fc7151f128497b38f3f"),
    ],
)
def test_key_localisation_matches_rfc3414_vectors(hash_name: str, expected: str) -> None:
    """Password-to-key and localisation give RFC 3414 A.3's keys for "maplesyrup"."""
    master = usm.master_key(hash_name, b"maplesyrup")
    assert usm.localize(hash_name, master, ENGINE).hex() == expected


def test_key_cache_hashes_each_passphrase_once() -> None:
    """Many engines cost one master key per passphrase and one localisation per engine."""
    cache = usm.KeyCache()
    user = usm.UsmUser("u", "SHA256", "authpass123", "AES256", "privpass123")
    keys = [cache.keys(user, b"engine-%d" % i) for i in range(50)]
    assert repr(cache) == "KeyCache(2 master keys, 50 localised)"
    assert len({k.auth for k in keys}) == 50 and all(len(k.priv) == 32 for k in keys)
    assert cache.keys(user, b"engine-3") is keys[3]


def test_aes_key_extension_variants_differ_only_past_the_hash() -> None:
    """SHA-1 keys extended for AES-256: Blumenthal and Reeder agree on the first 20 octets."""
    cache = usm.KeyCache()
    blu = cache.keys(usm.UsmUser("u", "SHA", "authpass123", "AES256", "privpass123"), ENGINE)
    ree = cache.keys(usm.UsmUser("u", "SHA", "authpass123", "AES256C", "privpass123"), ENGINE)
    assert blu.priv[:20] == ree.priv[:20] and blu.priv != ree.priv


@pytest.mark.parametrize("priv", ["AES128", "AES192", "AES256", "DES"])
def test_encrypt_decrypt_round_trip(priv: str) -> None:
    """A ScopedPDU encrypted for (boots, time) decrypts to itself with the privParams sent."""
    keys = usm.KeyCache().keys(usm.UsmUser("u", "SHA512", "authpass123", priv, "privpass1"), ENGINE)
    plain = c.enc_scoped_pdu(ENGINE, c.enc_pdu(c.GET, 77, c.enc_varbinds(())))
    cipher, params = usm.encrypt(keys, 3, 1000, usm.Salts().next(), plain)
    assert cipher[: len(plain)] != plain
    clear = usm.decrypt(keys, 3, 1000, params, cipher)
    assert c.decode_scoped_pdu(clear)[2].request_id == 77


def test_decrypt_rejects_impossible_parameters() -> None:
    """Bad privParams, out-of-range clocks and ragged DES blocks are UsmErrors."""
    user = usm.UsmUser("u", "MD5", "authpass123", "DES", "privpass123")
    keys = usm.KeyCache().keys(user, ENGINE)
    for boots, time, params, data in [
        (1, 1, b"short", b""),
        (-1, 1, bytes(8), b""),
        (1, 1, bytes(8), b"1234567"),
    ]:
        with pytest.raises(usm.UsmError):
            usm.decrypt(keys, boots, time, params, data)


@pytest.mark.parametrize("priv", ["DES", "AES128"])
@pytest.mark.parametrize(("boots", "time"), [(-1, 0), (2**31, 0), (0, -1), (0, 2**32), (2**40, 1)])
def test_encrypt_refuses_clocks_outside_the_rfc_range(priv: str, boots: int, time: int) -> None:
    """Boots/time outside 0..2^31-1 are a UsmError, not an OverflowError from the IV."""
    keys = usm.KeyCache().keys(usm.UsmUser("u", "SHA", "authpass123", priv, "privpass123"), ENGINE)
    with pytest.raises(usm.UsmError, match="out of range"):
        usm.encrypt(keys, boots, time, 1, b"\x30\x00")


def test_sign_and_verify_detect_tampering() -> None:
    """A signed message verifies; one changed octet or another key fails."""
    cache = usm.KeyCache()
    user = usm.UsmUser("u", "SHA256", "authpass123", "AES128", "privpass123")
    keys = cache.keys(user, ENGINE)
    params = c.UsmParams(ENGINE, 1, 2, b"u", bytes(keys.mac_len), bytes(8))
    msg, offset = c.enc_v3(
        1, c.FLAG_AUTH, params, c.enc_scoped_pdu(ENGINE, c.enc_pdu(c.GET, 1, c.enc_varbinds(())))
    )
    signed = usm.sign(msg, offset, keys)
    mac = signed[offset : offset + keys.mac_len]
    assert usm.verify(signed, offset, mac, keys)
    assert not usm.verify(signed[:-1] + bytes([signed[-1] ^ 1]), offset, mac, keys)
    other = cache.keys(usm.UsmUser("u", "SHA256", "authpass124", "AES128", "privpass123"), ENGINE)
    assert not usm.verify(signed, offset, mac, other)


def test_users_validate_and_hide_keys() -> None:
    """Unknown protocols and short passphrases are refused; repr shows no passphrase."""
    user = usm.UsmUser("u", "SHA", "authpass-secret", "AES128", "privpass-secret")
    assert "secret" not in repr(user)
    assert "secret" not in repr(usm.KeyCache().keys(user, ENGINE))
    with pytest.raises(ValueError, match="auth protocol"):
        usm.UsmUser("u", "SHA3", "authpass123", "AES128", "privpass123")
    with pytest.raises(ValueError, match="priv_key must be at least 8"):
        usm.UsmUser("u", "SHA", "authpass123", "AES128", "short")
