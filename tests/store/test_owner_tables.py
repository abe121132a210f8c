"""The owners whose own tests run on SQLite only, here on both engines: browser sessions,
first checks, schedule runs, and an issued notice that nothing later changes.

(Fault episodes and tokens are in this directory's other tests; readings, notice
numbering, items and the outbox in ``tests/survey`` and ``tests/notices``, which run
their owner tests on both engines too.)
"""

from __future__ import annotations

import math

from netwatch.daemon.runs import last_run, mark_run
from netwatch.monitor.watched import monitored_since, record_first_checks
from netwatch.notices.issue import issue_notices
from netwatch.notices.items import acknowledge, sync_items
from netwatch.store import Store, StoreThread
from netwatch.web.session_store import SessionStore
from tests.notices.city import DAY, at, city, fault, recover


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_sessions_outlive_a_restart(store: Store) -> None:
    """A session opened before a restart works after it (same CSRF token); logging out and
    the maximum age end it in the table too; no cookie is stored (through the daemon's
    database thread, as the web app keeps them)."""
    clock = Clock()
    db = StoreThread.open(store.path)
    try:
        before = SessionStore(idle=100.0, max_age=1000.0, clock=clock, db=db)
        cookie, opened = await before.open("tok-a")
        gone, _ = await before.open("tok-b")
        await before.close(gone)
        rows = store.query("SELECT id_hash, token_id FROM sessions")
        assert [r["token_id"] for r in rows] == ["tok-a"] and rows[0]["id_hash"] != cookie
        after = SessionStore(idle=100.0, max_age=1000.0, clock=clock, db=db)  # restarted
        clock.now += 90
        session = await after.get(cookie)
        assert session is not None and (session.token_id, session.csrf) == ("tok-a", opened.csrf)
        assert await after.get(gone) is None
        clock.now += 1000
        assert await SessionStore(idle=100.0, max_age=1000.0, clock=clock,
                                  db=db).get(cookie) is None
        assert store.scalar("SELECT count(*) FROM sessions") == 0
    finally:
        db.close()


def test_first_checks_keep_the_earliest_and_runs_the_latest(store: Store) -> None:
    record_first_checks(store, [("cam-1", math.inf), ("cam-2", 50.0)])
    record_first_checks(store, [("cam-1", 100.0), ("cam-2", 80.0), ("cam-3", math.inf)])
    assert monitored_since(store) == {"cam-1": 100.0, "cam-2": 50.0, "cam-3": math.inf}
    assert last_run(store, "duty:notices") is None
    mark_run(store, "duty:notices", 10.0)
    mark_run(store, "duty:notices", 20.5)
    assert last_run(store, "duty:notices") == 20.5


def test_an_issued_notice_never_changes(store: Store) -> None:
    """Issuing again the same day gives the same record and number; what happens to its items
    afterwards (acknowledged, rectified, closed) leaves the notice's row as it was."""
    inv = city()
    episode = fault(store, "cam-8", at("2026-11-20"), county="west")
    [first] = issue_notices(store, inv, counties=["west"], now=at("2026-11-23"))
    assert first.created and first.record is not None
    issued = [tuple(r) for r in store.query("SELECT * FROM notices")]
    [again] = issue_notices(store, inv, counties=["west"], now=at("2026-11-23", 15))
    assert (again.created, again.notice_id, again.record) == (False, first.notice_id,
                                                               first.record)
    [item] = first.record.items
    acknowledge(store, item.item_id, "换电源", "2026-11-25", "west-desk", at("2026-11-23", 16))
    recover(store, episode, at("2026-11-24"))
    sync_items(store, inv, at("2026-11-24") + 10 * DAY)
    assert store.scalar("SELECT state FROM notice_items WHERE id = ?", (item.item_id,)) == (
        "closed")
    assert [tuple(r) for r in store.query("SELECT * FROM notices")] == issued
    assert store.scalar("SELECT last_seq FROM notice_sequences") == 1
