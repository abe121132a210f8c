"""Browser sessions: which token a session cookie stands for, and its CSRF token.

A session id is 32 random bytes; only its SHA-256 is kept, so the table holds nothing
a client could present. A session stores the token's public id, never the token: the
auth middleware re-checks that id against the token store on every use, so revoking
the token ends its sessions at once. A session ends ``idle`` seconds after its last
use or ``max_age`` seconds after login, whichever comes first; at most
``max_sessions`` are kept, the least recently used dropped first.

Sessions live in memory and, given the database thread, also in the store's ``sessions``
table (this module is that table's owner; its writes run on that thread, never on the
event loop), so a daemon restart does not log a field tester out mid-survey. The table
is written when a session opens or ends, and its last use at most every
``SAVE_USE_EVERY`` seconds (idle expiry is coarse by that much, never a write per
request). A login or logout whose write fails (the store away) fails with it; a session's
last use or an expired session's removal that cannot be written now is left for later.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import islice, takewhile

from netwatch.store import OperationalError, Row, Store, StoreThread

log = logging.getLogger(__name__)

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


def _opened(store: Store, key: str, session: Session, gone: Sequence[str], idle_before: float,
            created_before: float) -> None:
    """A new session's row, the rows of those it pushed out, and the rows idle or too old
    (also those of earlier runs that were never used again): one transaction."""
    with store.transaction() as tx:
        tx.executemany("DELETE FROM sessions WHERE id_hash = ?", [(k,) for k in gone])
        tx.execute("DELETE FROM sessions WHERE used <= ? OR created <= ?",
                   (idle_before, created_before))
        tx.execute("INSERT INTO sessions (id_hash, token_id, csrf, created, used) "
                   "VALUES (?, ?, ?, ?, ?)",
                   (key, session.token_id, session.csrf, session.created, session.used))


def _row(store: Store, key: str) -> Row | None:
    return store.one("SELECT token_id, csrf, created, used FROM sessions WHERE id_hash = ?",
                     (key,))


def _used(store: Store, key: str, now: float) -> None:
    with store.transaction() as tx:
        tx.execute("UPDATE sessions SET used = ? WHERE id_hash = ?", (now, key))


def _ended(store: Store, key: str) -> None:
    with store.transaction() as tx:
        tx.execute("DELETE FROM sessions WHERE id_hash = ?", (key,))


class SessionStore:
    """Sessions by the hash of their cookie; not thread-safe (used from the event loop)."""

    __slots__ = ("clock", "db", "idle", "max_age", "max_sessions", "_opening", "_sessions")

    def __init__(self, idle: float = IDLE, max_age: float = MAX_AGE,
                 max_sessions: int = MAX_SESSIONS,
                 clock: Callable[[], float] = time.time, db: StoreThread | None = None) -> None:
        if idle <= 0 or max_age <= 0 or max_sessions < 1:
            raise ValueError(f"sessions: idle {idle} s, max age {max_age} s, "
                             f"{max_sessions} sessions: expected positive numbers")
        self.idle = idle
        self.max_age = max_age
        self.max_sessions = max_sessions
        self.clock = clock
        self.db = db
        self._sessions: OrderedDict[str, Session] = OrderedDict()  # least recently used first
        self._opening = asyncio.Lock()  # one login's write at a time: the cap holds

    async def open(self, token_id: str) -> tuple[str, Session]:
        """A new session for a verified token: the cookie value (shown once) and the session."""
        async with self._opening:
            now = self.clock()
            stale = [key for key, _ in takewhile(lambda item: now - item[1].used >= self.idle,
                                                 self._sessions.items())]
            over = len(self._sessions) - len(stale) - self.max_sessions + 1
            pushed = list(islice(self._sessions, len(stale), len(stale) + max(over, 0)))
            cookie = _random_text()
            session = Session(token_id, _random_text(), now, now, now)
            key = _digest(cookie)
            if self.db is not None:
                await self.db.call(_opened, key, session, pushed,
                                   now - self.idle - SAVE_USE_EVERY, now - self.max_age)
            for gone in stale + pushed:
                self._sessions.pop(gone, None)
            self._sessions[key] = session
            return cookie, session

    async def get(self, cookie: str) -> Session | None:
        """The live session a cookie names (its use renews the idle time), or None."""
        if not cookie or len(cookie) > COOKIE_MAX:
            return None
        key = _digest(cookie)
        session = self._sessions.get(key) or await self._restore(key)
        if session is None:
            return None
        now = self.clock()
        if now - session.used >= self.idle or now - session.created >= self.max_age:
            self._sessions.pop(key, None)
            await self._forget(key, strict=False)
            return None
        session.used = now
        if key in self._sessions:
            self._sessions.move_to_end(key)
        if self.db is not None and now - session.saved >= SAVE_USE_EVERY:
            saved, session.saved = session.saved, now  # one write, however many requests
            try:
                await self.db.call(_used, key, now)
            except OperationalError as exc:
                session.saved = saved
                log.warning("a session's last use not recorded (again at its next use): %s",
                            exc)
        return session

    async def close(self, cookie: str) -> None:
        """End a session (logout, or its token was revoked)."""
        if cookie and len(cookie) <= COOKIE_MAX:
            key = _digest(cookie)
            self._sessions.pop(key, None)
            await self._forget(key, strict=True)

    async def _restore(self, key: str) -> Session | None:
        """A session the table has and memory has not (opened before a restart)."""
        if self.db is None:
            return None
        row = await self.db.call(_row, key)
        if row is None:
            return None
        session = self._sessions.get(key) or Session(
            row["token_id"], row["csrf"], row["created"], row["used"], row["used"])
        self._sessions[key] = session
        return session

    async def _forget(self, key: str, *, strict: bool) -> None:
        """Remove the row; an expired one may wait (the next login removes it anyway)."""
        if self.db is None:
            return
        try:
            await self.db.call(_ended, key)
        except OperationalError as exc:
            if strict:
                raise
            log.warning("an expired session's row not removed yet: %s", exc)

    def __len__(self) -> int:
        return len(self._sessions)
