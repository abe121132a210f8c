"""The survey readings' tables, as migration steps (``netwatch.store_migrations`` lists them)."""

from __future__ import annotations

V3_READINGS: tuple[str, ...] = ()
