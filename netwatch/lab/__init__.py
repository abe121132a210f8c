"""The device lab: an inventory's devices played on loopback, with faults from a scenario.

``python -m netwatch.lab INVENTORY --scenario FILE`` (or ``netwatch simulate``) runs
it; ``Lab`` and ``run_lab`` run it inside a program, ``process`` as a child process
(``LabProcess``). ``lab`` starts ``responders`` (RTSP, HTTP, TCP; ``rtp`` is the
synthetic H.264 a camera with a video check streams after PLAY), the
``sip_responder``, the ``snmp_agent`` and ``onvif`` (a camera's clock); ``scenario``
reads which devices break and how, ``faults`` says what each fault is and what the
monitor should see; ``netfilter`` (its own nftables table) and ``delay`` (the NFQUEUE
delayer) make devices unreachable, lossy or slow; ``host`` checks what the lab asks
of the host. See ``docs/lab.md``.

The lab imports only the inventory, the probes' protocol codecs and the runtime.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netwatch.runtime import lazy_face

if TYPE_CHECKING:
    from netwatch.lab.__main__ import serve
    from netwatch.lab.lab import DEFAULT_QUEUE, DEFAULT_TABLE, Lab, LabError, LabInfo, run_lab
    from netwatch.lab.process import LabProcess
    from netwatch.lab.scenario import (
        Scenario,
        ScenarioError,
        accepts,
        effective_faults,
        expected_faults,
        load_scenario,
    )

_MODULES = {
    "__main__": ("serve",),
    "lab": ("DEFAULT_QUEUE", "DEFAULT_TABLE", "Lab", "LabError", "LabInfo", "run_lab"),
    "process": ("LabProcess",),
    "scenario": (
        "Scenario", "ScenarioError", "accepts", "effective_faults", "expected_faults",
        "load_scenario",
    ),
}
__all__ = [
    "DEFAULT_QUEUE", "DEFAULT_TABLE", "Lab", "LabError", "LabInfo", "LabProcess", "Scenario",
    "ScenarioError", "accepts", "effective_faults", "expected_faults", "load_scenario",
    "run_lab", "serve",
]
__getattr__ = lazy_face(__name__, _MODULES)
