"""The database thread: calls run there in order, the loop stays free, a full queue or an
away store is a clear local error, and the store is known to be back only once it takes
a write again."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from netwatch.store import (
    IntegrityError,
    OperationalError,
    Store,
    StoreError,
    StoreThread,
    StoreUnavailable,
)
from netwatch.store.worker import THREAD_NAME
from tests.store.away import Lock, quick, quick_thread


@pytest.fixture
def db(tmp_path: Path) -> Iterator[StoreThread]:
    """The database thread, giving up on a lock at once (not after 5 s)."""
    thread = quick_thread(tmp_path / "netwatch.db")
    yield thread
    thread.close()


def mark_run(store: Store, job: str, at: float) -> str:
    """A real owner's write (schedule_runs), returning the thread it ran on."""
    with store.transaction() as tx:
        tx.execute("INSERT INTO schedule_runs (job, ran_at) VALUES (?, ?)", (job, at))
    return threading.current_thread().name


def ran_at(store: Store, job: str) -> float | None:
    value = store.scalar("SELECT ran_at FROM schedule_runs WHERE job = ?", (job,))
    return None if value is None else float(value)


async def test_calls_run_on_the_database_thread_with_their_results_and_errors(
        db: StoreThread) -> None:
    assert await db.call(mark_run, "a", 1.0) == THREAD_NAME
    assert await db.call(ran_at, "a") == 1.0
    with pytest.raises(IntegrityError):  # the owner's own error reaches the caller
        await db.call(mark_run, "a", 2.0)
    assert db.status().up  # a refused constraint says nothing against the store


async def test_the_loop_runs_while_a_call_holds_the_thread(db: StoreThread) -> None:
    """A call blocked inside the thread holds the calls queued behind it, not the loop:
    a loopback echo completes while both wait, and the queued call then runs in order."""
    release, started = threading.Event(), threading.Event()
    order: list[str] = []

    def held(store: Store) -> None:
        started.set()
        release.wait(30)
        order.append("held")

    blocked = asyncio.create_task(db.call(held))
    assert await asyncio.to_thread(started.wait, 30)
    queued = asyncio.create_task(db.call(mark_run, "after", 3.0))

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await reader.readline())
        await writer.drain()
        writer.close()

    try:
        server = await asyncio.start_server(echo, "127.70.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.70.0.1", port)
        writer.write(b"ping\n")
        assert await reader.readline() == b"ping\n"
        order.append("echo")
        writer.close()
        server.close()
        assert not blocked.done() and not queued.done()  # both still wait for the thread
        assert db.status().queued == 1
    finally:
        release.set()
    await blocked
    assert await queued == THREAD_NAME
    assert order == ["echo", "held"]


async def test_a_full_queue_refuses_at_once(tmp_path: Path) -> None:
    path = tmp_path / "netwatch.db"
    db = StoreThread(path, lambda: quick(path), queue_size=2)
    db.start()
    release = threading.Event()
    try:
        blocked = asyncio.create_task(db.call(lambda store: release.wait(30)))
        await asyncio.sleep(0)  # the thread takes the held call off the queue (or not yet)
        waiting = [asyncio.create_task(db.call(ran_at, "x")) for _ in range(3)]
        done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_EXCEPTION)
        refused = [t for t in done if isinstance(t.exception(), StoreUnavailable)]
        assert refused, "a third waiting call must be refused"
        assert "database calls already waiting" in str(refused[0].exception())
        assert isinstance(refused[0].exception(), OperationalError)  # one except for callers
        assert db.status().refused >= 1
        assert db.status().up  # a full queue is congestion, not an away store
        release.set()
        await blocked
        await asyncio.gather(*waiting, return_exceptions=True)
    finally:
        release.set()
        db.close()


async def test_a_caller_that_leaves_before_its_call_starts_takes_it_off_the_queue(
        db: StoreThread) -> None:
    release = threading.Event()
    blocked = asyncio.create_task(db.call(lambda store: release.wait(30)))
    left = asyncio.create_task(db.call(mark_run, "never", 1.0))
    await asyncio.sleep(0)
    left.cancel()
    with pytest.raises(asyncio.CancelledError):
        await left
    release.set()
    await blocked
    assert await db.call(ran_at, "never") is None


async def test_a_locked_store_is_away_until_it_takes_a_write_again(
        db: StoreThread, tmp_path: Path) -> None:
    """Another connection holds the write lock: writes fail (the store is away, with the
    reason); reads still work and do not mark it back; the check after the lock is
    released does."""
    lock = Lock(tmp_path / "netwatch.db")
    try:
        with pytest.raises(OperationalError, match="locked"):
            await db.call(mark_run, "a", 1.0)
        status = db.status()
        assert not status.up and status.problem is not None and "locked" in status.problem
        assert await db.call(ran_at, "a") is None  # a read works under WAL...
        assert not db.status().up  # ...and says nothing of writes
        assert not (await db.check()).up  # still locked
    finally:
        lock.release()
    assert (await db.check()).up
    assert await db.call(mark_run, "a", 1.0) == THREAD_NAME
    assert db.status().failures >= 2


async def test_close_finishes_queued_calls_then_refuses(db: StoreThread) -> None:
    queued = [asyncio.create_task(db.call(mark_run, f"job{n}", float(n))) for n in range(5)]
    await asyncio.sleep(0)
    await asyncio.to_thread(db.close)
    assert await asyncio.gather(*queued) == [THREAD_NAME] * 5
    with pytest.raises(StoreUnavailable, match="stopped"):
        await db.call(ran_at, "job0")
    assert not db.status().up


def test_a_store_that_cannot_open_raises_and_leaves_no_thread(tmp_path: Path) -> None:
    db = StoreThread(tmp_path / "absent.db", lambda: Store.open(tmp_path / "absent.db",
                                                                create=False))
    with pytest.raises(StoreError, match="no such database"):
        db.start()
    assert not db._thread.is_alive()
    assert not db.status().up


def test_open_runs_the_migrations_on_its_thread(tmp_path: Path) -> None:
    db = StoreThread.open(tmp_path / "netwatch.db")
    try:
        with Store.open(tmp_path / "netwatch.db", create=False) as store:
            assert store.version > 0
    finally:
        db.close()


def test_a_database_url_is_named_without_its_credentials() -> None:
    """Messages and the log name the store; a URL's user and password never appear."""
    url = "postgresql://netwatch:s3cret-Pass@127.70.0.9:5432/netwatch?sslmode=disable"
    db = StoreThread(url, lambda: Store.open(":memory:"))
    assert db.label == "postgresql://127.70.0.9:5432/netwatch"
    assert "s3cret" not in repr(db) and db.path == url
