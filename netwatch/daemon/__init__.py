"""``netwatch run``: the long-running monitor with its scheduler, duties and web app.

``daemon`` starts and stops the parts and reloads the inventory; ``scheduler``
runs each device group's sweep at its interval; ``duties`` does the periodic
work besides sweeps (notice items, scheduled notices, delivery, retention) and
``runs`` owns when each scheduled duty last ran; ``descriptors`` keeps file
descriptors for the probes; ``heap`` settles the garbage collector after start and
reloads; ``threads`` is the pool the duties run on, which the web cannot fill;
``leasing`` is the lease loop (renew, take over, let go; the leases' metrics) by which
instances over one database share a city; ``defaults`` holds what the command line
shows.

The face is lazy: importing a default (``DEFAULT_LISTEN``) does not load the web app,
the scheduler and every package the daemon runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netwatch.runtime import lazy_face

if TYPE_CHECKING:
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
    from netwatch.daemon.descriptors import DEFAULT_RESERVE
    from netwatch.daemon.duties import Duties
    from netwatch.daemon.scheduler import SweepScheduler

_MODULES = {
    "daemon": (
        "Daemon", "DaemonOptions", "Listen", "ListenError", "check_exposure", "parse_listen",
        "run_daemon",
    ),
    "defaults": ("DEFAULT_LISTEN",),
    "descriptors": ("DEFAULT_RESERVE",),
    "duties": ("Duties",),
    "scheduler": ("SweepScheduler",),
}
__all__ = [
    "DEFAULT_LISTEN", "DEFAULT_RESERVE", "Daemon", "DaemonOptions", "Duties", "Listen",
    "ListenError", "SweepScheduler", "check_exposure", "parse_listen", "run_daemon",
]
__getattr__ = lazy_face(__name__, _MODULES)
