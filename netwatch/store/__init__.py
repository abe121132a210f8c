"""The SQLite store, the whole schema, and the tables the store itself owns.

``store`` opens the database (pragmas, transactions) and gives each table's owner
the ``Handle`` it runs its SQL on (see its docstring for what owners may rely on);
``schema`` is the ordered list of migrations, so opening a database needs no other
package; ``faultlog`` owns the fault episodes (they outlive a restart);
``tokens`` owns the API tokens (kept as hashes); ``backup`` copies and restores a
running store. The other tables' owners live in the packages that use them
(notices, survey readings, browser sessions, the monitor's and the daemon's
bookkeeping); each prunes its own rows when the daemon's retention duty asks.
"""

from __future__ import annotations

from netwatch.store.faultlog import Episode, FaultLog, FaultLogError, NewEpisode
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
    "check_scope",
]
