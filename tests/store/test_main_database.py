"""A database written by the netwatch of before the tables had owners opens today.

``fixtures/main_v6.sql`` was dumped from a database that commit 78a0aa2's code wrote
(``fixtures/make_dump.py`` says how): fault episodes, tokens, a session, first
checks, a schedule run, readings, two days of notices with their items, listings,
numbers and deliveries. Today's store must open it with no row changed (the same
schema, plus what later migrations add: new empty tables), today's owners must read
it back as those rows say,
and today's writes must carry on from it (the next notice number, an idempotent
resubmission of a stored reading). The same dump copied into PostgreSQL by
``netwatch db copy`` holds every row unchanged (value and type), reads back through
the same owners, and carries on the same way.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from netwatch.daemon.runs import last_run
from netwatch.monitor.watched import monitored_since
from netwatch.notices.calendar import day_start
from netwatch.notices.issue import issue_notices
from netwatch.notices.items import (
    cited_episodes,
    current_items,
    item_county,
    open_per_county,
    to_report,
)
from netwatch.notices.metrics import notice_families
from netwatch.notices.outbox import deliveries_of, outbox_families
from netwatch.notices.record import NoticeRecord
from netwatch.notices.register import (
    county_notices,
    every_notice,
    issued_on,
    issued_per_county,
    last_issue_date,
    latest,
    listings,
    notice_by_id,
    records,
)
from netwatch.notices.summary import county_summary, figures
from netwatch.store import SCHEMA_VERSION, FaultLog, PgUrl, Store, TokenStore, copy_to_postgres
from netwatch.store.faultlog import last_recovery, open_episodes, open_faults, open_mark
from netwatch.survey.ingest import ingest
from netwatch.survey.metrics import survey_families
from netwatch.survey.readings import (
    PAGE_COLUMNS,
    WINDOW_COLUMNS,
    find,
    idem_keys,
    newest_id,
    readings_page,
    readings_within,
    received,
)
from tests.notices.city import at
from tests.store.fixtures.make_dump import READINGS, TESTER, notices_city
from tests.survey.city import NOW as SURVEY_NOW
from tests.survey.city import load_city

DUMP = Path(__file__).with_name("fixtures") / "main_v6.sql"
Tables = dict[str, list[tuple[object, ...]]]


def load(path: Path) -> Path:
    conn = sqlite3.connect(path)
    try:
        conn.executescript(DUMP.read_text(encoding="utf-8"))
    finally:
        conn.close()
    return path


def tables(path: Path) -> Tables:
    """Every table's rows in storage order (SQLite's own statistics left out)."""
    conn = sqlite3.connect(path)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                            "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {n: conn.execute(f'SELECT * FROM "{n}" ORDER BY rowid').fetchall() for n in names}
    finally:
        conn.close()


def schema(path: Path) -> list[tuple[str, str, str]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT type, name, sql FROM sqlite_master "
                            "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").fetchall()
    finally:
        conn.close()


def columns(path: Path, table: str) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
    finally:
        conn.close()


def pg_tables(url: PgUrl) -> Tables:
    """Every table's rows as PostgreSQL holds them (its own version table left out)."""
    with psycopg.connect(url.conninfo()) as conn:
        names = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename != 'schema_version' ORDER BY tablename")]
        return {n: conn.execute(f'SELECT * FROM "{n}"').fetchall() for n in names}


def same(rows: Tables) -> dict[str, list[str]]:
    """Rows in one order whatever the engine's, each value with its type (1 is not 1.0)."""
    return {t: sorted(repr(tuple((type(v).__name__, v) for v in r)) for r in rs)
            for t, rs in rows.items()}


@pytest.fixture(params=("sqlite", "postgresql"))
def main(request: pytest.FixtureRequest,
         tmp_path: Path) -> Iterator[tuple[Store, Callable[[], Tables]]]:
    """The dump opened as it is (SQLite), or copied into PostgreSQL by ``netwatch db copy``,
    with a reader of every table."""
    db = load(tmp_path / "netwatch.db")
    target: Any = db
    read: Callable[[], Tables] = lambda: tables(db)  # noqa: E731
    if request.param == "postgresql":
        target = request.getfixturevalue("pg_url")
        copy_to_postgres(db, target)
        read = lambda: pg_tables(target)  # noqa: E731
    with Store.open(target, create=False) as store:
        yield store, read


def test_the_dump_is_a_whole_database_of_every_table(tmp_path: Path) -> None:
    rows = tables(load(tmp_path / "main.db"))
    assert {n for n, r in rows.items() if not r} == set()  # every table holds something
    assert len(rows["notices"]) == 4 and len(rows["deliveries"]) == 8


