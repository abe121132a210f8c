"""Notice numbers: one sequence per (prefix, year) for the whole city, never reused.

``allocate`` must run inside the issuing transaction (BEGIN IMMEDIATE), so the
number and the notice commit together or not at all; the ``notices`` table's
UNIQUE (prefix, year, seq) is the database's own guard. This module owns the
``notice_sequences`` table.
"""

from __future__ import annotations

from netwatch.store import Transaction


def format_number(prefix: str, year: int, seq: int) -> str:
    """``{prefix}〔{year}〕{seq}号``: full year in 六角括号, no 第, no leading zeros."""
    return f"{prefix}〔{year}〕{seq}号"


def allocate(tx: Transaction, prefix: str, year: int) -> int:
    """The next sequence number of (prefix, year), starting at 1 each year."""
    if not tx.active:
        raise RuntimeError("notice numbers are allocated inside the issuing transaction")
    seq = tx.scalar(
        "INSERT INTO notice_sequences (prefix, year, last_seq) VALUES (?, ?, 1) "
        "ON CONFLICT (prefix, year) DO UPDATE SET last_seq = notice_sequences.last_seq + 1 "
        "RETURNING last_seq", (prefix, year))
    return int(seq)
