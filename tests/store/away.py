"""A store that is away, for tests: another connection holds the write lock, and the
daemon's store gives up on it at once rather than after its 5 s busy timeout."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from netwatch.store import Store, StoreThread

QUICK_BUSY_MS = 50


def quick(path: Path) -> Store:
    """The store as the daemon opens it, but waiting only briefly for a lock."""
    store = Store.open(path)
    store.conn.execute(f"PRAGMA busy_timeout = {QUICK_BUSY_MS}")
    return store


def quick_thread(path: Path) -> StoreThread:
    """The daemon's database thread on ``quick``'s store, started."""
    db = StoreThread(path, lambda: quick(path))
    db.start()
    return db


class Lock:
    """Another connection holding the database's write lock until ``release``."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("BEGIN EXCLUSIVE")

    def release(self) -> None:
        self.conn.execute("ROLLBACK")
        self.conn.close()
