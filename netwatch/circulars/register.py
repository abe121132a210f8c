"""The register of issued circulars: each month's immutable record.

This module owns the ``circulars`` table. Issuing records a circular inside its own
transaction (with its number and deliveries); the web pages, the command line, the
outbox and the metrics read through the functions here. A recorded circular never
changes: the table's UNIQUE (month) makes a second issue of a month impossible.
"""

from __future__ import annotations

from collections.abc import Collection

from netwatch.store import Handle, Row, Transaction

_LISTED = "id, month, number, issue_date, issued_at"


def record_circular(tx: Transaction, month: str, prefix: str, year: int, seq: int,
                    number: str, issue_date: str, issued_at: float, record: str) -> int:
    """Record an issued circular (its record as JSON); returns its id."""
    circular_id = tx.scalar(
        "INSERT INTO circulars (month, prefix, year, seq, number, issue_date, issued_at, "
        "record) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (month, prefix, year, seq, number, issue_date, issued_at, record))
    return int(circular_id)


def circular_of_month(db: Handle, month: str) -> tuple[int, str] | None:
    """The month's circular (id, record JSON), None when none was issued."""
    row = db.one("SELECT id, record FROM circulars WHERE month = ?", (month,))
    return None if row is None else (int(row["id"]), str(row["record"]))


def circular_by_id(db: Handle, circular_id: int) -> str | None:
    """One circular's record JSON, None when there is no such circular."""
    return db.scalar("SELECT record FROM circulars WHERE id = ?", (circular_id,))


def circular_records(db: Handle, ids: Collection[int]) -> dict[int, str]:
    """The record JSON of each circular named (those that exist): what the outbox sends."""
    if not ids:
        return {}
    return {int(r[0]): str(r[1]) for r in db.execute(
        f"SELECT id, record FROM circulars WHERE id IN ({', '.join('?' * len(ids))})",
        tuple(ids))}


def every_circular(db: Handle) -> list[Row]:
    """Every circular (``id``, ``month``, ``number``, ``issue_date``, ``issued_at``),
    newest month first."""
    return db.query(f"SELECT {_LISTED} FROM circulars ORDER BY month DESC")
