"""``netwatch run``: the long-running monitor with its scheduler, duties and web app.

``daemon`` starts and stops the parts and reloads the inventory; ``scheduler``
runs each device group's sweep at its interval; ``duties`` does the periodic
work besides sweeps (notice items, scheduled notices, delivery, retention);
``defaults`` holds what the command line shows without importing the rest.
"""

from __future__ import annotations

from netwatch.daemon.daemon import (
    Daemon,
    DaemonOptions,
    Listen,
    ListenError,
    check_exposure,
    parse_listen,
    run_daemon,
)
from netwatch.daemon.defaults import DEFAULT_LISTEN
from netwatch.daemon.duties import Duties
from netwatch.daemon.scheduler import SweepScheduler

__all__ = [
    "DEFAULT_LISTEN", "Daemon", "DaemonOptions", "Duties", "Listen", "ListenError",
    "SweepScheduler", "check_exposure", "parse_listen", "run_daemon",
]
