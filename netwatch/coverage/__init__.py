"""Coverage analysis (docs/coverage.md): readings → point and cell verdicts → blind spots → plan.

``analysis`` judges points and ``cells`` (point-less readings in square cells) with
``classify`` (good, fair, weak, blind) and finds each blind spot's cause with ``causes``
(site down, backhaul down or slow) over ``sites`` (sites and points in WGS-84);
``snapshot`` keeps the latest analysis for the daemon; ``notice_items`` makes blind
spots notice candidates; ``plan`` ranks them into the construction plan; ``metrics``
exports the families.

The face is lazy: the plan's templates and the analysis load when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netwatch.runtime import lazy_face

if TYPE_CHECKING:
    from netwatch.coverage.analysis import CoverageReport, Verdict, analyse
    from netwatch.coverage.causes import Cause
    from netwatch.coverage.classify import CLASSES, TECHNOLOGIES, TRENDS
    from netwatch.coverage.metrics import coverage_families
    from netwatch.coverage.notice_items import blind_spot_candidates, candidates_of
    from netwatch.coverage.plan import cause_counts, plan_rows, write_plan
    from netwatch.coverage.snapshot import Snapshot

_MODULES = {
    "analysis": ("CoverageReport", "Verdict", "analyse"),
    "causes": ("Cause",),
    "classify": ("CLASSES", "TECHNOLOGIES", "TRENDS"),
    "metrics": ("coverage_families",),
    "notice_items": ("blind_spot_candidates", "candidates_of"),
    "plan": ("cause_counts", "plan_rows", "write_plan"),
    "snapshot": ("Snapshot",),
}
__all__ = [
    "CLASSES", "TECHNOLOGIES", "TRENDS", "Cause", "CoverageReport", "Snapshot", "Verdict",
    "analyse", "blind_spot_candidates", "candidates_of", "cause_counts", "coverage_families",
    "plan_rows", "write_plan",
]
__getattr__ = lazy_face(__name__, _MODULES)
