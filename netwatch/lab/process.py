"""The device lab as a child process, for ``netwatch demo``, tests and benchmarks.

The lab runs apart from the monitor (its CPU is its own, and nothing in the
monitor imports it); this starts it, waits for its ``ready`` line and stops it
by PID, giving it time to remove its firewall rules.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

READY_PREFIX = "ready"


class LabError(RuntimeError):
    """The lab cannot start or did not come up: the message names the device and the problem,
    or carries what the lab's process printed."""


class LabProcess:
    """``with LabProcess(inventory, scenario) as lab:`` — ``lab.info`` is its ready report."""

    def __init__(
        self,
        inventory: Path,
        scenario: Path | None = None,
        *,
        table: str = "netwatch_lab",
        env: dict[str, str] | None = None,
        ready_timeout: float = 120.0,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.args = [sys.executable, "-m", "netwatch.lab", str(inventory), "--table", table]
        if scenario is not None:
            self.args += ["--scenario", str(scenario)]
        self.args += list(extra_args)
        self.env = {**os.environ, **(env or {})}
        self.ready_timeout = ready_timeout
        self.proc: subprocess.Popen[str] | None = None
        self.info: dict[str, Any] = {}

    def __enter__(self) -> LabProcess:
        self.proc = subprocess.Popen(
            self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env
        )
        try:
            self.info = self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def _wait_ready(self) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdout is not None
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                line = self.proc.stdout.readline()
                if line.startswith(READY_PREFIX):
                    return json.loads(line[len(READY_PREFIX):].strip() or "{}")  # type: ignore[no-any-return]
                if line:
                    continue
            if self.proc.poll() is not None:
                err = self.proc.stderr.read() if self.proc.stderr else ""
                raise LabError(f"device lab exited with {self.proc.returncode}: {err.strip()}")
        raise LabError(f"device lab not ready within {self.ready_timeout:.0f} s")

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (the lab cleans up its rules), then SIGKILL if it hangs."""
        proc = self.proc
        if proc is None:
            return
        terminate(proc, timeout)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()


def terminate(proc: subprocess.Popen[Any], timeout: float,
              sig: signal.Signals = signal.SIGTERM) -> int:
    """Ask a child to stop (``sig``), SIGKILL it if it has not within ``timeout``; its status."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode
