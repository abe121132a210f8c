"""Probes: one module per protocol, one interface (see ``probes.base``).

``PROBES`` maps a probe name to its module path; inventory validation checks
names against it and the runner imports a module the first time it is used.
"""

from __future__ import annotations

import importlib
from types import ModuleType

PROBES: dict[str, str] = {
    "icmp": "probes.icmp",
    "tcp": "probes.tcp",
    "http": "probes.http",
    "rtsp": "probes.rtsp",
    "sip": "probes.sip",
    "snmp": "probes.snmp",
    "video": "probes.video",
    "onvif_time": "probes.onvif",
}


def get_probe(name: str) -> ModuleType:
    """The module implementing probe ``name``; KeyError for an unknown name."""
    return importlib.import_module(PROBES[name])
