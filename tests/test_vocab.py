"""The shared vocabulary: its wire values are pinned, the monitor opens only ``Fault``
members, the two outage sets are the ones the notices use, and no package spells a
fault kind or a role as a bare string again."""

from __future__ import annotations

import ast
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from enum import StrEnum
from pathlib import Path

import pytest

from netwatch import vocab
from netwatch.inventory import CheckSpec, Device
from netwatch.monitor import FAULT_KINDS, DeviceState, OpenFault
from netwatch.monitor.faults import evaluate
from netwatch.notices import candidates, summary
from netwatch.store import FaultLog, NewEpisode, Store
from netwatch.vocab import (
    OFFLINE_FAULTS,
    OUTAGE_PROBLEMS,
    BlindCause,
    Fault,
    GapReason,
    Measurement,
    Problem,
    Role,
    Warning,
)
from probes import PROBES, base, get_probe
from probes.base import ProbeResult, Reason

ROOT = Path(__file__).resolve().parents[1]

# The strings in databases, JSON, metric labels and scenario files: never to change.
WIRE_FAULTS = (
    ("UNREACHABLE", "unreachable"), ("SERVICE_DOWN", "service_down"),
    ("UPLINK_DOWN", "uplink_down"), ("UPLINK_SLOW", "uplink_slow"),
    ("DEGRADED_LINK", "degraded_link"), ("FLAPPING", "flapping"), ("AUTH_FAILED", "auth_failed"),
    ("NO_VIDEO", "no_video"), ("CLOCK_DRIFT", "clock_drift"),
)
WIRE_PROBLEMS = WIRE_FAULTS + (
    ("OPEN_STREAM", "open_stream"), ("REBOOTED", "rebooted"), ("BLIND_SPOT", "blind_spot"),
)
WIRE_CAUSES = (("SITE_DOWN", "site_down"), ("UPLINK_DOWN", "uplink_down"),
               ("UPLINK_SLOW", "uplink_slow"), ("COVERAGE_HOLE", "coverage_hole"))
WIRE_ROLES = (("ADMIN", "admin"), ("COUNTY", "county"), ("TESTER", "tester"),
              ("METRICS", "metrics"))
WIRE_GAPS = (("DAEMON_DOWN", "daemon_down"), ("NO_ACTIVE", "no_active"))
WIRE_WARNINGS = (("LOSS_RISING", "loss_rising"), ("RTT_RISING", "rtt_rising"),
                 ("UPLINK_ERRORS_RISING", "uplink_errors_rising"), ("REBOOTS", "reboots"),
                 ("FLAPPING_QUIETLY", "flapping_quietly"), ("CLOCK_DRIFTING", "clock_drifting"))
WIRE_MEASUREMENTS = {
    "status_code", "describe_status_code", "response_seconds", "connect_seconds",
    "rtt_seconds", "rtt_min_seconds", "rtt_max_seconds", "loss_ratio", "jitter_seconds",
    "sent", "received", "sys_uptime_seconds", "uplink_oper_status", "uplink_speed_bps",
    "uplink_in_errors", "uplink_out_errors", "video_packets", "video_bytes_per_second",
    "first_packet_seconds", "keyframe", "timestamps_advancing", "clock_offset_seconds",
}


@pytest.mark.parametrize(("enum", "wire"), [
    (Fault, WIRE_FAULTS), (Problem, WIRE_PROBLEMS), (BlindCause, WIRE_CAUSES), (Role, WIRE_ROLES),
    (GapReason, WIRE_GAPS), (Warning, WIRE_WARNINGS),
])
def test_wire_values_are_pinned(enum: type[StrEnum], wire: tuple[tuple[str, str], ...]) -> None:
    """Names, values and order (the API lists fault kinds in this order) stay as shipped."""
    assert tuple((m.name, m.value) for m in enum) == wire


