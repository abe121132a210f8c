"""RTSP credentials: answering a camera's ``WWW-Authenticate`` challenge, Digest or Basic.

Shared by the ``rtsp`` and ``video`` probes (and the device lab, which checks
answers with ``digest_response``). Digest follows RFC 7616 / RFC 2617: algorithms
MD5 and SHA-256 (and their ``-sess`` forms), ``qop=auth`` or no ``qop``; Basic is
RFC 7617. When a camera offers several challenges the strongest wins: Digest
SHA-256, then Digest MD5, then Basic.

The password is never put into a message, an exception or a ``repr``: only the
finished ``Authorization`` value carries it (hashed for Digest, encoded for Basic),
and that value goes onto the wire and nowhere else.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from probes.base import ParamError
from probes.textproto import is_safe_text

HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}
CHALLENGE_LIMIT = 4096  # characters of WWW-Authenticate parsed; a real one is far shorter
_RANK = {("digest", "SHA-256"): 3, ("digest", "MD5"): 2, ("basic", ""): 1}


@dataclass(frozen=True, slots=True)
class Credentials:
    """A user name and its password (resolved from an ``${ENV}`` reference by the inventory)."""

    user: str
    password: str = field(repr=False)


def parse_credentials(raw: Mapping[str, Any]) -> Credentials | None:
    """``user`` and ``password`` check settings: both or neither; ParamError names the field."""
    user, password = raw.get("user"), raw.get("password")
    if user is None and password is None:
        return None
    if user is None:
        raise ParamError("user", "a password needs a user")
    if password is None:
        raise ParamError("password", "a user needs a password (an ${ENV} reference)")
    if not isinstance(user, str) or not user or not is_safe_text(user) or any(
            c in user for c in ':"\\'):
        raise ParamError("user", "expected a user name without spaces, quotes, ':' or '\\'")
    if not isinstance(password, str) or not password or not password.isprintable():
        raise ParamError("password", "expected non-empty printable text")  # never quoted
    return Credentials(user, password)


@dataclass(frozen=True, slots=True)
class Challenge:
    """One scheme a camera offered, with its parameters (names lower-cased)."""

    scheme: str  # "digest" or "basic" (lower-cased)
    params: Mapping[str, str]

    @property
    def algorithm(self) -> str:
        """The Digest hash without its ``-sess`` suffix, upper-cased ("" for Basic)."""
        if self.scheme != "digest":
            return ""
        return self.params.get("algorithm", "MD5").upper().removesuffix("-SESS")


def parse_challenges(header: str) -> list[Challenge]:
    """Every challenge in a ``WWW-Authenticate`` value (repeated headers joined by ", ").

    A challenge is a scheme token followed by comma-separated ``name=value``
    parameters (values quoted or tokens); a bare token after a comma starts the next.
    """
    text = header[:CHALLENGE_LIMIT]
    challenges: list[Challenge] = []
    i, n = 0, len(text)
    scheme: str | None = None
    params: dict[str, str] = {}
    while i < n:
        while i < n and text[i] in " \t,":
            i += 1
        start = i
        while i < n and text[i] not in " \t,=":
            i += 1
        token = text[start:i]
        if not token:
            break
        j = i
        while j < n and text[j] in " \t":
            j += 1
        if j < n and text[j] == "=" and scheme is not None:
            i = j + 1
            while i < n and text[i] in " \t":
                i += 1
            value, i = _value(text, i)
            params[token.lower()] = value
            continue
        if j < n and text[j] == "=":  # a parameter before any scheme (or token68): skip it
            i = j + 1
            _, i = _value(text, i)
            continue
        if scheme is not None:
            challenges.append(Challenge(scheme, params))
        scheme, params = token.lower(), {}
    if scheme is not None:
        challenges.append(Challenge(scheme, params))
    return challenges


def _value(text: str, i: int) -> tuple[str, int]:
    """A quoted string (with backslash escapes) or a token starting at ``i``; and where it ends."""
    n = len(text)
    if i < n and text[i] == '"':
        out: list[str] = []
        i += 1
        while i < n and text[i] != '"':
            if text[i] == "\\" and i + 1 < n:
                i += 1
            out.append(text[i])
            i += 1
        return "".join(out), i + 1
    start = i
    while i < n and text[i] not in " \t,":
        i += 1
    return text[start:i], i


def choose(challenges: list[Challenge]) -> Challenge | None:
    """The strongest challenge we can answer, or None when none is (e.g. only auth-int)."""
    usable = [c for c in challenges if (c.scheme, c.algorithm) in _RANK and _answerable(c)]
    return max(usable, key=lambda c: _RANK[(c.scheme, c.algorithm)], default=None)


def _answerable(c: Challenge) -> bool:
    if c.scheme == "basic":
        return True
    qops = _qops(c)
    return "nonce" in c.params and "realm" in c.params and (qops is None or "auth" in qops)


def _qops(c: Challenge) -> list[str] | None:
    raw = c.params.get("qop")
    return None if raw is None else [q.strip().lower() for q in raw.split(",")]


def digest_response(algorithm: str, user: str, realm: str, password: str, method: str,
                    uri: str, nonce: str, nc: str = "", cnonce: str = "", qop: str = "",
                    sess: bool = False) -> str:
    """The Digest ``response`` value (RFC 7616 §3.4.1; without ``qop`` RFC 2069's form)."""
    h = HASHES[algorithm]

    def hexdigest(text: str) -> str:
        return h(text.encode("utf-8")).hexdigest()

    ha1 = hexdigest(f"{user}:{realm}:{password}")
    if sess:
        ha1 = hexdigest(f"{ha1}:{nonce}:{cnonce}")
    ha2 = hexdigest(f"{method}:{uri}")
    if qop:
        return hexdigest(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    return hexdigest(f"{ha1}:{nonce}:{ha2}")


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Authenticator:
    """Answers one camera's chosen challenge on every later request of a session.

    ``authorization(method, uri)`` gives the header value for the next request;
    Digest counts ``nc`` up per request, as RFC 7616 asks for a reused nonce.
    """

    def __init__(self, credentials: Credentials, challenge: Challenge,
                 cnonce: str | None = None) -> None:
        self.credentials = credentials
        self.challenge = challenge
        self._cnonce = cnonce or base64.b64encode(os.urandom(12)).decode("ascii")
        self._nc = 0

    @property
    def scheme(self) -> str:
        """"Digest SHA-256", "Digest MD5" or "Basic", for details (no secret in it)."""
        c = self.challenge
        return f"Digest {c.algorithm}" if c.scheme == "digest" else "Basic"

    def authorization(self, method: str, uri: str) -> str:
        """The ``Authorization`` header value for ``method uri``."""
        user, password = self.credentials.user, self.credentials.password
        c = self.challenge
        if c.scheme == "basic":
            return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        p = c.params
        algorithm = p.get("algorithm", "MD5")
        sess = algorithm.upper().endswith("-SESS")
        qops = _qops(c)
        qop = "auth" if qops is not None else ""
        self._nc += 1
        nc = f"{self._nc:08x}"
        response = digest_response(c.algorithm, user, p["realm"], password, method, uri,
                                   p["nonce"], nc, self._cnonce, qop, sess)
        parts = [f"username={_quoted(user)}", f"realm={_quoted(p['realm'])}",
                 f"nonce={_quoted(p['nonce'])}", f"uri={_quoted(uri)}",
                 f"response={_quoted(response)}"]
        if "algorithm" in p:
            parts.append(f"algorithm={algorithm}")
        if "opaque" in p:
            parts.append(f"opaque={_quoted(p['opaque'])}")
        if qop:
            parts += [f"qop={qop}", f"nc={nc}", f"cnonce={_quoted(self._cnonce)}"]
        return "Digest " + ", ".join(parts)


def offered(challenges: list[Challenge]) -> str:
    """The schemes a camera offered, for a detail when none can be answered."""
    names = [f"{c.scheme.title()} {c.params.get('algorithm', '')}".strip() for c in challenges]
    text = ", ".join(names[:4]) or "no challenge"
    return "".join(ch if ch.isprintable() else "?" for ch in text[:80])  # camera's words
