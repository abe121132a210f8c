"""PostgreSQL as the store: the URL and its secrets, the translation of the owners' SQL, rows,
the database's checks and migrations, durability, concurrent writers and a server restart,
all against the session's real server (``tests/pgserver.py``)."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest

from netwatch.store import (
    SCHEMA_VERSION,
    DatabaseError,
    IntegrityError,
    OperationalError,
    PgUrl,
    Store,
    StoreError,
    StoreThread,
    TargetError,
    parse_target,
    postgres,
)
from netwatch.store.pg_schema import WRITE_LOCK
from netwatch.store.postgres import PgRow, _Columns, translate
from netwatch.store.schema import BASELINE_VERSION, MIGRATIONS
from tests import pgserver
from tests.pgserver import own_pg_server  # noqa: F401 - fixture

SECRET = "s3cr:t/p@ss?#%&word"


# --- the URL, without a server ---------------------------------------------------------

def test_a_url_prints_with_its_password_masked() -> None:
    url = PgUrl(f"postgresql://netwatch:{SECRET}@127.0.0.1:5432/netwatch?password={SECRET}")
    for shown in (str(url), repr(url), f"{url}", str([url])):
        assert SECRET not in shown and "p@ss" not in shown
    assert str(url) == "postgresql://netwatch:***@127.0.0.1:5432/netwatch?password=***"
    encoded = PgUrl(f"postgresql://netwatch:{quote(SECRET, safe='')}@127.0.0.1/netwatch")
    assert str(encoded) == "postgresql://netwatch:***@127.0.0.1/netwatch"
    assert SECRET in encoded.secrets() and quote(SECRET, safe="") in encoded.secrets()
    ref = PgUrl("postgresql://netwatch:${NETWATCH_DB_PASSWORD}@127.0.0.1:5432/netwatch")
    assert str(ref) == "postgresql://netwatch:***@127.0.0.1:5432/netwatch"
    assert str(PgUrl("postgres:///netwatch?service=nw")) == "postgres:///netwatch?service=nw"


def test_references_resolve_from_the_environment_percent_encoded() -> None:
    url = PgUrl("postgresql://${NW_USER}:${NW_PASS}@127.0.0.1/netwatch")
    assert url.references == ("NW_USER", "NW_PASS")
    resolved = url.conninfo({"NW_USER": "netwatch", "NW_PASS": SECRET})
    assert resolved == ("postgresql://netwatch:s3cr%3At%2Fp%40ss%3F%23%25%26word"
                        "@127.0.0.1/netwatch")
    assert SECRET in url.secrets({"NW_USER": "netwatch", "NW_PASS": SECRET})
    with pytest.raises(TargetError, match=r"\$\{NW_PASS\} not set") as caught:
        url.conninfo({"NW_USER": "netwatch"})
    assert "NW_USER" not in str(caught.value).split(":", 2)[-1]


def test_a_target_is_a_url_or_a_path() -> None:
    assert parse_target("netwatch.db") == Path("netwatch.db")
    assert parse_target("/var/lib/netwatch/netwatch.db") == Path("/var/lib/netwatch/netwatch.db")
    assert isinstance(parse_target("postgresql://h/db"), PgUrl)
    assert isinstance(parse_target("POSTGRES://h/db"), PgUrl)


def test_the_owners_sql_is_translated_once_and_leaves_quotes_alone() -> None:
    assert translate("SELECT a FROM t WHERE b = ? AND c IN (?, ?)") == (
        "SELECT a FROM t WHERE b = %s AND c IN (%s, %s)")
    assert translate("SELECT '?', \"a?b\", 'it''s ?' FROM t WHERE x LIKE '5%' AND y = ?") == (
        "SELECT '?', \"a?b\", 'it''s ?' FROM t WHERE x LIKE '5%%' AND y = %s")
    assert translate("SELECT 1 -- why?\nFROM t WHERE a = ? /* or ? */") == (
        "SELECT 1 -- why?\nFROM t WHERE a = %s /* or ? */")
    assert translate("SELECT a % 2 FROM t") == "SELECT a %% 2 FROM t"
    sql = "SELECT id FROM readings WHERE tester = ?"
    assert translate(sql) is translate(sql)  # cached


def test_rows_read_by_position_and_by_name() -> None:
    row = PgRow(_Columns(["id", "Device", "since"]), (7, "cam-1", 1.5))
    assert row[0] == 7 and row["id"] == 7 and row["device"] == "cam-1" and row["DEVICE"] == "cam-1"
    assert row[:-1] == (7, "cam-1") and list(row) == [7, "cam-1", 1.5] and len(row) == 3
    assert row.keys() == ["id", "Device", "since"]
    assert dict(zip(row.keys(), row, strict=True)) == {"id": 7, "Device": "cam-1", "since": 1.5}
    assert row == PgRow(_Columns(["id", "Device", "since"]), (7, "cam-1", 1.5))
    with pytest.raises(IndexError, match="no column named 'nope'"):
        row["nope"]


# --- on the session's server -----------------------------------------------------------

def test_figures_come_back_as_sqlite_gives_them(pg_url: PgUrl) -> None:
    with Store.open(pg_url) as store:
        store.execute("INSERT INTO readings_received (county, total) VALUES ('a', 2), ('b', 3)")
        row = store.one("SELECT sum(total), avg(total), count(*), max(total) FROM "
                        "readings_received")
        assert row is not None and tuple(row) == (5, 2.5, 2, 3)
        assert [type(v) for v in row] == [int, float, int, int]
        assert store.scalar("SELECT ?::text || ?", ("a", "b")) == "ab"
        store.execute("INSERT INTO monitored_since (device, since) VALUES (?, ?)",
                      ("cam-1", float("inf")))
        assert store.scalar("SELECT since FROM monitored_since") == float("inf")


def test_errors_are_the_stores_with_no_values_and_no_password(pg_server: pgserver.Server,
                                                              pg_url: PgUrl) -> None:
    with Store.open(pg_url) as store:
        insert = "INSERT INTO schedule_runs (job, ran_at) VALUES (?, ?)"
        store.execute(insert, ("secret-job-name", 1.0))
        with pytest.raises(IntegrityError) as caught:
            store.execute(insert, ("secret-job-name", 2.0))
        assert "duplicate key" in str(caught.value) and "secret-job-name" not in str(caught.value)
        assert not isinstance(caught.value, psycopg.Error) and caught.value.__cause__ is None
        with pytest.raises(DatabaseError, match='relation "nowhere" does not exist'):
            store.one("SELECT * FROM nowhere")
        with pytest.raises(DatabaseError, match="does not exist"):
            list(store.tuples("SELECT * FROM nowhere"))
    name = pg_url.conninfo().rsplit("/", 1)[1]
    wrong = PgUrl(pg_server.url(name, password=quote(SECRET, safe="")))
    with pytest.raises(StoreError, match="password authentication failed") as refused:
        Store.open(wrong)
    assert "netwatch:***@" in str(refused.value)
    assert SECRET not in str(refused.value) and quote(SECRET, safe="") not in str(refused.value)


def test_a_password_from_the_environment_with_any_character(
        pg_server: pgserver.Server, monkeypatch: pytest.MonkeyPatch) -> None:
    """A password full of URL syntax works through ``${NAME}`` (percent-encoded by netwatch)."""
    name = pg_server.database()
    try:
        with pg_server.admin() as conn:
            conn.execute(f"CREATE ROLE nw_special LOGIN PASSWORD '{SECRET}'")
            conn.execute(f'ALTER DATABASE "{name}" OWNER TO nw_special')
        monkeypatch.setenv("NW_SPECIAL_PASSWORD", SECRET)
        url = PgUrl(f"postgresql://nw_special:${{NW_SPECIAL_PASSWORD}}@{pgserver.HOST}:"
                    f"{pg_server.port}/{name}")
        with Store.open(url) as store:
            assert store.version == SCHEMA_VERSION and SECRET not in repr(store)
        monkeypatch.delenv("NW_SPECIAL_PASSWORD")
        with pytest.raises(StoreError, match=r"\$\{NW_SPECIAL_PASSWORD\} not set"):
            Store.open(url)
    finally:
        pg_server.drop(name)
        with pg_server.admin() as conn:
            conn.execute("DROP ROLE IF EXISTS nw_special")


def test_libpq_passfile_and_service_file(pg_server: pgserver.Server, pg_url: PgUrl,
                                         tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No password in the URL at all: libpq reads it from PGPASSFILE, or the whole connection
    from a service in PGSERVICEFILE (``?service=NAME``)."""
    name = pg_url.conninfo().rsplit("/", 1)[1]
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"{pgserver.HOST}:{pg_server.port}:{name}:netwatch:"
                        f"{pg_server.password}\n")
    passfile.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    bare = PgUrl(f"postgresql://netwatch@{pgserver.HOST}:{pg_server.port}/{name}")
    with Store.open(bare) as store:
        assert store.version == SCHEMA_VERSION
    services = tmp_path / "pg_service.conf"
    services.write_text(f"[netwatch]\nhost={pgserver.HOST}\nport={pg_server.port}\n"
                        f"dbname={name}\nuser=netwatch\npassfile={passfile}\n")
    monkeypatch.delenv("PGPASSFILE")
    monkeypatch.setenv("PGSERVICEFILE", str(services))
    with Store.open("postgresql:///?service=netwatch") as store:
        assert store.scalar("SELECT current_database()") == name


