"""Stand-in probe modules for the inventory tests, so they pin the loader and not the probes.

``install_fake_probes(monkeypatch)`` points every name in ``probes.PROBES`` at a tiny
module that follows the probe contract: its ``Params`` keeps the raw settings, and
``parse_params`` rejects a ``path`` that does not start with "/" (to exercise
``ParamError`` reporting) and counts its calls (to pin memoization).
"""

from __future__ import annotations

import sys
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

import probes
from probes.base import ParamError

DEFAULT_PORTS: dict[str, int | None] = {
    "icmp": None, "tcp": None, "http": 80, "rtsp": 554, "sip": 5060, "snmp": 161,
}


@dataclass(frozen=True, slots=True)
class FakeParams:
    probe: str
    raw: tuple[tuple[str, Any], ...]

    def get(self, key: str) -> Any:
        return dict(self.raw).get(key)


def _module(name: str, calls: list[str]) -> types.ModuleType:
    module = types.ModuleType(f"tests_fake_probe_{name}")

    def parse_params(raw: Mapping[str, Any]) -> FakeParams:
        calls.append(name)
        path = raw.get("path")
        if path is not None and not str(path).startswith("/"):
            raise ParamError("path", "must start with /")
        return FakeParams(name, tuple(sorted((str(k), v) for k, v in raw.items())))

    module.NAME = name
    module.DEFAULT_PORT = DEFAULT_PORTS[name]
    module.MEASUREMENTS = ()
    module.Params = FakeParams
    module.parse_params = parse_params
    return module


def install_fake_probes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Swap every probe for a fake; returns the list parse_params appends its probe name to."""
    calls: list[str] = []
    for name in DEFAULT_PORTS:
        module = _module(name, calls)
        monkeypatch.setitem(sys.modules, module.__name__, module)
        monkeypatch.setitem(probes.PROBES, name, module.__name__)
    return calls
