"""Notice numbers: one sequence per (prefix, year) for the whole city, never reused.

``allocate`` must run inside the issuing transaction (BEGIN IMMEDIATE), so the
number and the notice commit together or not at all; the ``notices`` table's
UNIQUE (prefix, year, seq) is the database's own guard.
"""

from __future__ import annotations

import sqlite3


def format_number(prefix: str, year: int, seq: int) -> str:
    """``{prefix}〔{year}〕{seq}号``: full year in 六角括号, no 第, no leading zeros."""
    return f"{prefix}〔{year}〕{seq}号"


def allocate(conn: sqlite3.Connection, prefix: str, year: int) -> int:
    """The next sequence number of (prefix, year), starting at 1 each year."""
    if not conn.in_transaction:
        raise RuntimeError("notice numbers are allocated inside the issuing transaction")
    row = conn.execute(
        "INSERT INTO notice_sequences (prefix, year, last_seq) VALUES (?, ?, 1) "
        "ON CONFLICT (prefix, year) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq",
        (prefix, year)).fetchone()
    return int(row[0])