def test_durable_transactions_wait_for_the_flush(pg_url: PgUrl) -> None:
    """As SQLite's NORMAL and FULL: commits are not flushed by default, durable ones are."""
    with Store.open(pg_url) as store:
        assert store.scalar("SHOW synchronous_commit") == "off"
        with store.transaction() as tx:
            assert tx.scalar("SHOW synchronous_commit") == "off"
        with store.transaction(durable=True) as tx:
            assert tx.scalar("SHOW synchronous_commit") == "on"
        with store.transaction() as tx:
            assert tx.scalar("SHOW synchronous_commit") == "off"


def test_a_session_idle_inside_a_transaction_past_the_idle_limit_is_ended(
        pg_server: pgserver.Server, pg_url: PgUrl) -> None:
    """``idle_limit`` (the daemon's lease): a process stopped inside a transaction keeps
    the write lock no longer than that; without it (the commands) there is no limit."""
    with Store.open(pg_url) as store:
        assert store.scalar("SHOW idle_in_transaction_session_timeout") == "0"
    with Store.open(pg_url, idle_limit=0.5) as store:
        assert store.scalar("SHOW idle_in_transaction_session_timeout") == "500ms"
        with pytest.raises(OperationalError), store.transaction() as tx:
            pid = tx.scalar("SELECT pg_backend_pid()")  # holds the write lock, then idles
            deadline = time.monotonic() + 30
            with pg_server.admin() as admin:
                while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s",
                                    (pid,)).fetchone() is not None:
                    assert time.monotonic() < deadline, "the idle session was not ended"
                    time.sleep(0.05)
                taken = admin.execute("SELECT pg_try_advisory_lock(%s)",
                                      (WRITE_LOCK,)).fetchone()
                assert taken == (True,)  # the write lock went with the session
            tx.execute("SELECT 1")


