"""What every netwatch program shares as a process, below all other packages.

- ``loop``: ``run_async``, the event loop (uvloop where installed);
- ``logs``: ``setup_logging``, plain text or JSON lines on stderr, secret-named
  fields never written;
- ``faces``: ``lazy_face``, how a heavy package offers its names without importing
  them all at once.

Both the monitor's command line and the device lab start through these, so the two
programs log and run alike without the lab importing the command line.
"""

from __future__ import annotations

from netwatch.runtime.faces import lazy_face
from netwatch.runtime.logs import LOG_FORMATS, JsonFormatter, setup_logging
from netwatch.runtime.loop import run_async

__all__ = ["LOG_FORMATS", "JsonFormatter", "lazy_face", "run_async", "setup_logging"]
