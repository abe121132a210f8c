"""The SQLite store and what netwatch keeps in it besides notices and readings.

``store`` opens the database (pragmas, transactions) and runs ``migrations``;
``faultlog`` records fault episodes so they outlive a restart; ``tokens``
keeps API tokens as hashes; ``retention`` prunes old closed episodes and
sent deliveries; ``backup`` copies and restores a running store. Notices and
readings keep their own tables in their packages, as migrations listed here.
"""

from __future__ import annotations

from netwatch.store.faultlog import Episode, FaultLog, FaultLogError, NewEpisode
from netwatch.store.retention import prune_deliveries, prune_fault_episodes
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

__all__ = [
    "ROLES", "SCHEMA_VERSION", "DatabaseError", "Episode", "FaultLog", "FaultLogError", "Handle",
    "IntegrityError", "NewEpisode", "OperationalError", "Row", "Store", "StoreError",
    "TokenError", "Transaction", "UNSCOPED", "TokenInfo", "TokenRecord", "TokenStore",
    "check_scope", "prune_deliveries", "prune_fault_episodes",
]
