"""Both engines for the store's owners' tests: ``engine``, ``target`` and ``store`` run a test
on a SQLite file and, parametrised, on a fresh database of the session's PostgreSQL server.

A directory's conftest brings the fixtures in and says which tests run twice::

    from tests.engines import engine, pg_server, pg_url, store, target  # noqa: F401
    from tests.engines import parametrize_all as pytest_generate_tests  # noqa: F401

``parametrize_all`` runs every test there that uses the store on both engines;
``parametrize_where_asked`` only those of modules that set ``BOTH_ENGINES = True``
(the others keep SQLite, e.g. where they read the SQLite file itself).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from netwatch.store import Store, Target
from tests.pgserver import pg_server, pg_url

ENGINES = ("sqlite", "postgresql")
__all__ = ["ENGINES", "engine", "parametrize_all", "parametrize_where_asked", "pg_server",
           "pg_url", "store", "target"]


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> str:
    """The engine this run of the test uses: SQLite unless parametrised."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def target(engine: str, request: pytest.FixtureRequest, tmp_path: Path) -> Target:
    """Where a test's database is: a file in its directory, or a new PostgreSQL database."""
    if engine == "sqlite":
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


def parametrize_all(metafunc: pytest.Metafunc) -> None:
    if "engine" in metafunc.fixturenames:
        metafunc.parametrize("engine", ENGINES, indirect=True)


def parametrize_where_asked(metafunc: pytest.Metafunc) -> None:
    if getattr(metafunc.module, "BOTH_ENGINES", False):
        parametrize_all(metafunc)
