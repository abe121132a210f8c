"""The store's tests run on both engines: each test that takes ``target`` or ``store`` runs
once on a SQLite file and once on a fresh database of the session's PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from netwatch.store import Store, Target
from tests.pgserver import pg_server, pg_url  # noqa: F401 - fixtures

ENGINES = ("sqlite", "postgresql")


@pytest.fixture(params=ENGINES)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Target:
    """Where a test's database is: a file in its directory, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "netwatch.db"
    url: Target = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def store(target: Target) -> Iterator[Store]:
    """A real store on the test's engine, closed afterwards."""
    s = Store.open(target)
    try:
        yield s
    finally:
        s.close()
