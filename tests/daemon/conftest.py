"""The daemon's tests of modules that set ``BOTH_ENGINES`` run on SQLite and on PostgreSQL
(``tests/engines.py``); the others keep the suite's SQLite ``store``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engines import engine, pg_server, pg_url, store, target  # noqa: F401 - fixtures
from tests.engines import parametrize_where_asked as pytest_generate_tests  # noqa: F401


@pytest.fixture
def db_arg(engine: str, request: pytest.FixtureRequest,  # noqa: F811 - the fixture
           tmp_path: Path) -> str:
    """What a daemon's ``--db`` is given: a SQLite file, or the URL of a fresh database of
    the session's PostgreSQL server (its password as ``${NETWATCH_TEST_PGPASSWORD}``)."""
    if engine == "sqlite":
        return str(tmp_path / "netwatch.db")
    server = request.getfixturevalue("pg_server")
    name = server.database()
    request.addfinalizer(lambda: server.drop(name))
    return str(server.url(name))
