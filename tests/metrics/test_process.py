"""process_* families under ``ProcSubset=pid``: /proc shows the process, not /proc/stat."""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import ProcessCollector

from netwatch.metrics.process import SandboxedProcessCollector


def samples(collector: ProcessCollector) -> dict[str, float]:
    return {s.name: s.value for family in collector.collect() for s in family.samples}


def test_process_families_without_proc_stat(tmp_path: Path) -> None:
    """With only the process's own directory in /proc (as the service unit mounts it), the
    families are all there, the start time the same as read with /proc/stat."""
    (tmp_path / "self").symlink_to(f"/proc/{os.getpid()}")
    assert not (tmp_path / "stat").exists()
    found = samples(SandboxedProcessCollector(proc=str(tmp_path), registry=None))
    assert found["process_resident_memory_bytes"] > 0
    assert found["process_open_fds"] > 0 and found["process_cpu_seconds_total"] > 0
    full = samples(ProcessCollector(registry=None))
    assert abs(found["process_start_time_seconds"] - full["process_start_time_seconds"]) < 1.0
    assert samples(ProcessCollector(proc=str(tmp_path), registry=None)) == {}  # the stock one