def test_a_database_that_sorts_text_otherwise_is_refused(pg_server: pgserver.Server) -> None:
    """netwatch compares names as SQLite does (bytes): another collation, or an encoding other
    than UTF-8, is refused before anything is written, with the way to create it right."""
    made = []
    try:
        with pg_server.admin() as conn:
            for name, how in (("nw_icu", "LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'"),
                              ("nw_ascii", "ENCODING 'SQL_ASCII' LOCALE 'C'")):
                conn.execute(f"CREATE DATABASE {name} OWNER netwatch {how} TEMPLATE template0")
                made.append(name)
        with pytest.raises(StoreError, match="needs the C collation.*LOCALE 'C'"):
            Store.open(pg_server.url("nw_icu"))
        with pytest.raises(StoreError, match="encoding is SQL_ASCII, netwatch needs UTF8"):
            Store.open(pg_server.url("nw_ascii"))
        with psycopg.connect(PgUrl(pg_server.url("nw_icu")).conninfo()) as conn:
            assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
                                ).fetchone() == (0,)
    finally:
        for name in made:
            pg_server.drop(name)


def test_a_database_that_is_not_netwatchs_or_newer_is_refused(pg_url: PgUrl) -> None:
    with psycopg.connect(pg_url.conninfo(), autocommit=True) as conn:
        conn.execute("CREATE TABLE theirs (x BIGINT)")
        with pytest.raises(StoreError, match="tables but no schema_version: not a netwatch"):
            Store.open(pg_url)
        conn.execute("DROP TABLE theirs")
        with pytest.raises(StoreError, match="no netwatch schema .*netwatch db migrate"):
            Store.open(pg_url, create=False)
        Store.open(pg_url).close()
        conn.execute("INSERT INTO schema_version VALUES (%s, 0, 'test')", (SCHEMA_VERSION + 5,))
        with pytest.raises(StoreError, match=r"schema version \d+ is newer than this netwatch"):
            Store.open(pg_url)
        assert conn.execute("SELECT max(version) FROM schema_version").fetchone() == (
            SCHEMA_VERSION + 5,)


