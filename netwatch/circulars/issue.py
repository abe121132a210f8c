"""Issuing the month's circular: once, numbered and recorded in one transaction.

``issue_circular`` runs in one durable BEGIN IMMEDIATE transaction, so the command line
and the daemon (or two daemons) never issue at once: the month's circular already
issued is returned as it is (never a second number); otherwise the figures are read,
the next number of (circular prefix, issue year) is allocated in the notices' sequence
table, the immutable record is stored and its deliveries queued (a mail to every county,
the webhook), so an issued circular always goes out. A month not yet over is refused, and so is
issuing without the circular's prefix. Files are written after the commit by the
caller (``netwatch.circulars.files``), again when missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from netwatch.circulars.figures import month_figures, month_span, parse_month
from netwatch.circulars.record import CircularRecord, Recipient
from netwatch.circulars.register import circular_of_month, record_circular
from netwatch.circulars.rule import criticism_rule, mentions, praise_rule
from netwatch.inventory import Inventory
from netwatch.notices import allocate, enqueue_circular, format_number, iso, local_date
from netwatch.store import Store, Transaction


class CircularError(Exception):
    """Issuing was refused (the message says why); nothing was issued."""


@dataclass(frozen=True, slots=True)
class Issued:
    """The month's circular: its id, its record, and whether this call issued it."""

    circular_id: int
    record: CircularRecord
    created: bool


def issue_circular(store: Store, inventory: Inventory, month: str, now: float, *,
                   demonstration: bool = False) -> Issued:
    """The month's circular (``YYYY-MM``), issued now unless it already was."""
    try:
        year, number = parse_month(month)
    except ValueError as exc:
        raise CircularError(str(exc)) from None
    month = f"{year:04d}-{number:02d}"
    settings = inventory.notices
    zone = ZoneInfo(settings.timezone)
    start, end = month_span(year, number, zone)
    with store.transaction(durable=True) as tx:
        found = circular_of_month(tx, month)
        if found is not None:
            return Issued(found[0], CircularRecord.from_json(found[1]), False)
        if now < end:
            raise CircularError(f"month {month}: not over until {iso(end, zone)}; a circular "
                                "reports on a whole month")
        if not settings.circular.prefix:
            raise CircularError("notices.circular.prefix is not set: a circular needs its own "
                                "document number prefix (docs/inventory.md)")
        record = _record(tx, inventory, month, start, end, now, zone, demonstration)
        circular_id = record_circular(tx, month, record.prefix, record.year, record.seq,
                                      record.number, record.issue_date, now, record.to_json())
        enqueue_circular(tx, circular_id, inventory, now)
    return Issued(circular_id, record, True)


def _record(tx: Transaction, inventory: Inventory, month: str, start: float, end: float,
            now: float, zone: ZoneInfo, demonstration: bool) -> CircularRecord:
    """Read the month's figures, judge by the rule and number the record."""
    settings, circular = inventory.notices, inventory.notices.circular
    found = month_figures(tx, inventory, start, end, now)
    praised, criticised = mentions(found.rankings, found.counties, circular)
    day = local_date(now, zone)
    seq = allocate(tx, circular.prefix, day.year)
    return CircularRecord(
        number=format_number(circular.prefix, day.year, seq), prefix=circular.prefix,
        year=day.year, seq=seq, month=month, city=inventory.city,
        issuing_unit=settings.issuing_unit, header=settings.header or settings.issuing_unit,
        cc=settings.cc, contact=settings.contact, issue_date=day.isoformat(),
        issued_at=iso(now, zone), timezone=settings.timezone,
        period_start=iso(start, zone), period_end=iso(end, zone),
        recipients=tuple(Recipient(c.id, c.name, c.receiving_unit)
                         for c in inventory.counties.values()),
        rankings=found.rankings, counties=found.counties,
        praise_rule=praise_rule(circular), criticism_rule=criticism_rule(circular),
        praised=praised, criticised=criticised, demonstration=demonstration)