# what the migrations after main's version 6 add: new, empty tables and their index only
ADDED_SINCE_V6 = {"monitoring_gaps", "watch_heartbeat", "ix_monitoring_gaps_ended", "leases",
                  "device_status", "ix_device_status_county", "warning_baselines",
                  "ix_warning_baselines_county", "device_warnings", "ix_device_warnings_county",
                  "declared_outages", "ix_declared_outages_county", "declared_outage_devices",
                  "ix_declared_outage_devices_device", "declared_outage_audit",
                  "ix_declared_outage_audit_outage", "circulars", "ix_deliveries_circular"}
# the tables among them, each empty after the migration
ADDED_TABLES: dict[str, list[tuple[object, ...]]] = {
    name: [] for name in sorted(ADDED_SINCE_V6) if not name.startswith("ix_")}
# tables a later migration widened on purpose, with the columns it appended (NULL in old rows)
WIDENED = {"deliveries": ("circular_id",)}


def migrated(before: Tables) -> Tables:
    """The rows a version-6 database holds after today's migrations: every row as it was
    (with NULL in the columns appended since), and the new tables empty."""
    kept = {n: [(*r, *(None,) * len(WIDENED.get(n, ()))) for r in rows]
            for n, rows in before.items()}
    return kept | ADDED_TABLES


def test_todays_schema_is_mains(tmp_path: Path) -> None:
    """The same tables, indexes and column definitions as a database today's code creates,
    besides what later migrations added."""
    main = load(tmp_path / "main.db")
    Store.open(tmp_path / "today.db").close()
    today = schema(tmp_path / "today.db")
    assert [s for s in schema(main) if s[1] not in WIDENED] == [
        s for s in today if s[1] not in ADDED_SINCE_V6 and s[1] not in WIDENED]
    assert {s[1] for s in today} - {s[1] for s in schema(main)} == ADDED_SINCE_V6
    for table, appended in WIDENED.items():
        assert columns(tmp_path / "today.db", table) == [*columns(main, table), *appended]


def test_opens_with_only_the_new_tables_added(tmp_path: Path) -> None:
    """Version 6 migrates to today's version: backed up first, every row kept as it was,
    the new tables empty."""
    db = load(tmp_path / "netwatch.db")
    before = tables(db)
    with Store.open(db, create=False) as store:
        assert store.version == SCHEMA_VERSION == 12
        read_everything(store, migrated(before), db)
    assert tables(db) == migrated(before)
    assert len(list(tmp_path.glob("netwatch.db.bak-v6-*"))) == 1


def test_a_copy_on_postgres_holds_every_row_and_reads_back_the_same(tmp_path: Path,
                                                                    pg_url: PgUrl) -> None:
    """``netwatch db copy`` moves every row of every table, each value with its type; the
    owners read the copy as they read the file, and reading changes nothing."""
    db = load(tmp_path / "netwatch.db")
    before = tables(db)
    copied = copy_to_postgres(db, pg_url)
    after = migrated(before)  # the migrations since 6 ran before the copy
    assert {c.table: c.rows for c in copied} == {t: len(r) for t, r in after.items()}
    assert same(pg_tables(pg_url)) == same(after)
    with Store.open(pg_url, create=False) as store:
        assert store.version == SCHEMA_VERSION
        read_everything(store, migrated(before), db)
    assert same(pg_tables(pg_url)) == same(after)
    assert tables(db) == after  # rows untouched (the copy migrated it first)


def read_everything(store: Store, rows: Tables, db: Path) -> None:
    """Each owner's reads against the rows the dump holds."""
    def by_name(table: str) -> list[dict[str, Any]]:
        names = columns(db, table)
        return [dict(zip(names, r, strict=True)) for r in rows[table]]

    episodes = by_name("fault_episodes")
    opened = [e for e in episodes if e["closed_at"] is None]
    assert [e.id for e in open_episodes(store)] == [e["id"] for e in opened]
    assert [e.id for e in FaultLog(store).query(state="all")] == [
        e["id"] for e in sorted(episodes, key=lambda e: (e["opened_at"], e["id"]), reverse=True)]
    assert open_mark(store) == (len(opened), max(e["id"] for e in opened))
    assert open_faults(store, ("unreachable", "service_down")) == {
        e["device"]: {e["fault"]} for e in opened}
    [back] = [e for e in episodes if e["close_reason"] == "recovered"]
    assert last_recovery(store, back["device"], back["fault"]) == back["closed_at"]

    assert [(t.id, t.revoked_at) for t in TokenStore(store).records()] == sorted(
        (t["id"], t["revoked_at"]) for t in by_name("tokens"))  # made at one time: by id

    notices = by_name("notices")
    assert [n["id"] for n in every_notice(store)] == [4, 3, 2, 1]
    assert [n["number"] for n in county_notices(store, "east")] == [
        n["number"] for n in reversed(notices) if n["county"] == "east"]
    last = latest(store)
    assert last is not None and last["number"] == notices[-1]["number"]
    assert last_issue_date(store, "west") == "2026-11-23"
    assert issued_on(store, "east", "2026-11-21") == (1, notices[0]["record"])
    assert notice_by_id(store, 2) == ("west", notices[1]["record"])
    assert records(store, {1, 3}) == {1: notices[0]["record"], 3: notices[2]["record"]}
    for n in notices:  # a record stored before the period fields writes back byte for byte
        assert NoticeRecord.from_json(n["record"]).to_json() == n["record"]
    assert issued_per_county(store) == {"east": (2, notices[2]["issued_at"]),
                                        "west": (2, notices[3]["issued_at"])}
    listed = by_name("notice_item_listings")
    for n in notices:
        assert [(r["item_id"], r["carried"], r["overdue"]) for r in listings(store, n["id"])] \
            == sorted((r["item_id"], r["carried"], r["overdue"]) for r in listed
                      if r["notice_id"] == n["id"])

    items = by_name("notice_items")
    live = current_items(store, [i["id"] for i in items])
    assert {i: dict(r) for i, r in live.items()} == {
        i["id"]: {k: i[k] for k in live[i["id"]].keys()} for i in items}
    assert {r["id"] for r in to_report(store, "west")} == {
        i["id"] for i in items if i["county"] == "west" and i["state"] == "open"}
    assert item_county(store, 2) == "west" and item_county(store, 99) is None
    assert cited_episodes(store) == {i["episode_id"] for i in items}
    assert open_per_county(store, "2026-11-30") == {"east": (1, 1), "west": (1, 1)}

    deliveries = by_name("deliveries")
    assert [dict(d) for d in deliveries_of(store, 3)] == [
        {k: d[k] for k in ("channel", "target", "state", "attempts", "last_error")}
        for d in deliveries if d["notice_id"] == 3]
    [pending, failures] = outbox_families(store)
    assert pending.samples == [('{channel="smtp"}', 0), ('{channel="webhook"}', 2)]
    assert failures.samples == [('{channel="smtp"}', 0), ('{channel="webhook"}', 0)]

    readings = by_name("readings")
    total, got = readings_page(store, None, 10, 0)
    assert total == 3 and [dict(r) for r in got] == [
        {k: r[k] for k in PAGE_COLUMNS} for r in sorted(
            readings, key=lambda r: (r["taken_at"], r["id"]), reverse=True)]
    assert readings_page(store, "someone else", 10, 0) == (0, [])
    assert list(readings_within(store, 0, SURVEY_NOW)) == [
        tuple(r[k] for k in WINDOW_COLUMNS) for r in readings]
    assert newest_id(store) == 3
    assert find(store, TESTER, "fixture-1") == (1, readings[0]["body_hash"])
    assert idem_keys(store, TESTER) == {r["idem_key"] for r in readings}
    assert received(store) == {r["county"]: r["total"] for r in by_name("readings_received")}
    assert monitored_since(store) == {r["device"]: r["since"] for r in by_name("monitored_since")}
    assert math.isinf(monitored_since(store)["cam-8"])
    assert last_run(store, "duty:notices") == at("2026-11-23", 8)


def test_todays_figures_are_the_ones_main_recorded(
        main: tuple[Store, Callable[[], Tables]]) -> None:
    """The summaries main put in the second day's notices, computed again by today's code from
    the same episodes and first checks, come out the same."""
    inv = notices_city()
    store = main[0]
    start = day_start(date(2026, 11, 21), ZoneInfo(inv.notices.timezone))
    by_county = figures(store, inv, start, at("2026-11-23"))
    for number in (3, 4):
        record = NoticeRecord.from_json(records(store, {number})[number])
        assert record.summary
        assert county_summary(inv, record.county, by_county) == record.summary


def test_todays_writes_carry_on_from_main(main: tuple[Store, Callable[[], Tables]],
                                         tmp_path: Path) -> None:
    """The next notices take the next numbers (and the next ids); a stored reading sent again
    is found, not stored twice; the metrics count from main's rows."""
    inv = notices_city()
    store, read = main
    out = issue_notices(store, inv, now=at("2026-11-30"))
    assert [(o.county, o.record.number if o.record else None, o.created) for o in out] == [
        ("east", "示公科信〔2026〕5号", True), ("west", "示公科信〔2026〕6号", True)]
    again = ingest(store, load_city(tmp_path), TESTER, READINGS, "api", SURVEY_NOW)
    assert again == [1, 2, 3]
    issued = notice_families(store, inv, at("2026-11-30"))[0]
    assert issued.samples == [('{county="east"}', 3), ('{county="west"}', 3)]
    assert survey_families(store, load_city(tmp_path))[0].samples == [
        ('{county="east"}', 1), ('{county="north"}', 1), ('{county="south"}', 1)]
    after = read()
    assert len(after["readings"]) == 3 and len(after["notices"]) == 6
    assert sorted(r[0] for r in after["notices"]) == [1, 2, 3, 4, 5, 6]
    assert after["notice_sequences"] == [("示公科信", 2026, 6)]