def test_migrations_after_the_baseline(pg_url: PgUrl) -> None:
    """One version at a time, each in its own transaction: a failing one leaves the database
    as it was; a bare SQLite function is refused; PostgreSQL never starts below the baseline."""
    with Store.open(pg_url) as store:
        assert store.version == SCHEMA_VERSION
    broken = (*MIGRATIONS, ("CREATE TABLE half (x BIGINT)", "THIS IS NOT SQL"))
    with pytest.raises(StoreError, match=rf"migration to schema version {SCHEMA_VERSION + 1} "
                                         rf"failed: syntax error.*stays at version "
                                         rf"{SCHEMA_VERSION}"):
        Store.open(pg_url, migrations=broken)
    lite_only = (*MIGRATIONS, (lambda conn: None,))
    with pytest.raises(StoreError, match="a function of a SQLite connection"):
        Store.open(pg_url, migrations=lite_only)
    with pytest.raises(StoreError, match="starts at schema version 6"):
        Store.open(pg_url, migrations=MIGRATIONS[:5])
    grown = (*MIGRATIONS, ("CREATE TABLE test_extra (id BIGINT PRIMARY KEY)",))
    with Store.open(pg_url, migrations=grown) as store:
        assert store.version == SCHEMA_VERSION + 1
        assert store.scalar("SELECT to_regclass('half') IS NULL") is True
        assert [tuple(r) for r in store.query("SELECT version, how FROM schema_version "
                                               "ORDER BY version")] == [
            (BASELINE_VERSION, "baseline"),
            *((v, "migration") for v in range(BASELINE_VERSION + 1, SCHEMA_VERSION + 2))]


def _open_in_thread(url: PgUrl, out: list[Any]) -> None:
    try:
        with Store.open(url) as store:
            out.append(store.version)
    except Exception as exc:  # reported to the test
        out.append(exc)


