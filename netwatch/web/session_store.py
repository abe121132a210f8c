"""Browser sessions: which token a session cookie stands for, and its CSRF token.

A session id is 32 random bytes; only its SHA-256 is kept, so the table holds nothing
a client could present. A session stores the token's public id, never the token: the
auth middleware re-checks that id against the token store on every use, so revoking
the token ends its sessions at once. A session ends ``idle`` seconds after its last
use or ``max_age`` seconds after login, whichever comes first; at most
``max_sessions`` are kept, the least recently used dropped first.

Sessions live in memory and, given a ``Store``, also in its ``sessions`` table (this
module is that table's owner), so a daemon restart does not log a field tester out
mid-survey. The table is written when a session opens or ends, and its last use at
most every ``SAVE_USE_EVERY`` seconds (idle expiry is coarse by that much, never a
write per request).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from itertools import takewhile
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from netwatch.store import Store

IDLE = 12 * 3600.0
MAX_AGE = 7 * 24 * 3600.0
MAX_SESSIONS = 10_000
ID_BYTES = 32
COOKIE_MAX = 64  # longest cookie value worth hashing (ours are 43 characters)
SAVE_USE_EVERY = 60.0  # seconds between writes of a session's last use


@dataclass(slots=True)
class Session:
    """One logged-in browser."""

    token_id: str
    csrf: str  # sent back with every unsafe request made by cookie
    created: float
    used: float
    saved: float = 0.0  # the last use as the table has it


def _digest(cookie: str) -> str:
    return hashlib.sha256(cookie.encode("utf-8", "replace")).hexdigest()


def _random_text() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(ID_BYTES)).decode("ascii").rstrip("=")


class SessionStore:
    """Sessions by the hash of their cookie; not thread-safe (used from the event loop)."""

    __slots__ = ("clock", "idle", "max_age", "max_sessions", "store", "_sessions")

    def __init__(self, idle: float = IDLE, max_age: float = MAX_AGE,
                 max_sessions: int = MAX_SESSIONS,
                 clock: Callable[[], float] = time.time, store: Store | None = None) -> None:
        if idle <= 0 or max_age <= 0 or max_sessions < 1:
            raise ValueError(f"sessions: idle {idle} s, max age {max_age} s, "
                             f"{max_sessions} sessions: expected positive numbers")
        self.idle = idle
        self.max_age = max_age
        self.max_sessions = max_sessions
        self.clock = clock
        self.store = store
        self._sessions: OrderedDict[str, Session] = OrderedDict()  # least recently used first

    def open(self, token_id: str) -> tuple[str, Session]:
        """A new session for a verified token: the cookie value (shown once) and the session."""
        now = self.clock()
        self._forget_idle(now)
        while len(self._sessions) >= self.max_sessions:
            self._forget(self._sessions.popitem(last=False)[0])
        cookie = _random_text()
        session = Session(token_id, _random_text(), now, now, now)
        key = _digest(cookie)
        self._sessions[key] = session
        if self.store is not None:
            with self.store.transaction() as tx:
                tx.execute("INSERT INTO sessions (id_hash, token_id, csrf, created, used) "
                             "VALUES (?, ?, ?, ?, ?)", (key, token_id, session.csrf, now, now))
        return cookie, session

    def get(self, cookie: str) -> Session | None:
        """The live session a cookie names (its use renews the idle time), or None."""
        if not cookie or len(cookie) > COOKIE_MAX:
            return None
        key = _digest(cookie)
        session = self._sessions.get(key) or self._restore(key)
        if session is None:
            return None
        now = self.clock()
        if now - session.used >= self.idle or now - session.created >= self.max_age:
            self._sessions.pop(key, None)
            self._forget(key)
            return None
        session.used = now
        self._sessions.move_to_end(key)
        if self.store is not None and now - session.saved >= SAVE_USE_EVERY:
            with self.store.transaction() as tx:
                tx.execute("UPDATE sessions SET used = ? WHERE id_hash = ?", (now, key))
            session.saved = now
        return session

    def close(self, cookie: str) -> None:
        """End a session (logout, or its token was revoked)."""
        if cookie and len(cookie) <= COOKIE_MAX:
            key = _digest(cookie)
            self._sessions.pop(key, None)
            self._forget(key)

    def _restore(self, key: str) -> Session | None:
        """A session the table has and memory has not (opened before a restart)."""
        if self.store is None:
            return None
        row = self.store.one("SELECT token_id, csrf, created, used FROM sessions "
                             "WHERE id_hash = ?", (key,))
        if row is None:
            return None
        session = Session(row["token_id"], row["csrf"], row["created"], row["used"],
                          row["used"])
        self._sessions[key] = session
        return session

    def _forget(self, key: str) -> None:
        if self.store is not None:
            with self.store.transaction() as tx:
                tx.execute("DELETE FROM sessions WHERE id_hash = ?", (key,))

    def _forget_idle(self, now: float) -> None:
        """Drop sessions idle too long: they are the least recently used, so they come first."""
        stale = [key for key, _ in takewhile(lambda item: now - item[1].used >= self.idle,
                                             self._sessions.items())]
        for key in stale:
            del self._sessions[key]
        if self.store is not None:  # also those of earlier runs that were never used again
            with self.store.transaction() as tx:
                tx.execute("DELETE FROM sessions WHERE used <= ? OR created <= ?",
                             (now - self.idle - SAVE_USE_EVERY, now - self.max_age))

    def __len__(self) -> int:
        return len(self._sessions)
