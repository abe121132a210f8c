"""The ``process_*`` families where /proc shows the process but not the system files.

The service unit mounts /proc with ``subset=pid`` (``ProcSubset=pid``), which hides
/proc/stat; prometheus_client's ``ProcessCollector`` reads the boot time there and,
without it, exports nothing at all (no resident memory, CPU or descriptors). This
collector takes the boot time from the clocks instead when /proc/stat is hidden.
"""

from __future__ import annotations

import time

from prometheus_client import ProcessCollector


class SandboxedProcessCollector(ProcessCollector):
    """``ProcessCollector`` that works under ``ProcSubset=pid`` too."""

    def _boot_time(self) -> float:
        try:
            found = super()._boot_time()
        except OSError:
            found = None
        return float(found) if found else time.time() - time.clock_gettime(time.CLOCK_BOOTTIME)
