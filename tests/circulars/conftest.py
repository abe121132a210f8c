"""The owners' tests of modules that set ``BOTH_ENGINES`` run on SQLite and on PostgreSQL
(``tests/engines.py``); the others keep the suite's SQLite ``store``."""

from __future__ import annotations

from tests.engines import engine, pg_server, pg_url, store, target  # noqa: F401 - fixtures
from tests.engines import parametrize_where_asked as pytest_generate_tests  # noqa: F401
