"""The ``netwatch`` command: ``main`` and one module per sub-command family.

``main`` holds check, probe, simulate, run and demo; ``token``, ``notices``,
``survey`` and ``coverage`` their groups; ``support`` what they share (loading
the inventory or exiting 2, the event loop); ``demo`` the demo runner and
``report`` the sweep table and ``--json`` shape.
"""

from __future__ import annotations

from netwatch.cli.main import main

__all__ = ["main"]
