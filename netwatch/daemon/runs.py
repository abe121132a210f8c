"""When the daemon last ran each scheduled job, so that a run missed while it was down is
caught up at the next start. This module owns the ``schedule_runs`` table; ``duties`` is
its only user.
"""

from __future__ import annotations

from netwatch.store import Handle, Store


def last_run(db: Handle, job: str) -> float | None:
    """When ``job`` last ran (Unix seconds), None when it never has."""
    at = db.scalar("SELECT ran_at FROM schedule_runs WHERE job = ?", (job,))
    return None if at is None else float(at)


def mark_run(store: Store, job: str, at: float) -> None:
    """Record that ``job`` ran at ``at``."""
    with store.transaction() as tx:
        tx.execute("INSERT INTO schedule_runs (job, ran_at) VALUES (?, ?) ON CONFLICT (job) "
                   "DO UPDATE SET ran_at = excluded.ran_at", (job, at))
