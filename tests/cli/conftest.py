"""The command line's tests may use the session's PostgreSQL server (``tests/pgserver.py``)."""

from __future__ import annotations

from tests.pgserver import pg_server, pg_url  # noqa: F401 - fixtures
