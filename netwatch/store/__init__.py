"""The store (SQLite or PostgreSQL), the whole schema, and the tables the store itself owns.

``store`` opens the database (pragmas, transactions, the engine-neutral ``Handle``
owners run their SQL on) and runs the migrations of ``schema``; ``target`` says
whether ``--db`` names a SQLite file or a ``postgresql://`` URL (resolving its
``${NAME}`` references, masking its password); ``postgres`` is the same ``Handle``
API on PostgreSQL (a connection pool, ``?`` translated, rows by name and position)
and ``pg_schema`` its database checks, baseline and migrations; ``versions`` says
from which schema version to which a database was brought, ``copy`` moves every
row of a SQLite file into PostgreSQL and verifies each table; ``worker`` is the
daemon's database thread (``StoreThread``: every store call of async code runs there,
off the event loop, through a bounded queue, and it knows whether the store answers);
``faultlog`` owns
fault episodes so they outlive a restart; ``tokens`` owns API tokens (kept as hashes);
``backup`` copies and restores a running store, checking a backup's exact ``shape``
(tables, columns, indexes, no stray triggers) first. Every other table is owned by a
module of the package that uses it (see ``schema``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netwatch.runtime import lazy_face
from netwatch.store.backup import BackupError, backup, restore
from netwatch.store.faultlog import (
    Episode,
    FaultLog,
    FaultLogError,
    NewEpisode,
    find_episodes,
    first_seen_ever,
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
    Guard,
    Handle,
    IntegrityError,
    OperationalError,
    Row,
    Store,
    StoreError,
    Transaction,
)
from netwatch.store.target import PgUrl, Target, TargetError, is_url, parse_target
from netwatch.store.tokens import (
    ROLES,
    UNSCOPED,
    TokenError,
    TokenInfo,
    TokenRecord,
    TokenStore,
    check_scope,
)

if TYPE_CHECKING:  # loaded on first use: psycopg only when PostgreSQL is asked for, and
    # the database thread (asyncio) only in the daemon
    from netwatch.store.copy import CopyError, TableCopy, copy_to_postgres
    from netwatch.store.postgres import PgStore
    from netwatch.store.versions import current_version, migrate
    from netwatch.store.worker import StoreStatus, StoreThread, StoreUnavailable, guarded

_LAZY = {
    "copy": ("CopyError", "TableCopy", "copy_to_postgres"),
    "versions": ("current_version", "migrate"),
    "postgres": ("PgStore",),
    "worker": ("StoreStatus", "StoreThread", "StoreUnavailable", "guarded"),
}
__getattr__ = lazy_face(__name__, _LAZY)

__all__ = [
    "ROLES", "SCHEMA_VERSION", "UNSCOPED", "BackupError", "CopyError", "DatabaseError",
    "Episode", "FaultLog", "FaultLogError", "Guard", "Handle", "IntegrityError", "NewEpisode",
    "OperationalError", "PgStore", "PgUrl", "Row", "Store", "StoreError", "StoreStatus",
    "StoreThread", "StoreUnavailable", "TableCopy", "Target", "TargetError", "TokenError",
    "TokenInfo", "TokenRecord", "TokenStore", "Transaction", "backup", "check_scope",
    "copy_to_postgres", "current_version", "find_episodes", "first_seen_ever", "guarded",
    "is_url", "last_recovery", "migrate", "open_episodes", "open_faults", "open_mark", "outages",
    "parse_target", "prune_episodes", "restore",
]
