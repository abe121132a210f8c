"""Render benchmark for /metrics at city scale: per-sweep re-render, scrape, gzip, memory.

A synthetic inventory lives in memory (no network traffic): N devices over 16
counties, 10 % of them with a service check (RTSP or SIP), 2 % with SNMP, each
with one recorded cycle and 1 % with an open fault. Prints the time to
re-render every group (the per-cycle cost on the event loop), ``render()`` time
and size, gzip level 1 time and size, RSS, and the same per-device families
through prometheus_client's ``generate_latest`` over a custom collector on a
subset, for the ratio.

    python bench/bench_metrics.py [--devices 100000] [--subset 10000] [--repeat 3] [--freeze]
"""

from __future__ import annotations

import argparse
import gc
import gzip
import resource
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from figures import result
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from netwatch.inventory import CheckSpec, County, Device, Inventory
from netwatch.metrics import Exposition
from netwatch.metrics.devices import MEASURED
from netwatch.monitor import Monitor, OpenFault, Runner
from netwatch.store import StoreThread
from probes import snmp
from probes.base import ProbeContext, ProbeResult, Reason

NOW = 1_700_000_000.0
SNMP_PARAMS = snmp.parse_params({"community": "bench-not-a-secret"})


def make_device(i: int, n: int) -> Device:
    """Device i of n: 2 % SNMP sites/switches, 10 % cameras or endpoints with a service."""
    county = f"c{i % 16:02d}"
    icmp = CheckSpec("icmp", "icmp", 0, None)
    if i < n // 50:
        kind = "trunking_site" if i % 2 else "switch"
        checks: tuple[CheckSpec, ...] = (icmp, CheckSpec("snmp", "snmp", 161, SNMP_PARAMS))
    elif i < n // 50 + n // 10:
        kind = "vc_endpoint" if i % 5 == 0 else "camera"
        service = "sip" if kind == "vc_endpoint" else "rtsp"
        checks = (icmp, CheckSpec(service, service, 5060 if service == "sip" else 554, None))
    else:
        kind, checks = "camera", (icmp,)
    return Device(id=f"dev-{i:06d}", kind=kind, county=county,
                  address=f"127.99.{i // 250 % 256}.{i % 250 + 1}", name=f"设备 {i} \"gate\"",
                  checks=checks, interval=30.0 if kind == "vc_endpoint" else 60.0, timeout=1.0,
                  site=f"site-{i % 500}", lat=30.0 + i * 1e-6, lon=120.0 + i * 1e-6)


def cycle(device: Device, i: int) -> dict[str, ProbeResult]:
    """Plausible results: 1 % of devices unreachable, the rest answering."""
    if i % 100 == 7:
        return {c.name: ProbeResult.fail(Reason.TIMEOUT, "no reply", loss_ratio=1.0, sent=5,
                                         received=0) for c in device.checks}
    results: dict[str, ProbeResult] = {}
    for c in device.checks:
        if c.probe == "icmp":
            r = ProbeResult.ok(rtt_seconds=0.0012 + i % 97 * 1e-5, rtt_min_seconds=0.001,
                               rtt_max_seconds=0.002, loss_ratio=0.0, jitter_seconds=0.0003,
                               sent=5, received=5)
        elif c.probe == "snmp":
            r = ProbeResult.ok(sys_uptime_seconds=86400.0 + i, uplink_oper_status=1,
                               uplink_speed_bps=1e9, uplink_in_errors=i % 13,
                               uplink_out_errors=0)
        else:
            r = ProbeResult.ok(status_code=200, response_seconds=0.004)
        r.duration_seconds = 0.0123
        results[c.name] = r
    return results


def build(n: int, store: StoreThread) -> Monitor:
    devices = tuple(make_device(i, n) for i in range(n))
    counties = {f"c{c:02d}": County(f"c{c:02d}", f"县{c}", "公安局") for c in range(16)}
    inventory = Inventory("bench.yaml", "Bench", "Asia/Shanghai", counties, devices)
    monitor = Monitor(inventory, Runner(ProbeContext()), store, clock=lambda: NOW)
    for i, device in enumerate(devices):
        monitor.states[device.id].record(cycle(device, i), NOW)
        if i % 100 == 7:
            monitor.faults[device.id] = {"unreachable": OpenFault(
                device.id, device.county, device.kind, "unreachable", NOW - 300, NOW - 180)}
    for stats in monitor.stats.values():
        stats.runs, stats.last_duration, stats.last_run_at = 1, 12.5, NOW
    return monitor


