"""Retention of closed fault episodes and sent deliveries, run by the daemon's prune duty."""

from __future__ import annotations

import time
from pathlib import Path

from netwatch.daemon import SweepScheduler
from netwatch.daemon.duties import Duties
from netwatch.inventory import InventoryError, load_inventory
from netwatch.notices.outbox import outbox_families
from netwatch.store import FaultLog, Store, StoreThread
from tests.daemon.test_scheduler import SlowMonitor
from tests.notices.city import DAY, fault
from tests.ops.daemon import INVENTORY

RETENTION = 'contact: "张警官 0000-00000000"'


def inventory(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "inventory.yaml"
    path.write_text(INVENTORY.replace(RETENTION, RETENTION + extra), encoding="utf-8")
    return path


def notice_with_item(store: Store, episode: int, now: float) -> int:
    with store.transaction() as conn:
        notice = conn.execute(
            "INSERT INTO notices (county, issue_date, prefix, year, seq, number, issued_at, "
            "record) VALUES ('east', '2026-01-05', 'P', 2026, 1, 'P〔2026〕1号', ?, '{}') "
            "RETURNING id", (now - 300 * DAY,)).fetchone()[0]
        conn.execute(
            "INSERT INTO notice_items (subject_type, subject, county, problem, name, kind, "
            "location, severity, state, close_reason, first_seen, created_at, closed_at, "
            "rectify_within_days, episode_id) VALUES ('device', 'cam-2', 'east', 'unreachable', "
            "'cam-2', 'camera', '', 'major', 'closed', 'verified', ?, ?, ?, 3, ?)",
            (now - 300 * DAY, now - 300 * DAY, now - 290 * DAY, episode))
    return int(notice)


def delivery(store: Store, notice: int, target: str, state: str, failures: int,
             sent_at: float | None) -> None:
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO deliveries (notice_id, channel, target, state, attempts, failures, "
            "next_attempt_at, created_at, sent_at) VALUES (?, 'webhook', ?, ?, ?, ?, 0, 0, ?)",
            (notice, target, state, failures + 1, failures, sent_at))


async def test_prune_keeps_what_is_open_referenced_recent_or_counted(tmp_path: Path) -> None:
    inv = load_inventory(inventory(tmp_path, ", fault_retention: 60d, delivery_retention: 10d"))
    assert (inv.notices.fault_retention_seconds, inv.notices.delivery_retention_seconds) == (
        60 * DAY, 10 * DAY)
    now = time.time()
    with Store.open(tmp_path / "netwatch.db") as store:
        log = FaultLog(store)
        old, cited, recent = (fault(store, d, now - 400 * DAY) for d in ("cam-1", "cam-2", "x"))
        log.apply([], [], [(old, now - 100 * DAY, "recovered"),
                           (cited, now - 100 * DAY, "recovered"),
                           (recent, now - 20 * DAY, "recovered")])
        still_open = fault(store, "cam-1", now - 400 * DAY)
        notice = notice_with_item(store, cited, now)
        delivery(store, notice, "old-clean", "sent", 0, now - 30 * DAY)
        delivery(store, notice, "old-retried", "sent", 2, now - 30 * DAY)
        delivery(store, notice, "recent", "sent", 0, now - 2 * DAY)
        delivery(store, notice, "failed", "failed", 5, None)
        failures_before = outbox_families(store)[1]
        db = StoreThread.open(tmp_path / "netwatch.db")
        try:
            await Duties(db, lambda: inv, tmp_path / "notices", SweepScheduler(
                SlowMonitor(), "Asia/Shanghai")).prune()  # type: ignore[arg-type]
        finally:
            db.close()
        ids = {r[0] for r in store.conn.execute("SELECT id FROM fault_episodes")}
        assert ids == {cited, recent, still_open}
        targets = {r[0] for r in store.conn.execute("SELECT target FROM deliveries")}
        assert targets == {"old-retried", "recent", "failed"}
        assert outbox_families(store)[1] == failures_before  # the failures counter holds


def test_fault_retention_shorter_than_recurrence_is_refused(tmp_path: Path) -> None:
    path = inventory(tmp_path, ", fault_retention: 20d, recurrence_window: 30d")
    try:
        load_inventory(path)
    except InventoryError as exc:
        assert "notices.fault_retention: must be at least the recurrence_window" in str(
            exc.problems[0])
    else:
        raise AssertionError("a fault retention below the recurrence window was accepted")
