"""API tokens (docs/security.md): created once, stored only as SHA-256, verified in constant time.

A token is ``nw_`` + 32 random bytes in unpadded URL-safe base64. The store keeps
its SHA-256 (hex) and a short public id for listing and revoking; the token itself
is returned once by ``create`` and never stored, logged or put in an error.
``verify`` finds the row by the presented token's hash (an index lookup reveals
nothing: the attacker controls the token, not its hash) and then compares the
hashes with ``hmac.compare_digest``. Revocation is read from the database on every
verification, so ``netwatch token revoke`` in another process takes effect at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field

from netwatch.store.store import IntegrityError, OperationalError, Row, Store
from netwatch.vocab import Role

log = logging.getLogger(__name__)

ROLES: tuple[Role, ...] = tuple(Role)
UNSCOPED = (Role.ADMIN, Role.METRICS)  # roles that take no --county
PREFIX = "nw_"
TOKEN_BYTES = 32
TOKEN_RE = re.compile(r"nw_[A-Za-z0-9_-]{43}")
TOUCH_INTERVAL = 60.0  # seconds between writes of a token's last_used_at
NAME_MAX = 100


class TokenError(ValueError):
    """A token cannot be created or revoked as asked; the message says why."""


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """Who a verified token speaks for."""

    id: str
    role: str
    counties: frozenset[str]
    name: str | None

    def can_see(self, county: str) -> bool:
        """Admins see every county; county and tester tokens only their own; metrics none."""
        return self.role == Role.ADMIN or county in self.counties


@dataclass(frozen=True, slots=True)
class NewToken:
    """A token just created: the only time its text exists."""

    token: str = field(repr=False)
    info: TokenInfo


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """A stored token as ``token list`` shows it (never the token or its hash)."""

    id: str
    role: str
    counties: tuple[str, ...]
    name: str | None
    created_at: float
    last_used_at: float | None
    revoked_at: float | None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def new_token_text() -> str:
    raw = secrets.token_bytes(TOKEN_BYTES)
    return PREFIX + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def check_scope(role: str, counties: Iterable[str],
                known_counties: Collection[str] | None) -> tuple[str, ...]:
    """The token's counties, sorted; errors name the role or county that is wrong."""
    if role not in ROLES:
        raise TokenError(f"role {role!r}: expected one of {', '.join(ROLES)}")
    wanted = sorted({c.strip() for c in counties})
    if "" in wanted:
        raise TokenError("county: empty name")
    if role in UNSCOPED:
        if wanted:
            raise TokenError("an admin token sees every county: give no --county"
                             if role == Role.ADMIN else
                             "a metrics token reads /metrics only: give no --county")
        return ()
    if not wanted:
        raise TokenError(f"a {role} token needs at least one --county")
    if known_counties is not None:
        unknown = [c for c in wanted if c not in known_counties]
        if unknown:
            raise TokenError(f"unknown county {', '.join(unknown)} "
                             f"(known: {', '.join(sorted(known_counties))})")
    return tuple(wanted)


def _check_name(name: str | None) -> str | None:
    if name is None or not name.strip():
        return None
    name = name.strip()
    if len(name) > NAME_MAX or any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise TokenError(f"name: at most {NAME_MAX} printable characters")
    return name


def _info(row: Row) -> TokenInfo:
    return TokenInfo(row["id"], row["role"], frozenset(json.loads(row["counties"])), row["name"])


def _record(row: Row) -> TokenRecord:
    return TokenRecord(row["id"], row["role"], tuple(json.loads(row["counties"])), row["name"],
                       row["created_at"], row["last_used_at"], row["revoked_at"])


class TokenStore:
    """Creates, verifies, lists and revokes tokens in the ``tokens`` table."""

    __slots__ = ("clock", "store", "touch_interval", "_touched")

    def __init__(self, store: Store, *, clock: Callable[[], float] = time.time,
                 touch_interval: float = TOUCH_INTERVAL) -> None:
        self.store = store
        self.clock = clock
        self.touch_interval = touch_interval
        self._touched: dict[str, float] = {}  # token id → when last_used_at was last written

    def create(self, role: str, counties: Iterable[str], *, name: str | None = None,
               known_counties: Collection[str] | None = None) -> NewToken:
        """Make a token; only its hash is stored, so the caller must show it now."""
        scope = check_scope(role, counties, known_counties)
        name = _check_name(name)
        for _ in range(5):  # a clash of 8-hex-digit ids is rare; try another
            token = new_token_text()
            token_id = secrets.token_hex(4)
            try:
                with self.store.transaction(durable=True) as tx:
                    tx.execute(
                        "INSERT INTO tokens (id, hash, role, counties, name, created_at) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        (token_id, hash_token(token), role, json.dumps(scope), name,
                         self.clock()),
                    )
            except IntegrityError:
                continue
            return NewToken(token, TokenInfo(token_id, role, frozenset(scope), name))
        raise TokenError("could not find a free token id; try again")

    def verify(self, presented: str) -> TokenInfo | None:
        """The token's holder, or None for a malformed, unknown or revoked token."""
        if not isinstance(presented, str) or not TOKEN_RE.fullmatch(presented):
            return None
        digest = hash_token(presented)
        row = self.store.one(
            "SELECT id, hash, role, counties, name, revoked_at FROM tokens WHERE hash = ?",
            (digest,))
        if row is None or not hmac.compare_digest(row["hash"], digest):
            return None
        if row["revoked_at"] is not None:
            return None
        self._touch(row["id"])
        return _info(row)

    def current(self, token_id: str) -> TokenInfo | None:
        """The holder of a token id still valid: browser sessions re-check their token with it."""
        row = self.store.one(
            "SELECT id, role, counties, name FROM tokens WHERE id = ? AND revoked_at IS NULL",
            (token_id,))
        if row is None:
            return None
        self._touch(row["id"])
        return _info(row)

    def _touch(self, token_id: str) -> None:
        """Record use at most once per ``touch_interval`` per token, to keep writes rare."""
        now = self.clock()
        last = self._touched.get(token_id)
        if last is not None and now - last < self.touch_interval:
            return
        self._touched[token_id] = now
        try:
            with self.store.transaction() as tx:
                tx.execute("UPDATE tokens SET last_used_at = ? WHERE id = ?", (now, token_id))
        except OperationalError as exc:  # busy or read-only: the use still counts
            log.warning("token %s: last use not recorded: %s", token_id, exc)

    def records(self) -> list[TokenRecord]:
        """Every token, oldest first, revoked ones included."""
        rows = self.store.query(
            "SELECT id, role, counties, name, created_at, last_used_at, revoked_at "
            "FROM tokens ORDER BY created_at, id")
        return [_record(r) for r in rows]

    def revoke(self, token_id: str) -> tuple[TokenRecord, bool]:
        """Revoke by public id; returns the record and False if it was already revoked."""
        with self.store.transaction(durable=True) as tx:
            cur = tx.execute("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at "
                             "IS NULL", (self.clock(), token_id))
            row = tx.one(
                "SELECT id, role, counties, name, created_at, last_used_at, revoked_at "
                "FROM tokens WHERE id = ?", (token_id,))
        if row is None:
            raise TokenError(f"no token with id {token_id!r}")
        return _record(row), cur.rowcount == 1
