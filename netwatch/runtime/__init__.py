"""What every netwatch program shares as a process, below all other packages.

- ``loop``: ``run_async``, the event loop (uvloop where installed), and how a background
  task is waited for (``wait_done``) or stopped (``stop_task``);
- ``logs``: ``setup_logging``, plain text or JSON lines on stderr, secret-named
  fields never written;
- ``faces``: ``lazy_face``, how a heavy package offers its names without importing
  them all at once;
- ``clocksync``: ``clock_status``, whether the host's clock is synchronised (the
  kernel's NTP state), which any layer that compares clocks asks first.

Both the monitor's command line and the device lab start through these, so the two
programs log and run alike without the lab importing the command line. This face is
lazy too: the store imports ``lazy_face``, and must not bring asyncio along with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netwatch.runtime.faces import lazy_face

if TYPE_CHECKING:
    from netwatch.runtime.clocksync import ClockStatus, clock_status
    from netwatch.runtime.logs import LOG_FORMATS, JsonFormatter, setup_logging
    from netwatch.runtime.loop import run_async, stop_task, wait_done

_MODULES = {
    "clocksync": ("ClockStatus", "clock_status"),
    "logs": ("LOG_FORMATS", "JsonFormatter", "setup_logging"),
    "loop": ("run_async", "stop_task", "wait_done"),
}
__all__ = [
    "LOG_FORMATS", "ClockStatus", "JsonFormatter", "clock_status", "lazy_face", "run_async",
    "setup_logging", "stop_task", "wait_done",
]
__getattr__ = lazy_face(__name__, _MODULES)
