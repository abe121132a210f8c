"""Retention of the daemon's own history: closed fault episodes and delivered notices' outbox rows.

Both grow with time and nothing reads them past a while: closed episodes serve
recurrence checks and a notice period's online rates (the settings demand a
retention longer than both), sent deliveries only the audit of a recent send.
Kept whatever their age: open episodes, episodes a notice item refers to (an
issued notice's evidence), deliveries pending or failed, and sent deliveries
that needed retries: their failures feed a counter that must never go down.
"""

from __future__ import annotations

from netwatch.store.store import Store


def prune_fault_episodes(store: Store, cutoff: float) -> int:
    """Delete episodes closed before ``cutoff`` that no notice item refers to."""
    with store.transaction() as conn:
        return conn.execute(
            "DELETE FROM fault_episodes WHERE closed_at IS NOT NULL AND closed_at < ? "
            "AND NOT EXISTS (SELECT 1 FROM notice_items i WHERE i.episode_id = fault_episodes.id)",
            (cutoff,)).rowcount


def prune_deliveries(store: Store, cutoff: float) -> int:
    """Delete deliveries sent before ``cutoff`` at the first attempt (no failure to count)."""
    with store.transaction() as conn:
        return conn.execute(
            "DELETE FROM deliveries WHERE state = 'sent' AND failures = 0 AND sent_at < ?",
            (cutoff,)).rowcount