def test_measurements_are_the_probes_declared_names() -> None:
    """Every probe declares its figures as ``Measurement`` members; together they are all."""
    declared: set[Measurement] = set()
    for name in PROBES:
        names = tuple(get_probe(name).MEASUREMENTS)
        assert all(type(m) is Measurement for m in names), name
        declared.update(names)
    assert {m.value for m in Measurement} == WIRE_MEASUREMENTS
    assert declared == set(Measurement)
    assert (vocab.Measurement, vocab.Reason) == (base.Measurement, base.Reason)


def test_members_read_as_their_strings(tmp_path: Path) -> None:
    """What the design rests on: a member is its string in SQL, JSON, formats and keys."""
    member = Fault.SERVICE_DOWN
    assert (str(member), f"{member}", f"{member:>13}", "%s" % member) == (  # noqa: UP031
        "service_down", "service_down", " service_down", "service_down")
    assert json.dumps({member: [Role.ADMIN]}) == '{"service_down": ["admin"]}'
    assert {"service_down": 1}[member] == 1 and hash(member) == hash("service_down")
    conn = sqlite3.connect(tmp_path / "x.db")
    conn.execute("CREATE TABLE t (fault TEXT)")
    conn.execute("INSERT INTO t VALUES (?)", (member,))
    assert conn.execute("SELECT fault, typeof(fault) FROM t WHERE fault = ?",
                        (Problem.SERVICE_DOWN,)).fetchone() == ("service_down", "text")
    conn.close()