class Collector:
    """The same per-device families through prometheus_client's object model."""

    def __init__(self, monitor: Monitor) -> None:
        self.monitor = monitor

    def collect(self) -> Iterator[Metric]:
        base = ["county", "kind", "device"]
        per_check = base + ["check", "probe"]
        up = GaugeMetricFamily("netwatch_device_up", "up", labels=base)
        success = GaugeMetricFamily("netwatch_probe_success", "success", labels=per_check)
        duration = GaugeMetricFamily("netwatch_probe_duration_seconds", "d", labels=per_check)
        measured: dict[tuple[str, str], tuple[Metric, Callable[[float], float] | None]] = {}
        for m in MEASURED:
            cls = CounterMetricFamily if m.spec.kind == "counter" else GaugeMetricFamily
            name = m.spec.name.removesuffix("_total")
            measured[(m.probe, m.measurement)] = (cls(name, m.spec.help, labels=per_check),
                                                  m.convert)
        for state in self.monitor.states.values():
            d = state.device
            if state.verdict is None:
                continue
            up.add_metric([d.county, d.kind, d.id], 1 if state.verdict.up else 0)
            for c in d.checks:
                r = state.results.get(c.name)
                if r is None:
                    continue
                values = [d.county, d.kind, d.id, c.name, c.probe]
                success.add_metric(values, 1 if r.success else 0)
                duration.add_metric(values, r.duration_seconds)
                for key, v in r.measurements.items():
                    found = measured.get((c.probe, key))
                    if found is not None:
                        family, convert = found
                        family.add_metric(values, convert(v) if convert else v)
        yield up
        yield success
        yield duration
        yield from (family for family, _ in measured.values())


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def best(repeat: int, fn: Callable[[], object]) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - started)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--subset", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--freeze", action="store_true",
                        help="gc.freeze() after building the monitor, as a daemon could")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = StoreThread.open(Path(folder) / "bench.db")
        try:
            run(args.devices, args.subset, args.repeat, store, args.freeze)
        finally:
            store.close()


def run(n: int, subset: int, repeat: int, store: StoreThread, freeze: bool) -> None:
    started = time.perf_counter()
    monitor = build(n, store)
    if freeze:
        gc.collect()
        gc.freeze()
    print(f"{n} devices, {len(monitor.open_faults())} open faults, groups "
          f"{ {k: len(g.devices) for k, g in monitor.groups.items()} } "
          f"(built in {time.perf_counter() - started:.1f} s); RSS {rss_mb():.0f} MB")
    before = rss_mb()
    started = time.perf_counter()
    exposition = Exposition(monitor)
    print(f"on_inventory (labels, info, every group): {time.perf_counter() - started:.2f} s, "
          f"+{rss_mb() - before:.0f} MB RSS")
    for key, group in sorted(monitor.groups.items()):
        t, _ = best(repeat, lambda key=key: exposition.on_group(key, []))  # type: ignore[misc]
        print(f"  on_group {key:<22} {len(group.devices):>7} devices  {t * 1000:8.1f} ms")
    t_all, _ = best(repeat, lambda: [exposition.on_group(k, []) for k in monitor.groups])
    print(f"re-render of all groups (the per-cycle cost): {t_all:.2f} s "
          f"({t_all / n * 1e6:.1f} µs per device)")
    t_render, text = best(repeat, exposition.render)
    assert isinstance(text, bytes)
    samples = text.count(b"\n") - text.count(b"\n#")
    print(f"render(): {t_render:.3f} s, {len(text) / 2**20:.1f} MiB, {samples} samples "
          "(bar: < 2 s)")
    t_gzip, packed = best(repeat, lambda: gzip.compress(text, compresslevel=1, mtime=0))
    assert isinstance(packed, bytes)
    print(f"gzip level 1: {t_gzip:.3f} s, {len(packed) / 2**20:.1f} MiB")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:.0f} MB")
    ratio = compare(subset, repeat, store)
    result("metrics", str(n), rerender_all_s=t_all, rerender_us_per_device=t_all / n * 1e6,
           render_s=t_render, plain_mib=len(text) / 2**20, gzip_s=t_gzip,
           gzip_mib=len(packed) / 2**20, peak_rss_mib=peak, ratio_prometheus_client=ratio)


def compare(n: int, repeat: int, store: StoreThread) -> float:
    """Per-device families on an n-device subset: pre-rendered chunks vs prometheus_client.

    Returns prometheus_client's time over ours."""
    monitor = build(n, store)
    exposition = Exposition(monitor, process_metrics=False)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Collector(monitor))  # type: ignore[arg-type]

    def ours() -> bytes:
        for key in monitor.groups:
            exposition.on_group(key, [])
        return exposition.render()

    t_ours, _ = best(repeat, ours)
    t_client, text = best(repeat, lambda: generate_latest(registry))
    assert isinstance(text, bytes)
    print(f"{n} devices, re-render + render: {t_ours * 1000:.0f} ms; prometheus_client "
          f"generate_latest over a custom collector (per-device families only): "
          f"{t_client * 1000:.0f} ms, {len(text) / 2**20:.1f} MiB; ratio {t_client / t_ours:.1f}x")
    return t_client / t_ours


if __name__ == "__main__":
    main()
