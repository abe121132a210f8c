"""The ``/metrics`` exposition of ``netwatch run``: docs/metrics.md in the Prometheus text format.

``Exposition`` keeps the expensive part ready between scrapes: label sets are
rendered once per inventory load, and each group's per-device samples once
per sweep (as the monitor's listener), so a scrape concatenates byte chunks,
adds the families computed from small data (faults, per-county figures, the
monitor's own health, later providers) and prometheus_client's process
metrics. With several instances, the per-device and per-county series are those of
the counties this instance is active for only (``on_roles`` re-renders when that
changes): a standby exports none, so no county is ever counted twice. Sample
timestamps are never set; HELP says results come from
scheduled probes. A provider that reads the store returns an awaitable (its read
runs on the database thread): ``scrape_parts`` awaits those first, then renders
the rest on the event loop in one go (it reads live monitor state); compress its
bytes elsewhere if needed.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from importlib.metadata import version
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    generate_latest,
)

from netwatch.inventory import Inventory
from netwatch.metrics.devices import (
    EMPTY,
    FAMILIES,
    Chunk,
    DeviceLabels,
    LabelRenderer,
    info_text,
    render_group,
)
from netwatch.metrics.process import SandboxedProcessCollector
from netwatch.metrics.samples import sample_families
from netwatch.metrics.summary import (
    MonitorView,
    county_families,
    fault_families,
    health_families,
    store_families,
    sweep_families,
)
from netwatch.metrics.text import Family, FamilySpec, labels
from netwatch.monitor import DeviceState, Group, in_slices
from netwatch.store import OperationalError

log = logging.getLogger(__name__)

# families computed at each scrape; those read from the store come as an awaitable
Provider = Callable[[], Iterable[Family] | Awaitable[Iterable[Family]]]

BUILD_INFO = FamilySpec("netwatch_build_info", "gauge", "The running netwatch version (always 1).")
READY = FamilySpec("netwatch_ready", "gauge",
                   "1 once every group of devices has completed a sweep.")
RELOAD_OK = FamilySpec("netwatch_inventory_last_reload_successful", "gauge",
                       "1 when the latest inventory (re)load succeeded, 0 when it was refused.")
RELOAD_AT = FamilySpec("netwatch_inventory_last_reload_success_timestamp_seconds", "gauge",
                       "When the inventory was last loaded successfully (Unix time).")
_BUILTIN = frozenset(
    spec.name for spec in FAMILIES + (BUILD_INFO, READY, RELOAD_OK, RELOAD_AT)
) | {"netwatch_device_info", "netwatch_coverage_point_info"}


class Exposition:
    """Pre-rendered per-device text plus scrape-time families, for ``GET /metrics``."""

    def __init__(self, monitor: MonitorView, *, clock: Callable[[], float] = time.time,
                 process_metrics: bool = True) -> None:
        self.monitor = monitor
        self.version = version("netwatch")
        self.reload_ok = True  # the daemon starts only on an inventory that loaded
        self.reload_success_at = clock()
        self._labels: dict[str, DeviceLabels] = {}
        self._parents: frozenset[str] = frozenset()
        self._info = b""
        self._chunks: dict[str, Chunk] = {}
        self._providers: list[Provider] = []
        self._registry: CollectorRegistry | None = None
        if process_metrics:
            self._registry = CollectorRegistry(auto_describe=False)
            SandboxedProcessCollector(registry=self._registry)
            PlatformCollector(registry=self._registry)
            GCCollector(registry=self._registry)
        self.on_inventory(monitor.inventory)

    def attach(self) -> None:
        """Re-render each group as soon as the monitor finishes sweeping it."""
        self.monitor.listeners.append(self.after_sweep)

    def add_provider(self, provider: Provider) -> None:
        """Add families computed at each scrape (blind spots, notices, readings...)."""
        self._providers.append(provider)

    def reload_result(self, ok: bool, when: float) -> None:
        """Record the outcome of an inventory reload (the daemon calls this)."""
        self.reload_ok = ok
        if ok:
            self.reload_success_at = when

    def on_inventory(self, inventory: Inventory) -> None:
        """Re-render label sets, info families and every group after a (re)load."""
        renderer = LabelRenderer()
        self._labels = {d.id: renderer.device(d) for d in inventory.devices}
        self._parents = frozenset(d.parent for d in inventory.devices if d.parent)
        self._info = info_text(inventory, self._labels, self.monitor.active)
        self._chunks = {key: self._render(group) for key, group in self.monitor.groups.items()}

    def on_roles(self) -> None:
        """The counties this instance is active for changed: render everything again."""
        self.on_inventory(self.monitor.inventory)

    def on_group(self, key: str, states: list[DeviceState]) -> None:
        """Re-render one group after its sweep, from all its devices' current state.

        ``states`` holds only the devices recorded this sweep; the group's own device
        list also covers those a concurrent reload redefined, so none drops out.
        """
        group = self.monitor.groups.get(key)
        if group is None:
            self._chunks.pop(key, None)
        else:
            self._chunks[key] = self._render(group)

    async def after_sweep(self, key: str, states: list[DeviceState]) -> None:
        """``on_group`` for the monitor's listener: rendered in slices, the loop turning
        between them (a city's group is ~100,000 devices: half a second in one go)."""
        group = self.monitor.groups.get(key)
        if group is None:
            self._chunks.pop(key, None)
            return
        parts: list[Chunk] = []
        async for devices in in_slices(group.devices):
            states_now, active = self.monitor.states, self.monitor.active
            present = [states_now[d.id] for d in devices
                       if d.id in states_now and active(d.county)]
            if present:
                parts.append(render_group(present, self._labels))
        if self.monitor.groups.get(key) is group:  # not replaced by a reload meanwhile
            joined = (b"".join(family) for family in zip(*parts, strict=True))
            self._chunks[key] = tuple(joined) if parts else EMPTY

    def _render(self, group: Group) -> Chunk:
        states, active = self.monitor.states, self.monitor.active
        present = [states[d.id] for d in group.devices if d.id in states and active(d.county)]
        return render_group(present, self._labels) if present else EMPTY

    def render(self) -> bytes:
        """The whole exposition as one text."""
        return b"".join(self.render_parts())

    def render_parts(self) -> list[bytes]:
        """The exposition in pieces, with only the providers that answer at once (those
        that read the store are for ``scrape_parts``)."""
        return self._parts(self._call_providers())

    async def scrape_parts(self) -> list[bytes]:
        """The exposition in pieces, to send without joining; never waits on a probe, and
        waits for the store only on its own thread."""
        provided = self._call_providers()
        waiting = [(i, got) for i, (_, got) in enumerate(provided) if inspect.isawaitable(got)]
        if waiting:
            results = await asyncio.gather(*(got for _, got in waiting), return_exceptions=True)
            for (index, _), result in zip(waiting, results, strict=True):
                provider = provided[index][0]
                families: list[Family] | None = None
                if isinstance(result, OperationalError):
                    log.warning("metrics provider %r left out, the store is away: %s",
                                provider, result)
                elif isinstance(result, BaseException):
                    log.error("metrics provider %r failed; its families are left out",
                              provider, exc_info=result)
                else:
                    families = list(result)
                provided[index] = (provider, families)
        return self._parts(provided)

    def _call_providers(self) -> list[tuple[Provider, Any]]:
        """Each provider's families, or the awaitable that will give them (None: failed)."""
        provided: list[tuple[Provider, Any]] = []
        for provider in self._providers:
            try:
                got = provider()
                provided.append((provider, got if inspect.isawaitable(got) else list(got)))
            except Exception:
                log.exception("metrics provider %r failed; its families are left out", provider)
                provided.append((provider, None))
        return provided

    def _parts(self, provided: list[tuple[Provider, Any]]) -> list[bytes]:
        parts = [self._head().encode(), self._info]
        chunks = [self._chunks[key] for key in sorted(self._chunks)]
        for index, spec in enumerate(FAMILIES):
            body = [chunk[index] for chunk in chunks if chunk[index]]
            if body:
                parts.append(spec.header.encode())
                parts.extend(body)
        monitor = self.monitor
        families = fault_families(monitor.open_faults(), self._labels, self._parents)
        families += county_families(monitor)
        if monitor.sampling:
            families += sample_families(monitor)
        families += sweep_families(monitor.groups, monitor.stats)
        families += health_families(monitor)
        families += store_families(monitor)
        parts.append("".join(family.text() for family in families).encode())
        parts.append(self._provided(_BUILTIN | {f.spec.name for f in families}, provided))
        if self._registry is not None:
            parts.append(generate_latest(self._registry))
        return parts

    def _head(self) -> str:
        families = [Family(BUILD_INFO), Family(READY), Family(RELOAD_OK), Family(RELOAD_AT)]
        build, ready, reload_ok, reload_at = families
        build.add(labels((("version", self.version),)), 1)
        ready.add("", 1 if self.monitor.ready else 0)
        reload_ok.add("", 1 if self.reload_ok else 0)
        reload_at.add("", self.reload_success_at)
        return "".join(family.text() for family in families)

    def _provided(self, taken: set[str] | frozenset[str],
                  provided: list[tuple[Provider, Any]]) -> bytes:
        """Providers' families; one that failed or repeats a name is left out (logged)."""
        seen = set(taken)
        texts = []
        for provider, families in provided:
            if inspect.isawaitable(families):  # a store provider outside ``scrape_parts``
                if inspect.iscoroutine(families):
                    families.close()
                continue
            if families is None:
                continue
            for family in families:
                if family.spec.name in seen:
                    log.error("metrics provider %r repeats family %s; left out",
                              provider, family.spec.name)
                    continue
                seen.add(family.spec.name)
                texts.append(family.text())
        return "".join(texts).encode()
