"""The SQLite store, the whole schema, and the tables the store itself owns.

``store`` opens the database (pragmas, transactions, the engine-neutral ``Handle``
owners run their SQL on) and runs the migrations of ``schema``; ``worker`` is the
daemon's database thread (``StoreThread``: every store call of async code runs there,
off the event loop, through a bounded queue, and it knows whether the store answers);
``faultlog`` owns
fault episodes so they outlive a restart; ``tokens`` owns API tokens (kept as hashes);
``backup`` copies and restores a running store, checking a backup's exact ``shape``
(tables, columns, indexes, no stray triggers) first. Every other table is owned by a
module of the package that uses it (see ``schema``).
"""

from __future__ import annotations

from netwatch.store.backup import BackupError, backup, restore
from netwatch.store.faultlog import (
    Episode,
    FaultLog,
    FaultLogError,
    NewEpisode,
    find_episodes,
    last_recovery,
    open_episodes,
    open_faults,
    open_mark,
    outages,
    prune_episodes,
)
from netwatch.store.schema import SCHEMA_VERSION
from netwatch.store.store import (
    DatabaseError,
    Handle,
    IntegrityError,
    OperationalError,
    Row,
    Store,
    StoreError,
    Transaction,
)
from netwatch.store.tokens import (
    ROLES,
    UNSCOPED,
    TokenError,
    TokenInfo,
    TokenRecord,
    TokenStore,
    check_scope,
)
from netwatch.store.worker import StoreStatus, StoreThread, StoreUnavailable

__all__ = [
    "ROLES", "SCHEMA_VERSION", "UNSCOPED", "BackupError", "DatabaseError", "Episode",
    "FaultLog", "FaultLogError", "Handle", "IntegrityError", "NewEpisode", "OperationalError",
    "Row", "Store", "StoreError", "StoreStatus", "StoreThread", "StoreUnavailable", "TokenError",
    "TokenInfo", "TokenRecord", "TokenStore", "Transaction", "backup", "check_scope",
    "find_episodes", "last_recovery", "open_episodes", "open_faults", "open_mark", "outages",
    "prune_episodes", "restore",
]
