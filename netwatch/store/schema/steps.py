"""What a migration is made of: SQL statements, or functions of the connection for data changes."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

Step = str | Callable[[sqlite3.Connection], None]
Migration = tuple[Step, ...]
