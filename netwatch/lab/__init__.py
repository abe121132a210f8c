"""The device lab: an inventory's devices played on loopback, with faults from a scenario.

``python -m netwatch.lab INVENTORY --scenario FILE`` (or ``netwatch simulate``) runs
it; ``Lab`` and ``run_lab`` run it inside a program. See ``docs/lab.md``.
"""

from __future__ import annotations

from netwatch.lab.lab import DEFAULT_QUEUE, DEFAULT_TABLE, Lab, LabError, LabInfo, run_lab
from netwatch.lab.scenario import (
    Scenario,
    ScenarioError,
    accepts,
    effective_faults,
    expected_faults,
    load_scenario,
)

__all__ = [
    "DEFAULT_QUEUE", "DEFAULT_TABLE", "Lab", "LabError", "LabInfo", "Scenario", "ScenarioError",
    "accepts", "effective_faults", "expected_faults", "load_scenario", "run_lab",
]