def test_two_processes_creating_the_schema_at_once(pg_url: PgUrl) -> None:
    out: list[Any] = []
    threads = [threading.Thread(target=_open_in_thread, args=(pg_url, out)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert out == [SCHEMA_VERSION] * 4
    with Store.open(pg_url) as store:
        # each version recorded once: the baseline and every migration after it
        assert store.scalar("SELECT count(*) FROM schema_version") == (
            1 + SCHEMA_VERSION - BASELINE_VERSION)


PREFIX, YEAR = "示公科信", 2026


def issue_numbers(url: str, worker: int, count: int, threads: int) -> list[int]:
    """Numbers notices from ``threads`` threads sharing one store; every fifth transaction
    rolls back after taking its number. Returns the numbers of the committed notices."""
    from netwatch.notices.numbering import allocate, format_number
    from netwatch.notices.register import record_notice

    kept: list[int] = []
    lock = threading.Lock()

    class Undo(Exception):
        pass

    def run(thread: int) -> None:
        for i in range(count):
            try:
                with store.transaction(durable=True) as tx:
                    seq = allocate(tx, PREFIX, YEAR)
                    record_notice(tx, f"c{worker}-{thread}-{i}", "2026-12-01", PREFIX, YEAR, seq,
                                  format_number(PREFIX, YEAR, seq), 0.0, "{}")
                    if i % 5 == 4:
                        raise Undo
            except Undo:
                continue
            with lock:
                kept.append(seq)

    with Store.open(url) as store:
        pool = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
    return kept


def test_notice_numbers_are_gap_free_and_unique_under_concurrent_issuers(pg_url: PgUrl) -> None:
    """Three processes of two threads each take numbers at once, some rolling back: the
    numbers issued are 1..N, each once, and the sequence's last number is N."""
    Store.open(pg_url).close()
    url = pg_url.conninfo()  # the children resolve nothing: the same environment anyway
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(3) as procs:
        results = procs.starmap(issue_numbers, [(url, w, 20, 2) for w in range(3)])
    numbers = sorted(n for r in results for n in r)
    assert len(numbers) == 3 * 2 * 16
    assert numbers == list(range(1, len(numbers) + 1))
    with Store.open(pg_url) as store:
        assert store.scalar("SELECT last_seq FROM notice_sequences") == len(numbers)
        assert sorted(r[0] for r in store.query("SELECT seq FROM notices")) == numbers


def test_streamed_rows_return_their_connection(pg_url: PgUrl) -> None:
    with Store.open(pg_url) as store:
        with store.transaction() as tx:
            tx.executemany("INSERT INTO monitored_since (device, since) VALUES (?, ?)",
                           [(f"d{i:05}", float(i)) for i in range(5000)])
            assert sum(1 for _ in tx.tuples("SELECT device FROM monitored_since")) == 5000
        rows = store.tuples("SELECT device, since FROM monitored_since ORDER BY device")
        assert next(rows) == ("d00000", 0.0)
        rows.close()  # abandoned half way
        assert sum(1 for _ in store.tuples("SELECT device FROM monitored_since")) == 5000
        stats = store.pool.get_stats()
        assert stats["pool_size"] == stats["pool_available"]  # none held


def test_the_store_carries_on_after_the_server_restarts(pg_server: pgserver.Server,
                                                        pg_url: PgUrl) -> None:
    """A restart breaks the pool's connections: a statement fails as the store's
    OperationalError at most once, then new connections serve."""
    with Store.open(pg_url) as store:
        store.execute("INSERT INTO schedule_runs (job, ran_at) VALUES ('a', 1)")
        pg_server.restart()
        try:
            first = store.scalar("SELECT count(*) FROM schedule_runs")
        except OperationalError:
            first = None
        assert first in (None, 1)
        assert store.scalar("SELECT count(*) FROM schedule_runs") == 1
        with store.transaction() as tx:
            tx.execute("INSERT INTO schedule_runs (job, ran_at) VALUES ('b', 2)")
        assert store.scalar("SELECT count(*) FROM schedule_runs") == 2



def count_runs(store: Store) -> int:
    return int(store.scalar("SELECT count(*) FROM schedule_runs"))


def test_a_stopped_server_fails_statements_at_once_and_they_serve_once_it_is_back(
        own_pg_server: pgserver.Server, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """The statement that finds its connection broken fails; the next ones fail at once with
    libpq's reason, not after the pool's wait ("couldn't get a connection after 10 s"); the
    first one after the server is back connects again (the pool did not back off)."""
    monkeypatch.setattr(postgres, "RECONNECT_EVERY", 0.0)  # a fresh attempt every statement
    server = own_pg_server
    with Store.open(PgUrl(server.url(server.database()))) as store:
        store.execute("INSERT INTO schedule_runs (job, ran_at) VALUES ('a', 1)")
        server.halt()
        with pytest.raises(OperationalError):
            count_runs(store)
        for _ in range(3):
            with pytest.raises(OperationalError, match="^cannot connect: ") as caught:
                count_runs(store)
            assert server.password not in str(caught.value)
        with pytest.raises(OperationalError, match="^cannot connect: "), store.transaction():
            pass
        server.resume()
        assert count_runs(store) == 1
        with store.transaction() as tx:
            tx.execute("INSERT INTO schedule_runs (job, ran_at) VALUES ('b', 2)")
        assert count_runs(store) == 2


def test_between_attempts_a_statement_fails_with_the_last_reason(
        own_pg_server: pgserver.Server, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """At most one fresh connection attempt a ``RECONNECT_EVERY``: the statements between fail
    with the reason it found, even once the server is back, until the next attempt."""
    monkeypatch.setattr(postgres, "RECONNECT_EVERY", 3600.0)
    server = own_pg_server
    with Store.open(PgUrl(server.url(server.database()))) as store:
        server.halt()
        with pytest.raises(OperationalError):
            count_runs(store)  # the broken connection
        with pytest.raises(OperationalError, match="^cannot connect: ") as tried:
            count_runs(store)  # the attempt
        server.resume()
        with pytest.raises(OperationalError) as between:
            count_runs(store)
        assert str(between.value) == str(tried.value)


async def test_the_database_thread_sees_the_server_go_and_come_back(
        own_pg_server: pgserver.Server, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """Away with libpq's reason as soon as a call finds the server gone; back at the first
    check after it returns, and the calls then run."""
    monkeypatch.setattr(postgres, "RECONNECT_EVERY", 0.0)
    server = own_pg_server
    db = StoreThread.open(PgUrl(server.url(server.database())))
    try:
        assert await db.call(count_runs) == 0
        server.halt()
        with pytest.raises(OperationalError):
            await db.call(count_runs)
        assert not db.status().up
        status = await db.check()
        assert not status.up and (status.problem or "").startswith("cannot connect: ")
        with pytest.raises(OperationalError, match="^cannot connect: "):
            await db.call(count_runs)
        server.resume()
        assert (await db.check()).up
        assert await db.call(count_runs) == 0
    finally:
        db.close()


def test_a_statement_on_the_store_inside_a_transaction_joins_it(pg_url: PgUrl) -> None:
    """As on SQLite's one connection: the store's own statements made while this thread has a
    transaction open see its writes and wait on nothing it holds."""
    with Store.open(pg_url) as store:
        store.execute("INSERT INTO schedule_runs (job, ran_at) VALUES ('a', 1)")
        with pytest.raises(ZeroDivisionError), store.transaction() as tx:
            tx.execute("UPDATE schedule_runs SET ran_at = 2 WHERE job = 'a'")
            store.execute("UPDATE schedule_runs SET ran_at = 3 WHERE job = 'a'")  # no wait
            assert store.scalar("SELECT ran_at FROM schedule_runs") == 3.0
            assert list(store.tuples("SELECT ran_at FROM schedule_runs")) == [(3.0,)]
            1 / 0  # noqa: B018
        assert store.scalar("SELECT ran_at FROM schedule_runs") == 1.0  # all rolled back
