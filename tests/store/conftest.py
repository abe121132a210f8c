"""The store's tests run on both engines: each test that takes ``target`` or ``store`` runs
once on a SQLite file and once on a fresh database of the session's PostgreSQL server."""

from __future__ import annotations

from tests.engines import engine, pg_server, pg_url, store, target  # noqa: F401 - fixtures
from tests.engines import parametrize_all as pytest_generate_tests  # noqa: F401