def test_vocab_is_light() -> None:
    """The store and the command line import the vocabulary: it must not bring asyncio."""
    code = ("import sys, netwatch.vocab, netwatch.store; "
            "print(sorted(m for m in ('asyncio', 'probes.base') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "[]"


# --- every fault the monitor opens is a Fault -----------------------------------------

SITE = Device(id="site-1", kind="trunking_site", county="c1", address="127.67.0.1",
              name="site 1", checks=(CheckSpec("icmp", "icmp", 0, None),
                                     CheckSpec("snmp", "snmp", 161, None)),
              interval=30.0, timeout=1.0, open_after=1)
ENDPOINT = replace(SITE, id="vc-1", kind="vc_endpoint", address="127.67.0.2",
                   checks=(CheckSpec("icmp", "icmp", 0, None), CheckSpec("sip", "sip", 5060, None)))
OPEN_AFTER = 2  # the camera's hysteresis: a clock drifts over it, video over its resample
CAMERA = replace(SITE, id="cam-1", kind="camera", address="127.67.0.3", open_after=OPEN_AFTER,
                 checks=(CheckSpec("icmp", "icmp", 0, None), CheckSpec("rtsp", "rtsp", 554, None),
                         CheckSpec("video", "video", 554, None),
                         CheckSpec("onvif_time", "onvif_time", 80, None)))
OK = ProbeResult.ok()
DOWN = ProbeResult.fail(Reason.TIMEOUT, "no reply")


def snmp(status: float = 1, speed: float = 1e9) -> ProbeResult:
    return ProbeResult.ok(uplink_oper_status=status, uplink_speed_bps=speed)


CYCLES: dict[Fault, tuple[Device, list[dict[str, ProbeResult]]]] = {
    Fault.UNREACHABLE: (SITE, [{"icmp": DOWN, "snmp": DOWN}]),
    Fault.SERVICE_DOWN: (SITE, [{"icmp": OK, "snmp": DOWN}]),
    Fault.UPLINK_DOWN: (SITE, [{"icmp": OK, "snmp": snmp(status=2)}]),
    Fault.UPLINK_SLOW: (SITE, [{"icmp": OK, "snmp": snmp(speed=1e8)}]),
    Fault.AUTH_FAILED: (SITE, [{"icmp": OK, "snmp": ProbeResult.fail(Reason.AUTH, "wrong key")}]),
    Fault.DEGRADED_LINK: (ENDPOINT, [{"icmp": ProbeResult.ok(rtt_seconds=0.5, loss_ratio=0.0,
                                                            jitter_seconds=0.0), "sip": OK}]),
    Fault.FLAPPING: (SITE, [{"icmp": OK, "snmp": snmp()}, {"icmp": DOWN, "snmp": DOWN}] * 3),
    Fault.NO_VIDEO: (CAMERA, [{"icmp": OK, "rtsp": OK, "video": ProbeResult.ok(
        video_packets=0, keyframe=0, timestamps_advancing=0)}] * 2),
    Fault.CLOCK_DRIFT: (CAMERA, [{"icmp": OK, "rtsp": OK, "onvif_time": ProbeResult.ok(
        clock_offset_seconds=90.0)}] * OPEN_AFTER),
}


def opened(device: Device, cycles: list[dict[str, ProbeResult]]) -> Iterator[OpenFault]:
    """Feed the cycles to one device like the monitor does; yield every fault it opens."""
    state, open_now = DeviceState(device), dict[str, OpenFault]()
    for i, results in enumerate(cycles):
        state.record(results, 1000.0 + 30 * i)
        for fault in evaluate(state, open_now, None, 1000.0 + 30 * i).opened:
            open_now[fault.fault] = fault
            yield fault


def test_every_fault_the_monitor_opens_is_a_fault_member() -> None:
    """Each kind can be opened, and what opens is the member itself, never a bare string."""
    seen: set[str] = set()
    for kind, (device, cycles) in CYCLES.items():
        faults = list(opened(device, cycles))
        assert kind in {f.fault for f in faults}
        assert all(type(f.fault) is Fault for f in faults), [f.fault for f in faults]
        seen.update(f.fault for f in faults)
    assert seen == set(Fault)
    assert FAULT_KINDS == tuple(Fault)


# --- the two outage sets ----------------------------------------------------------------

def test_the_outage_sets_say_what_they_are() -> None:
    assert OFFLINE_FAULTS == {Fault.UNREACHABLE, Fault.SERVICE_DOWN}
    assert OUTAGE_PROBLEMS == {Problem.UNREACHABLE, Problem.SERVICE_DOWN, Problem.UPLINK_DOWN}
    assert OFFLINE_FAULTS <= OUTAGE_PROBLEMS  # offline is an outage; a dead uplink is not offline


def test_online_rates_count_exactly_the_offline_faults(store: Store) -> None:
    """A notice's downtime counts the devices with an OFFLINE_FAULTS episode, no others."""
    FaultLog(store).apply([NewEpisode(
        device=f"dev-{kind}", county="c1", kind="camera", fault=kind, first_seen=1000.0,
        opened_at=1100.0, suppressed_by=None, detail="", evidence={}) for kind in Fault], [], [])
    seconds, down_at_end = summary.downtime(store.conn, 0.0, 5000.0)
    assert set(seconds) == down_at_end == {f"dev-{kind}" for kind in OFFLINE_FAULTS}
    assert summary.OFFLINE_FAULTS is OFFLINE_FAULTS


def test_severity_rates_exactly_the_outage_problems_as_outages() -> None:
    """Outage problems are major (critical on a site); open streams and cameras without video
    major; the rest minor."""
    camera = replace(SITE, kind="camera")
    for problem in Problem:
        if problem is Problem.BLIND_SPOT:
            continue  # blind spots are rated by their readings (coverage.notice_items)
        outage = problem in OUTAGE_PROBLEMS
        assert candidates.severity(SITE, problem, 0) == (
            "critical" if outage else "major" if problem in candidates.MAJOR else "minor")
        assert candidates.severity(camera, problem, 0) == (
            "major" if outage or problem in (Problem.OPEN_STREAM, Problem.NO_VIDEO) else "minor")


# --- no vocabulary as bare strings --------------------------------------------------------

FAULTISH = {m.value for e in (Fault, Problem, BlindCause, Warning) for m in e}
ROLE_VALUES = {m.value for m in Role}
SKIPPED_DIRS = ("netwatch/store/schema/",)  # SQL: CHECK (role IN ('admin', ...))
# (file, value): a string that only looks like the vocabulary, with the reason
ALLOWED = {
    ("netwatch/lab/netfilter.py", "unreachable"): "the name of an nftables set",
}


def _is_strenum(node: ast.ClassDef) -> bool:
    return any(isinstance(b, ast.Name | ast.Attribute) and
               (b.id if isinstance(b, ast.Name) else b.attr) == "StrEnum" for b in node.bases)


def _skipped(tree: ast.Module) -> set[int]:
    """ids of nodes not to look at: docstrings, f-string text, enum definitions."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            out.add(id(node.value))  # a docstring, or a bare string statement
        elif isinstance(node, ast.JoinedStr):
            out.update(id(v) for v in node.values)
        elif isinstance(node, ast.ClassDef) and _is_strenum(node):
            out.update(id(n) for n in ast.walk(node))  # a vocabulary of its own, typed
    return out


def _text(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _mentions_role(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) and "role" in n.id.lower() or
               isinstance(n, ast.Attribute) and "role" in n.attr.lower() for n in ast.walk(node))


def _role_literals(tree: ast.Module) -> Iterator[ast.Constant]:
    """Role words where they mean a role: compared with a role, or a collection of roles.

    ("county" and "tester" are also field names, so a role word elsewhere is left be;
    "admin" means nothing else.)"""
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and _mentions_role(node):
            for side in (node.left, *node.comparators):
                parts = side.elts if isinstance(side, ast.Tuple | ast.List | ast.Set) else [side]
                yield from (p for p in parts if _text(p) in ROLE_VALUES)  # type: ignore[misc]
        elif isinstance(node, ast.Tuple | ast.List | ast.Set) and node.elts and all(
                _text(e) in ROLE_VALUES for e in node.elts):
            yield from node.elts  # type: ignore[misc]
        elif _text(node) == Role.ADMIN:
            yield node  # type: ignore[misc]


def vocabulary_literals(root: Path) -> list[str]:
    """``path:line: 'value'`` for each bare fault kind, problem, cause or role under netwatch/."""
    found: set[tuple[str, int, str]] = set()
    for path in sorted((root / "netwatch").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel == "netwatch/vocab.py" or rel.startswith(SKIPPED_DIRS):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), rel)
        skipped = _skipped(tree)
        hits = [n for n in ast.walk(tree)
                if isinstance(n, ast.Constant) and _text(n) in FAULTISH]
        hits += _role_literals(tree)
        for node in hits:
            value = _text(node)
            if id(node) not in skipped and (rel, value) not in ALLOWED:
                found.add((rel, node.lineno, str(value)))
    return [f"{rel}:{line}: {value!r}" for rel, line, value in sorted(found)]


def test_no_bare_vocabulary_strings_in_netwatch() -> None:
    """Fault kinds, problems, causes and roles are spelled through ``netwatch.vocab``."""
    assert vocabulary_literals(ROOT) == []


def test_the_scan_finds_a_bare_string(tmp_path: Path) -> None:
    """The scan itself: a bare kind, a role comparison and a set of roles are each caught."""
    (tmp_path / "netwatch").mkdir()
    (tmp_path / "netwatch" / "x.py").write_text(
        '"""unreachable is fine in a docstring."""\n'
        'DOWN = ("unreachable", "service_down")\n'
        'def f(info, c):\n'
        '    if c == "county":\n'  # a field name: not a role
        '        return f"uplink_down {c}"\n'
        '    return info.role == "county" or frozenset({"tester", "metrics"})\n',
        encoding="utf-8")
    assert vocabulary_literals(tmp_path) == [
        "netwatch/x.py:2: 'service_down'", "netwatch/x.py:2: 'unreachable'",
        "netwatch/x.py:6: 'county'", "netwatch/x.py:6: 'metrics'", "netwatch/x.py:6: 'tester'"]
