"""The delivery outbox table, as migration steps (``netwatch.store_migrations`` lists them)."""

from __future__ import annotations

V4_OUTBOX: tuple[str, ...] = ()
