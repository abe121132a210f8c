"""SNMPv3 user-based security (RFC 3414, 3826, 7860): keys, HMAC authentication, privacy.

Shared by the probe's client (non-authoritative side) and the device lab's agent
(authoritative side). Turning a passphrase into a key hashes 1 MB (RFC 3414
A.2), so ``KeyCache`` keeps one master key per (hash, passphrase) and one
localised key pair per (user, engine id): the cost of a cold pass is linear in
the number of agents. HMAC is the standard library's; AES-CFB128 and DES-CBC
come from ``cryptography``.

Keys and passphrases never appear in reprs or messages. Engine boots and time
outside 0..2^31-1 are a ``UsmError`` on both ``encrypt`` and ``decrypt``, never
an ``OverflowError`` from building the IV; the codec already refuses them in
received messages, so a hostile discovery reply cannot put them in the cache.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

try:  # cryptography >= 43 / 47 keep DES and CFB under "decrepit"
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    from cryptography.hazmat.decrepit.ciphers.modes import CFB
except ImportError:  # pragma: no cover - older cryptography
    from cryptography.hazmat.primitives.ciphers.algorithms import TripleDES
    from cryptography.hazmat.primitives.ciphers.modes import CFB

# name → (hashlib name, truncated MAC length) per RFC 3414 / RFC 7860
AUTH_PROTOCOLS: dict[str, tuple[str, int]] = {
    "MD5": ("md5", 12),
    "SHA": ("sha1", 12),
    "SHA224": ("sha224", 16),
    "SHA256": ("sha256", 24),
    "SHA384": ("sha384", 32),
    "SHA512": ("sha512", 48),
}
# name → (cipher, key length, key extension): AES192/256 extend short keys the
# Blumenthal way (net-snmp's AES-192/AES-256); the "C" variants the Reeder way (Cisco).
PRIV_PROTOCOLS: dict[str, tuple[str, int, str]] = {
    "DES": ("des", 16, ""),
    "AES128": ("aes", 16, ""),
    "AES192": ("aes", 24, "blumenthal"),
    "AES256": ("aes", 32, "blumenthal"),
    "AES192C": ("aes", 24, "reeder"),
    "AES256C": ("aes", 32, "reeder"),
}
MIN_PASSPHRASE = 8  # RFC 3414 11.2; net-snmp refuses shorter ones too

_MEGABYTE = 1048576
MAX_ENGINE_CLOCK = 0x7FFFFFFF  # engine boots and time are INTEGER (0..2147483647), RFC 3414 2.2


class UsmError(ValueError):
    """A v3 message failed authentication or decryption."""


@dataclass(frozen=True, slots=True)
class UsmUser:
    """An authPriv user as configured: name, protocols and passphrases."""

    name: str
    auth_protocol: str
    auth_key: str = field(repr=False)
    priv_protocol: str
    priv_key: str = field(repr=False)

    def __post_init__(self) -> None:
        if self.auth_protocol not in AUTH_PROTOCOLS:
            raise ValueError(f"unknown auth protocol {self.auth_protocol!r}")
        if self.priv_protocol not in PRIV_PROTOCOLS:
            raise ValueError(f"unknown privacy protocol {self.priv_protocol!r}")
        for what, key in (("auth_key", self.auth_key), ("priv_key", self.priv_key)):
            if len(key) < MIN_PASSPHRASE:
                raise ValueError(f"{what} must be at least {MIN_PASSPHRASE} characters")


@dataclass(frozen=True, slots=True)
class LocalKeys:
    """One user's keys localised to one engine, ready to sign and encrypt."""

    hash_name: str
    mac_len: int
    auth: bytes = field(repr=False)
    cipher: str
    priv: bytes = field(repr=False)


