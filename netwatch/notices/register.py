"""The register of issued notices: each notice's immutable record and the items it listed.

This module owns the ``notices`` and ``notice_item_listings`` tables. Issuing
(``issue``) records a notice and its listings inside its own transaction; the web
pages, the command line, the outbox and the metrics read through the functions
here. A recorded notice never changes.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from netwatch.store import Handle, Row, Transaction


def latest(db: Handle) -> Row | None:
    """The last notice in date order (``issue_date``, ``number``), None before the first."""
    return db.one("SELECT issue_date, number FROM notices "
                  "ORDER BY issue_date DESC, id DESC LIMIT 1")


def issued_on(db: Handle, county: str, issue_date: str) -> tuple[int, str] | None:
    """The county's notice of that date (id, record JSON), None when none was issued."""
    row = db.one("SELECT id, record FROM notices WHERE county = ? AND issue_date = ?",
                 (county, issue_date))
    return None if row is None else (int(row["id"]), str(row["record"]))


def last_issue_date(db: Handle, county: str) -> str | None:
    """The date (YYYY-MM-DD) of the county's latest notice, None before its first."""
    day = db.scalar("SELECT max(issue_date) FROM notices WHERE county = ?", (county,))
    return None if day is None else str(day)


def record_notice(tx: Transaction, county: str, issue_date: str, prefix: str, year: int,
                  seq: int, number: str, issued_at: float, record: str) -> int:
    """Record an issued notice (its record as JSON); returns its id."""
    notice_id = tx.scalar(
        "INSERT INTO notices (county, issue_date, prefix, year, seq, number, issued_at, record) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (county, issue_date, prefix, year, seq, number, issued_at, record))
    return int(notice_id)


def list_items(tx: Transaction, notice_id: int,
               listed: Sequence[tuple[int, bool, bool]]) -> None:
    """Record which items the notice lists: (item id, carried from earlier, overdue)."""
    tx.executemany(
        "INSERT INTO notice_item_listings (notice_id, item_id, carried, overdue) "
        "VALUES (?, ?, ?, ?)",
        [(notice_id, item, int(carried), int(overdue)) for item, carried, overdue in listed])


def notice_by_id(db: Handle, notice_id: int) -> tuple[str, str] | None:
    """One notice's county and record JSON, None when there is no such notice."""
    row = db.one("SELECT county, record FROM notices WHERE id = ?", (notice_id,))
    return None if row is None else (str(row["county"]), str(row["record"]))


def records(db: Handle, ids: Collection[int]) -> dict[int, str]:
    """The record JSON of each notice named (those that exist)."""
    if not ids:
        return {}
    return {int(r[0]): str(r[1]) for r in db.execute(
        f"SELECT id, record FROM notices WHERE id IN ({', '.join('?' * len(ids))})",
        tuple(ids))}


def every_notice(db: Handle) -> list[Row]:
    """Every notice (``id``, ``county``, ``issue_date``, ``number``, ``record``), newest first."""
    return db.query("SELECT id, county, issue_date, number, record FROM notices "
                    "ORDER BY issue_date DESC, id DESC")


def county_notices(db: Handle, county: str) -> list[Row]:
    """The county's notices (``id``, ``number``, ``issue_date``), newest first."""
    return db.query("SELECT id, number, issue_date FROM notices WHERE county = ? "
                    "ORDER BY issue_date DESC, id DESC", (county,))


def listings(db: Handle, notice_id: int) -> list[Row]:
    """The items a notice listed (``item_id``, ``carried``, ``overdue``): new ones first,
    then by item id."""
    return db.query("SELECT item_id, carried, overdue FROM notice_item_listings "
                    "WHERE notice_id = ? ORDER BY carried, item_id", (notice_id,))


def issued_per_county(db: Handle) -> dict[str, tuple[int, float]]:
    """Per county with notices: how many were issued and when the latest was (Unix seconds)."""
    return {r[0]: (r[1], r[2]) for r in db.execute(
        "SELECT county, count(*), max(issued_at) FROM notices GROUP BY county")}
