"""Accepting survey readings: all or nothing, idempotent, on disk before the answer (docs/api.md).

``prepare`` is pure: it validates every row, fixes each reading's county and
checks it against the submitter's scope, and raises ``IngestError`` (invalid, outside the scope)
naming every bad row. ``store_readings`` writes the batch in one durable
transaction (``synchronous=FULL`` for its commit). The idempotency key is
``(tester, client_id)``, or ``(tester, sha256:…)`` of the canonical normalised body
when the client sent no id: resubmitting the same reading returns its stored id,
the same key with another body is a conflict and nothing of the batch is stored.
``readings_received`` counts newly stored readings per county.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from netwatch.inventory import Inventory
from netwatch.store import Store
from netwatch.survey.places import places_for
from netwatch.survey.readings import add, count_received, find
from netwatch.survey.validate import HASH_PREFIX, Known, Reading, validate_reading

SOURCES = ("api", "form", "import")


@dataclass(frozen=True, slots=True)
class RowError:
    row: int  # index in the submitted array, or the CSV's row number
    field: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "reason": self.reason}


class Refusal(StrEnum):
    """Why a batch is refused as a whole; the web layer maps each to its HTTP status."""

    INVALID = "invalid"  # a row failed validation
    OUTSIDE_SCOPE = "outside_scope"  # a row's county is outside the submitter's scope
    CONFLICT = "conflict"  # an idempotency key came back with a different body


class IngestError(Exception):
    """The batch is refused as a whole; ``refusal`` says why and ``problems`` which rows."""

    def __init__(self, refusal: Refusal, error: str, problems: Sequence[RowError]) -> None:
        super().__init__(error)
        self.refusal = refusal
        self.error = error
        self.problems = list(problems)


@dataclass(frozen=True, slots=True)
class Accepted:
    """A valid reading with what storing it needs."""

    row: int
    reading: Reading
    county: str
    body_hash: str

    @property
    def idem_key(self) -> str:
        return self.reading.client_id or HASH_PREFIX + self.body_hash


def body_hash(reading: Reading) -> str:
    """SHA-256 of the canonical JSON of the normalised reading."""
    text = json.dumps(reading.canonical(), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def prepare(inventory: Inventory, rows: Sequence[object], now: float, *,
            allowed: Collection[str] | None = None, row_numbers: Sequence[int] | None = None,
            default_datum: str = "wgs84") -> list[Accepted]:
    """Validate and place every row; ``allowed`` are the counties the submitter may write."""
    numbers = list(row_numbers) if row_numbers is not None else list(range(len(rows)))
    known, places = Known.of(inventory), places_for(inventory)
    accepted: list[Accepted] = []
    invalid: list[RowError] = []
    for number, raw in zip(numbers, rows, strict=True):
        result = validate_reading(raw, inventory, now, known, default_datum)
        if isinstance(result, list):
            invalid += [RowError(number, f, r) for f, r in result]
            continue
        point = known.points.get(result.point) if result.point else None
        county = point.county if point else places.county_at(result.lat, result.lon)
        if county is None:
            invalid.append(RowError(number, "lat", "not within any county of the inventory"))
            continue
        accepted.append(Accepted(number, result, county, body_hash(result)))
    if invalid:
        raise IngestError(Refusal.INVALID, "invalid readings", invalid)
    if allowed is not None:
        outside = [RowError(a.row, "point" if a.reading.point else "lat",
                            f"county {a.county} is outside this token's scope")
                   for a in accepted if a.county not in allowed]
        if outside:
            raise IngestError(Refusal.OUTSIDE_SCOPE, "county outside this token's scope", outside)
    return accepted


def store_readings(store: Store, tester: str, accepted: Sequence[Accepted], source: str,
                   now: float) -> list[int]:
    """Store the batch durably; an exact resubmission gets its stored ids back."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    if not tester:
        raise ValueError("a reading needs a tester")
    ids: list[int] = []
    conflicts: list[RowError] = []
    seen: dict[str, tuple[int, str]] = {}
    added: Counter[str] = Counter()
    with store.transaction(durable=True) as tx:
        for a in accepted:
            key = a.idem_key
            found = seen.get(key) or find(tx, tester, key)
            if found is None:
                found = (add(tx, tester, key, a.body_hash, a.county, a.reading, source, now),
                         a.body_hash)
                added[a.county] += 1
            elif found[1] != a.body_hash:
                conflicts.append(RowError(a.row, "client_id",
                                          "this client_id was used for a different reading"))
            seen[key] = found
            ids.append(found[0])
        if conflicts:
            raise IngestError(Refusal.CONFLICT, "idempotency key reused with a different body",
                              conflicts)
        count_received(tx, added)
    return ids


def ingest(store: Store, inventory: Inventory, tester: str, rows: Sequence[Mapping[str, Any]],
           source: str, now: float, *, allowed: Collection[str] | None = None,
           row_numbers: Sequence[int] | None = None, default_datum: str = "wgs84") -> list[int]:
    """Validate, place, scope-check and store a batch of readings; all or nothing."""
    accepted = prepare(inventory, rows, now, allowed=allowed, row_numbers=row_numbers,
                       default_datum=default_datum)
    return store_readings(store, tester, accepted, source, now)
