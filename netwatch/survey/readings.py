"""Stored survey readings and the per-county count of acceptances.

This module owns the ``readings`` and ``readings_received`` tables. Ingestion
stores batches through it inside its own durable transaction (``find``, ``add``,
``count_received``); the coverage analysis scans a time window (``window``), the
API pages through a tester's own readings (``page``), the demo checks what it has
already seeded (``idem_keys``), retention deletes old readings (``prune``) and the
metrics read the counter (``received``), which retention never touches.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from netwatch.store import Handle, Row, Store, Transaction
from netwatch.survey.validate import Reading

# the columns of ``window``'s tuples, in order
WINDOW_COLUMNS = ("point", "county", "lat", "lon", "taken_at", "technology", "rssi_dbm", "ber",
                  "rsrp_dbm", "sinr_db", "no_service", "serving_site")
# the columns of ``page``'s rows
PAGE_COLUMNS = ("id", "tester", "county", "point", "lat", "lon", "technology", "rssi_dbm", "ber",
                "rsrp_dbm", "sinr_db", "no_service", "serving_site", "note", "source",
                "taken_at", "received_at")


def find(db: Handle, tester: str, idem_key: str) -> tuple[int, str] | None:
    """The stored reading with this idempotency key: (id, body hash), None when there is none."""
    row = db.one("SELECT id, body_hash FROM readings WHERE tester = ? AND idem_key = ?",
                 (tester, idem_key))
    return (int(row[0]), str(row[1])) if row is not None else None


def add(tx: Transaction, tester: str, idem_key: str, body_hash: str, county: str, r: Reading,
        source: str, now: float) -> int:
    """Store one accepted reading; returns its id."""
    reading_id = tx.scalar(
        "INSERT INTO readings (tester, idem_key, body_hash, county, point, lat, lon, taken_at, "
        "technology, rssi_dbm, ber, rsrp_dbm, sinr_db, no_service, serving_site, note, source, "
        "received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (tester, idem_key, body_hash, county, r.point, r.lat, r.lon, r.taken_at,
         r.technology, r.rssi_dbm, r.ber, r.rsrp_dbm, r.sinr_db, int(r.no_service),
         r.serving_site, r.note, source, now))
    return int(reading_id)


def count_received(tx: Transaction, added: Mapping[str, int]) -> None:
    """Add newly stored readings to each county's count of acceptances."""
    tx.executemany(
        "INSERT INTO readings_received (county, total) VALUES (?, ?) "
        "ON CONFLICT (county) DO UPDATE SET total = readings_received.total + excluded.total",
        sorted(added.items()))


def readings_within(db: Handle, after: float, until: float) -> Iterator[tuple[Any, ...]]:
    """Readings taken in (after, until], as plain tuples of ``WINDOW_COLUMNS``, streamed."""
    return db.tuples(f"SELECT {', '.join(WINDOW_COLUMNS)} FROM readings "
                     "WHERE taken_at > ? AND taken_at <= ?", (after, until))


def newest_id(db: Handle) -> int | None:
    """The id of the latest stored reading (grows with every new one), None when none is."""
    newest = db.scalar("SELECT max(id) FROM readings")
    return None if newest is None else int(newest)


def readings_page(db: Handle, tester: str | None, limit: int, offset: int) -> tuple[int, list[Row]]:
    """How many readings there are and one page of them (``PAGE_COLUMNS``), newest first;
    ``tester`` None means everyone's."""
    where, args = ("", ()) if tester is None else ("WHERE tester = ?", (tester,))
    total = db.scalar(f"SELECT count(*) FROM readings {where}", args)
    rows = db.query(f"SELECT {', '.join(PAGE_COLUMNS)} FROM readings {where} "
                    "ORDER BY taken_at DESC, id DESC LIMIT ? OFFSET ?", (*args, limit, offset))
    return int(total), rows


def idem_keys(db: Handle, tester: str) -> set[str]:
    """The idempotency keys of the tester's stored readings."""
    return {r[0] for r in db.execute("SELECT idem_key FROM readings WHERE tester = ?", (tester,))}


def prune(store: Store, cutoff: float) -> int:
    """Delete readings taken before ``cutoff`` (the count of acceptances stays); returns how
    many."""
    with store.transaction() as tx:
        return tx.execute("DELETE FROM readings WHERE taken_at < ?", (cutoff,)).rowcount


def received(db: Handle) -> dict[str, int]:
    """Readings accepted so far, per county that has any."""
    return {r[0]: r[1] for r in db.execute("SELECT county, total FROM readings_received")}
