"""The store's own cost on each engine: the owners' typical work, timed on a SQLite file and on
a PostgreSQL server of this script's own (initdb into a temporary directory, 127.69.0.1, a
free port, stopped and removed at the end; ``fsync`` stays on, as on a real server).

Per engine, through the owners (nothing here speaks SQL):

- ``faults``: 2,000 fault-log transactions of one episode each (1,000 opened, then
  closed): the monitor's bookkeeping, one short write transaction per change;
- ``first_checks``: first checks of 100,000 devices in one transaction (a daemon's
  first sweep of a 100,000-device city);
- ``reads``: 2,000 ``open_mark`` reads in autocommit (what the coverage snapshot asks
  before each scrape);
- ``tokens``: 200 ``verify`` of a token (an API request's lookup);
- ``copy``: ``netwatch db copy`` of the SQLite file (the 100,000 first checks and the
  episodes) into an empty PostgreSQL database, verified (PostgreSQL only).

Prints one ``RESULT`` line per engine and case: the wall time, and operations per second.
Run: ``PYTHONPATH=. python3 bench/bench_store_engines.py`` (as root, or as a user that
can run initdb).
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from netwatch.monitor.watched import record_first_checks  # noqa: E402
from netwatch.store import (  # noqa: E402
    FaultLog,
    NewEpisode,
    PgUrl,
    Store,
    Target,
    TokenStore,
    copy_to_postgres,
    open_mark,
)
from tests import pgserver  # noqa: E402

DEVICES = 100_000
EPISODES = 1_000


def timed(fn: Callable[[], int]) -> tuple[float, int]:
    start = time.perf_counter()
    count = fn()
    return time.perf_counter() - start, count


def report(engine: str, case: str, seconds: float, count: int) -> None:
    print(f"RESULT bench=store engine={engine} case={case} ops={count} seconds={seconds:.3f} "
          f"per_second={count / seconds:.0f}", flush=True)


def run(engine: str, target: Target) -> None:
    with Store.open(target) as store:
        log = FaultLog(store)

        def faults() -> int:
            opened = [log.apply([NewEpisode(f"cam-{i}", "east", "camera", "unreachable",
                                            float(i), float(i) + 180, None, "icmp: timeout")],
                                [], [])[0] for i in range(EPISODES)]
            for e in opened:
                log.apply([], [], [(e.id, e.opened_at + 600, "recovered")])
            return 2 * EPISODES

        def first_checks() -> int:
            record_first_checks(store, [(f"dev-{i:06}", 1_700_000_000.0 + i)
                                        for i in range(DEVICES)])
            return DEVICES

        def reads() -> int:
            for _ in range(2000):
                open_mark(store)
            return 2000

        tokens = TokenStore(store, touch_interval=1e9)
        made = tokens.create("admin", [])

        def verify() -> int:
            for _ in range(200):
                assert tokens.verify(made.token) is not None
            return 200

        for case, fn in (("faults", faults), ("first_checks", first_checks), ("reads", reads),
                         ("tokens", verify)):
            report(engine, case, *timed(fn))


def main() -> None:
    why = pgserver.missing()
    with tempfile.TemporaryDirectory(prefix="netwatch-bench-") as tmp:
        lite = Path(tmp) / "netwatch.db"
        run("sqlite", lite)
        if why is not None:
            print(f"# PostgreSQL skipped: {why}")
            return
        server = pgserver.start()
        try:
            with server.admin() as conn:
                conn.execute("ALTER SYSTEM SET fsync = on")
                conn.execute("ALTER SYSTEM SET full_page_writes = on")
            server.restart()
            run("postgresql", PgUrl(server.url(server.database())))
            target = PgUrl(server.url(server.database()))
            seconds, copied = timed(lambda: sum(t.rows for t in copy_to_postgres(lite, target)))
            report("postgresql", "copy_rows", seconds, copied)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