def master_key(hash_name: str, passphrase: bytes) -> bytes:
    """RFC 3414 A.2.1 password-to-key: the hash of the passphrase repeated to 1 MB."""
    if not passphrase:
        raise ValueError("empty passphrase")
    repeated = passphrase * (_MEGABYTE // len(passphrase) + 1)
    return hashlib.new(hash_name, repeated[:_MEGABYTE]).digest()


def localize(hash_name: str, master: bytes, engine_id: bytes) -> bytes:
    """RFC 3414 A.2.2: bind a master key to one authoritative engine."""
    return hashlib.new(hash_name, master + engine_id + master).digest()


def _extend(hash_name: str, key: bytes, size: int, how: str, engine_id: bytes) -> bytes:
    while len(key) < size:
        if how == "reeder":
            key += localize(hash_name, master_key(hash_name, key), engine_id)
        else:
            key += hashlib.new(hash_name, key).digest()
    return key[:size]


class KeyCache:
    """Master keys per passphrase and localised keys per (user, engine): linear setup."""

    def __init__(self) -> None:
        self._master: dict[tuple[str, str], bytes] = {}
        self._local: dict[tuple[UsmUser, bytes], LocalKeys] = {}

    def __repr__(self) -> str:
        return f"KeyCache({len(self._master)} master keys, {len(self._local)} localised)"

    def _master_key(self, hash_name: str, passphrase: str) -> bytes:
        key = self._master.get((hash_name, passphrase))
        if key is None:
            key = master_key(hash_name, passphrase.encode())
            self._master[(hash_name, passphrase)] = key
        return key

    def keys(self, user: UsmUser, engine_id: bytes) -> LocalKeys:
        """The user's keys for ``engine_id``, computed once per pair."""
        found = self._local.get((user, engine_id))
        if found is not None:
            return found
        hash_name, mac_len = AUTH_PROTOCOLS[user.auth_protocol]
        cipher, size, how = PRIV_PROTOCOLS[user.priv_protocol]
        auth = localize(hash_name, self._master_key(hash_name, user.auth_key), engine_id)
        priv = localize(hash_name, self._master_key(hash_name, user.priv_key), engine_id)
        priv = _extend(hash_name, priv, size, how, engine_id)
        keys = LocalKeys(hash_name, mac_len, auth, cipher, priv)
        self._local[(user, engine_id)] = keys
        return keys


def sign(message: bytes, offset: int, keys: LocalKeys) -> bytes:
    """The message with its zeroed authParams at ``offset`` replaced by the HMAC."""
    mac = hmac.digest(keys.auth, message, keys.hash_name)[: keys.mac_len]
    return message[:offset] + mac + message[offset + keys.mac_len :]


def verify(message: bytes, offset: int, auth_params: bytes, keys: LocalKeys) -> bool:
    """Whether a received message's authParams are the HMAC of it under ``keys``."""
    if len(auth_params) != keys.mac_len:
        return False
    zeroed = message[:offset] + bytes(keys.mac_len) + message[offset + keys.mac_len :]
    mac = hmac.digest(keys.auth, zeroed, keys.hash_name)[: keys.mac_len]
    return hmac.compare_digest(mac, auth_params)


class Salts:
    """A 64-bit salt counter (RFC 3826 3.1.2.1), random start, one per sender."""

    def __init__(self) -> None:
        self._next = int.from_bytes(os.urandom(8), "big")

    def next(self) -> int:
        self._next = (self._next + 1) & 0xFFFFFFFFFFFFFFFF
        return self._next


def _des(keys: LocalKeys, boots: int, salt: int) -> tuple[Cipher[modes.CBC], bytes]:
    priv_params = boots.to_bytes(4, "big") + (salt & 0xFFFFFFFF).to_bytes(4, "big")
    iv = bytes(a ^ b for a, b in zip(keys.priv[8:16], priv_params, strict=True))
    return Cipher(TripleDES(keys.priv[:8] * 3), modes.CBC(iv)), priv_params


def _check_clock(boots: int, time: int) -> None:
    if not 0 <= boots <= MAX_ENGINE_CLOCK or not 0 <= time <= MAX_ENGINE_CLOCK:
        raise UsmError("engine boots/time out of range")


def encrypt(keys: LocalKeys, boots: int, time: int, salt: int, plain: bytes) -> tuple[bytes, bytes]:
    """(ciphertext, privParams) of a ScopedPDU for an engine at (boots, time)."""
    _check_clock(boots, time)
    if keys.cipher == "des":
        cipher, priv_params = _des(keys, boots, salt)
        enc = cipher.encryptor()
        return enc.update(plain + bytes(-len(plain) % 8)) + enc.finalize(), priv_params
    priv_params = salt.to_bytes(8, "big")
    iv = boots.to_bytes(4, "big") + time.to_bytes(4, "big") + priv_params
    enc = Cipher(algorithms.AES(keys.priv), CFB(iv)).encryptor()
    return enc.update(plain) + enc.finalize(), priv_params


def decrypt(keys: LocalKeys, boots: int, time: int, priv_params: bytes, data: bytes) -> bytes:
    """The plaintext ScopedPDU; UsmError when the parameters cannot be right."""
    if len(priv_params) != 8:
        raise UsmError("privacy parameters are not 8 octets")
    _check_clock(boots, time)
    if keys.cipher == "des":
        if len(data) % 8:
            raise UsmError("DES ciphertext is not a multiple of 8 octets")
        iv = bytes(a ^ b for a, b in zip(keys.priv[8:16], priv_params, strict=True))
        dec = Cipher(TripleDES(keys.priv[:8] * 3), modes.CBC(iv)).decryptor()
        return dec.update(data) + dec.finalize()
    iv = boots.to_bytes(4, "big") + time.to_bytes(4, "big") + priv_params
    dec = Cipher(algorithms.AES(keys.priv), CFB(iv)).decryptor()
    return dec.update(data) + dec.finalize()
