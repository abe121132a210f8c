"""The ``netwatch`` command: ``main`` and one module per sub-command family.

``main`` holds check, probe, simulate, run and demo, and loads the groups through
``lazy`` only when they run: ``token``, ``notices``, ``circular`` (the monthly
circular), ``survey``, ``coverage``,
``inventory``, ``maps`` (the boundaries for Grafana), ``backup`` (backup and restore)
and ``db`` (migrate, and copy from SQLite to PostgreSQL); ``support`` is what they
share (loading the inventory or exiting 2, ``--db``, the settings from the environment),
``web_limits`` the listener's flags, ``cluster`` the flags of instances sharing a city;
``demo`` the demo runner, ``report`` the sweep table and ``--json`` shape, ``progress``
the terminal's progress bar.
"""

from __future__ import annotations

from netwatch.cli.main import main

__all__ = [
    "main",
]
