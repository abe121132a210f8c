"""The delivery outbox: notices and circulars queued for e-mail and webhook, sent and retried.

``enqueue`` runs inside the issuing transaction (``issue.py``): one row per
configured channel, so an issued notice always has its deliveries and a re-run
adds none. ``deliver_due`` (a daemon job every ~30 s) sends what is due:

1. claim the due rows in one short transaction (attempt counted, the row leased
   for ``LEASE_SECONDS`` so a crash mid-send retries later rather than never);
2. send with no transaction open: the database write lock is never held while
   a network send is in flight. Each send has an overall deadline (the channel's
   ``deadline`` setting), and each channel its own ``CONCURRENCY`` slots, so a
   slow mail server neither holds a run for long nor delays a webhook;
3. settle each row in its own short transaction as soon as its send is done
   (not when the whole run is): ``sent``, or a retry after an exponential
   backoff with jitter (1 min doubling to 6 h), or ``failed`` once the delivery
   has been retried for ``GIVE_UP_AFTER_SECONDS``.

Everything is in the database, so retries survive restarts. A failed delivery
never touches the notice: its record and files stay. Delivery is at least once
(a crash after the send and before the settle sends again); webhook receivers
dedupe on ``X-Netwatch-Delivery``. Secrets (SMTP password, webhook secret, URL
credentials) are scrubbed from every error text before it is logged or stored.
STARTTLS trusts the system CA store (``SSL_CERT_FILE`` points it at a private CA).

A row delivers either a county's notice or the city's monthly circular (one row per
county's recipients, so each county's mail is retried and counted on its own). The
circulars live above this package, so the daemon hands ``deliver_due`` what sending
one takes (``CircularPost``); without it circular rows wait, untouched.

This module owns the ``deliveries`` table; the command line lists a notice's
deliveries and the retention duty prunes sent ones through it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import traceback
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import aiohttp

from netwatch.inventory import Inventory
from netwatch.metrics import Family, FamilySpec, labels
from netwatch.notices.links import with_links
from netwatch.notices.pdf import render_pdf
from netwatch.notices.record import NoticeRecord
from netwatch.notices.register import records
from netwatch.notices.smtp_send import DeliveryError, build_message, send_mail
from netwatch.notices.webhook_send import post_notice, url_label
from netwatch.store import Handle, Row, Store, StoreThread, Transaction

log = logging.getLogger(__name__)

CHANNELS = ("smtp", "webhook")
FIRST_RETRY_SECONDS = 60.0
MAX_RETRY_SECONDS = 6 * 3600.0
JITTER = 0.1  # ± this fraction of the delay, so retries of many rows do not stampede
GIVE_UP_AFTER_SECONDS = 7 * 86400.0
LEASE_SECONDS = 600.0  # longer than any send can take
BATCH = 50
CONCURRENCY = 4
ERROR_CHARS = 200
NO_RECIPIENTS = "(no recipients)"

PENDING = FamilySpec("netwatch_notice_deliveries_pending", "gauge",
                     "Notice and circular deliveries queued or waiting to retry, per channel.")
FAILURES = FamilySpec("netwatch_notice_delivery_failures_total", "counter",
                      "Notice and circular delivery attempts that failed, per channel.")


@dataclass(frozen=True, slots=True)
class CircularPost:
    """What sending a circular takes, from the package that owns circulars: their records
    (JSON) by id, the mail of one (record JSON, sender, recipients; blocking: it lays out
    the PDF) and the webhook body of one (record JSON, circular id, public URL)."""

    records: Callable[[Handle, Collection[int]], dict[int, str]]
    message: Callable[[str, str, Sequence[str]], EmailMessage]
    webhook_body: Callable[[str, int, str], bytes]


@dataclass(frozen=True, slots=True)
class Due:
    """A delivery claimed for an attempt, with its notice's or circular's record (JSON)."""

    id: int
    channel: str
    target: str
    attempts: int  # before this one
    created_at: float
    notice_id: int | None
    record: str
    circular_id: int | None = None


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What one ``deliver_due`` run did, in rows."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0


def recipients(inventory: Inventory, county: str) -> tuple[str, ...]:
    """The county's contacts' e-mails, then ``smtp.recipients``; each address once."""
    smtp = inventory.notices.smtp
    place = inventory.counties.get(county)
    found = [c.email for c in (place.contacts if place else ()) if c.email]
    found += list(smtp.recipients if smtp else ())
    seen: dict[str, str] = {}
    for address in found:
        seen.setdefault(address.strip().lower(), address.strip())
    return tuple(seen.values())


Queued = tuple[str, str, str, str | None]  # channel, target, state, error


def _mail_row(inventory: Inventory, county: str) -> Queued:
    to = recipients(inventory, county)
    if to:
        return ("smtp", ", ".join(to), "pending", None)
    return ("smtp", NO_RECIPIENTS, "failed",
            f"county {county} has no contact e-mail and smtp.recipients is empty")


def _rows(inventory: Inventory, counties: Iterable[str]) -> list[Queued]:
    """A mail per county (while smtp is enabled), then the webhook (while enabled)."""
    smtp, hook = inventory.notices.smtp, inventory.notices.webhook
    rows = [_mail_row(inventory, c) for c in counties] if smtp is not None and smtp.enabled \
        else []
    if hook is not None and hook.enabled:
        rows.append(("webhook", url_label(hook.url), "pending", None))
    return rows


def enqueue(tx: Transaction, notice_id: int, inventory: Inventory, county: str,
            now: float) -> None:
    """Queue the notice on every enabled channel (inside the caller's transaction)."""
    tx.executemany(
        "INSERT INTO deliveries (notice_id, channel, target, state, last_error, "
        "next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (notice_id, channel, target) DO NOTHING",
        [(notice_id, channel, target, state, error, now, now)
         for channel, target, state, error in _rows(inventory, (county,))])


def enqueue_circular(tx: Transaction, circular_id: int, inventory: Inventory,
                     now: float) -> None:
    """Queue the circular for every county (a mail each) and the webhook, inside the
    issuing transaction. Counties that share their recipients get one mail."""
    tx.executemany(
        "INSERT INTO deliveries (circular_id, channel, target, state, last_error, "
        "next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (circular_id, channel, target) DO NOTHING",
        [(circular_id, channel, target, state, error, now, now)
         for channel, target, state, error in _rows(inventory, sorted(inventory.counties))])


def retry_delay(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failed ones: 1 min doubling to 6 h, ±10 %."""
    base = min(FIRST_RETRY_SECONDS * 2 ** min(max(attempts - 1, 0), 30), MAX_RETRY_SECONDS)
    return base * (1 + random.uniform(-JITTER, JITTER))


def secrets_of(inventory: Inventory) -> tuple[str, ...]:
    """Every secret a delivery error could echo: passwords, keys, URL credentials and query."""
    smtp, hook = inventory.notices.smtp, inventory.notices.webhook
    found = [smtp.password if smtp else "", hook.secret if hook else ""]
    if hook is not None:
        parts = urlsplit(hook.url)
        found += [parts.password or "", unquote(parts.password or ""), parts.query]
    return tuple(s for s in found if s)


def scrub(text: str, secrets: Iterable[str], limit: int | None = ERROR_CHARS) -> str:
    """The text with every secret replaced and its length capped: safe for logs and the DB."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text[:limit]


async def deliver_due(db: StoreThread, inventory: Inventory, now: float | None = None,
                      executor: Executor | None = None,
                      circulars: CircularPost | None = None) -> DeliveryReport:
    """Send every delivery that is due, recording each outcome as it comes; see the module
    docstring. ``now`` (tests) fixes the clock; by default each outcome has its own time.
    Claims and outcomes are written on the database thread; PDFs are laid out and mail
    sent in ``executor`` (the daemon's own pool; None: the loop's default). Circulars'
    rows are sent only with ``circulars``."""
    fixed = now
    now = time.time() if now is None else now
    rows = await db.call(_claim, now, circulars)
    if not rows:
        return DeliveryReport()
    # each channel has its own slots: a slow mail server never holds a webhook back
    limits = {channel: asyncio.Semaphore(CONCURRENCY) for channel in CHANNELS}
    secrets = secrets_of(inventory)
    counts = {"sent": 0, "pending": 0, "failed": 0}

    async def attempt(row: Due) -> None:
        async with limits[row.channel]:
            try:
                note, error = await _send(row, inventory, session, executor, circulars), None
            except DeliveryError as exc:
                note, error = None, str(exc)
            except Exception as exc:  # a bug must not stop the other rows: record, retry
                trace = "".join(traceback.format_exception(exc))
                log.error("delivery %d: unexpected error: %s", row.id,
                          scrub(trace, secrets, limit=None))
                note, error = None, f"internal error ({type(exc).__name__})"
        # recorded as soon as this send is done, whatever the other rows are still doing
        finished = time.time() if fixed is None else fixed
        counts[await db.call(_settle, row, note, error, finished, secrets)] += 1

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(attempt(r) for r in rows))
    return DeliveryReport(counts["sent"], counts["pending"], counts["failed"])


_DUE = ("SELECT id, channel, target, attempts, created_at, notice_id, circular_id "
        "FROM deliveries WHERE state = 'pending' AND next_attempt_at <= ? "
        "AND (notice_id IS NOT NULL OR ?)")


def _claim(store: Store, now: float, circulars: CircularPost | None = None) -> list[Due]:
    """Take the due rows: count the attempt and lease them, in one short transaction."""
    sendable = (now, circulars is not None)
    if store.one(_DUE + " LIMIT 1", sendable) is None:
        return []  # the common case every 30 s: a read, no write lock
    with store.transaction() as tx:
        rows = tx.query(_DUE + " ORDER BY next_attempt_at, id LIMIT ?", (*sendable, BATCH))
        texts = records(tx, {r["notice_id"] for r in rows if r["notice_id"] is not None})
        circular_texts = {} if circulars is None else circulars.records(
            tx, {r["circular_id"] for r in rows if r["circular_id"] is not None})
        due = [Due(r["id"], r["channel"], r["target"], r["attempts"], r["created_at"],
                   r["notice_id"], text, r["circular_id"])
               for r in rows
               if (text := texts.get(r["notice_id"]) if r["notice_id"] is not None
                   else circular_texts.get(r["circular_id"])) is not None]
        tx.executemany(
            "UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?",
            [(now + LEASE_SECONDS, r.id) for r in due])
    return due


def _notice_message(text: str, sender: str, to: Sequence[str]) -> EmailMessage:
    """A notice's mail (blocking: it lays out the PDF)."""
    record = NoticeRecord.from_json(text)
    return build_message(record, sender, to, pdf=render_pdf(record))


async def _send(row: Due, inventory: Inventory, session: aiohttp.ClientSession,
                executor: Executor | None, circulars: CircularPost | None) -> str | None:
    """One attempt on the row's channel, with the configuration as it is now."""
    public_url = inventory.notices.public_url
    if row.channel == "smtp":
        smtp = inventory.notices.smtp
        if smtp is None or not smtp.enabled:
            raise DeliveryError("smtp: no longer configured in the inventory")
        to = row.target.split(", ")
        compose = _notice_message if circulars is None or row.circular_id is None \
            else circulars.message
        msg = await asyncio.get_running_loop().run_in_executor(
            executor, compose, row.record, smtp.sender, to)
        refused = await send_mail(smtp, to, msg, executor=executor)
        return f"refused by the server: {', '.join(refused)}" if refused else None
    hook = inventory.notices.webhook
    if hook is None or not hook.enabled:
        raise DeliveryError("webhook: no longer configured in the inventory")
    if row.notice_id is not None:
        body = with_links(row.record, row.notice_id, public_url).encode()
    else:
        assert circulars is not None and row.circular_id is not None  # claimed only so
        body = circulars.webhook_body(row.record, row.circular_id, public_url)
    await post_notice(hook, row.id, body, session=session, answer_within=hook.deadline)
    return None


def _settle(store: Store, row: Due, note: str | None, error: str | None, now: float,
            secrets: Sequence[str]) -> str:
    """Record one attempt's outcome; returns the row's new state."""
    what = "notice" if row.notice_id is not None else "circular"
    where = f"{what} delivery {row.id} ({row.channel} to {row.target})"
    attempts = row.attempts + 1
    if error is None:
        note = scrub(note, secrets) if note else None
        with store.transaction() as tx:
            tx.execute("UPDATE deliveries SET state = 'sent', sent_at = ?, last_error = ? "
                       "WHERE id = ?", (now, note, row.id))
        log.info("%s: sent (attempt %d)%s", where, attempts, f"; {note}" if note else "")
        return "sent"
    error = scrub(error, secrets)
    gave_up = now - row.created_at >= GIVE_UP_AFTER_SECONDS
    state = "failed" if gave_up else "pending"
    delay = retry_delay(attempts)
    with store.transaction() as tx:
        tx.execute("UPDATE deliveries SET state = ?, failures = failures + 1, last_error = ?, "
                   "next_attempt_at = ? WHERE id = ?",
                   (state, error, now + delay, row.id))
    if gave_up:
        log.error("%s: gave up after %d attempts: %s", where, attempts, error)
    else:
        log.warning("%s: attempt %d failed: %s; next try in %.0f s", where, attempts, error,
                    delay)
    return state


def outbox_families(store: Store) -> list[Family]:
    """Pending deliveries and failed attempts per channel; both channels always appear."""
    pending = dict.fromkeys(CHANNELS, 0)
    failures = dict.fromkeys(CHANNELS, 0)
    for channel, waiting, failed in store.execute(
            "SELECT channel, sum(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), sum(failures) "
            "FROM deliveries GROUP BY channel"):
        pending[channel], failures[channel] = waiting or 0, failed or 0
    families = [Family(PENDING), Family(FAILURES)]
    for channel in CHANNELS:
        label = labels((("channel", channel),))
        families[0].add(label, pending[channel])
        families[1].add(label, failures[channel])
    return families


_OF = "SELECT channel, target, state, attempts, last_error FROM deliveries WHERE "


def deliveries_of(db: Handle, notice_id: int) -> list[Row]:
    """A notice's deliveries in the order queued (``channel``, ``target``, ``state``,
    ``attempts``, ``last_error``)."""
    return db.query(_OF + "notice_id = ? ORDER BY id", (notice_id,))


def circular_deliveries_of(db: Handle, circular_id: int) -> list[Row]:
    """A circular's deliveries in the order queued, as ``deliveries_of``."""
    return db.query(_OF + "circular_id = ? ORDER BY id", (circular_id,))


def prune_sent(store: Store, cutoff: float) -> int:
    """Delete deliveries sent before ``cutoff`` at the first attempt (no failure to count);
    pending and failed ones, and those that needed retries, stay."""
    with store.transaction() as tx:
        return tx.execute(
            "DELETE FROM deliveries WHERE state = 'sent' AND failures = 0 AND sent_at < ?",
            (cutoff,)).rowcount
