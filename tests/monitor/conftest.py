"""The monitor's store tests run on both engines where a module asks (``BOTH_ENGINES``)."""

from tests.engines import engine, pg_server, pg_url, store, target  # noqa: F401
from tests.engines import parametrize_where_asked as pytest_generate_tests  # noqa: F401
