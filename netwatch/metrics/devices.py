"""Per-device metric families: pre-rendered label sets and one group's sample lines.

Label sets are rendered once per inventory load (``DeviceLabels``); after each
sweep a group's samples are rendered into one byte chunk per family
(``render_group``), so a scrape only concatenates. Names, sites and
coordinates appear only on ``netwatch_device_info``; check settings (which may
hold SNMP secrets) are never read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from netwatch.inventory import Device, Inventory
from netwatch.metrics.text import FamilySpec, escape_label, label_body, number
from netwatch.monitor import DeviceState
from netwatch.vocab import Measurement

CYCLE = "from the latest scheduled probe cycle"

DEVICE_INFO = FamilySpec(
    "netwatch_device_info", "gauge",
    "Inventory facts of a device (always 1); the only per-device series with name, site "
    "and coordinates, for joins on device.")
POINT_INFO = FamilySpec(
    "netwatch_coverage_point_info", "gauge",
    "Inventory facts of a coverage point (always 1), for maps and joins on point.")

UP = FamilySpec("netwatch_device_up", "gauge",
                f"1 when every check of the device passed, before hysteresis, {CYCLE}.")
SUCCESS = FamilySpec("netwatch_probe_success", "gauge",
                     f"1 when the check succeeded, {CYCLE}.")
DURATION = FamilySpec("netwatch_probe_duration_seconds", "gauge",
                      f"Wall time the check took, {CYCLE}.")

Transform = Callable[[float], float]


@dataclass(frozen=True, slots=True)
class Measured:
    """A probe measurement exported as its own family, with an optional conversion."""

    probe: str
    measurement: Measurement
    spec: FamilySpec
    convert: Transform | None = None


MEASURED: tuple[Measured, ...] = (
    Measured("icmp", Measurement.RTT_SECONDS, FamilySpec(
        "netwatch_icmp_rtt_seconds", "gauge", f"Mean ICMP echo round-trip time, {CYCLE}.")),
    Measured("icmp", Measurement.LOSS_RATIO, FamilySpec(
        "netwatch_icmp_packet_loss_ratio", "gauge",
        f"Share of ICMP echoes without a reply (0..1), {CYCLE}.")),
    Measured("icmp", Measurement.JITTER_SECONDS, FamilySpec(
        "netwatch_icmp_jitter_seconds", "gauge",
        f"Mean difference between consecutive ICMP round-trip times, {CYCLE}.")),
    Measured("snmp", Measurement.SYS_UPTIME_SECONDS, FamilySpec(
        "netwatch_snmp_uptime_seconds", "gauge",
        f"Seconds since the SNMP agent (re)started (sysUpTime), {CYCLE}.")),
    Measured("snmp", Measurement.UPLINK_OPER_STATUS, FamilySpec(
        "netwatch_uplink_up", "gauge",
        f"1 when the uplink's ifOperStatus is up(1), {CYCLE}."),
        lambda status: 1.0 if status == 1 else 0.0),
    Measured("snmp", Measurement.UPLINK_SPEED_BPS, FamilySpec(
        "netwatch_uplink_speed_bytes_per_second", "gauge",
        f"Negotiated uplink speed in bytes per second (bits / 8), {CYCLE}."),
        lambda bps: bps / 8),
    Measured("snmp", Measurement.UPLINK_IN_ERRORS, FamilySpec(
        "netwatch_uplink_in_errors_total", "counter",
        f"The uplink's ifInErrors counter as the device reports it, {CYCLE}.")),
    Measured("snmp", Measurement.UPLINK_OUT_ERRORS, FamilySpec(
        "netwatch_uplink_out_errors_total", "counter",
        f"The uplink's ifOutErrors counter as the device reports it, {CYCLE}.")),
    Measured("http", Measurement.STATUS_CODE, FamilySpec(
        "netwatch_http_status_code", "gauge", f"HTTP response status code, {CYCLE}.")),
    Measured("rtsp", Measurement.STATUS_CODE, FamilySpec(
        "netwatch_rtsp_status_code", "gauge", f"RTSP OPTIONS response status code, {CYCLE}.")),
    Measured("sip", Measurement.STATUS_CODE, FamilySpec(
        "netwatch_sip_status_code", "gauge", f"SIP OPTIONS response status code, {CYCLE}.")),
)

# The families a group chunk holds, in output order; chunk[i] belongs to FAMILIES[i].
FAMILIES: tuple[FamilySpec, ...] = (UP, SUCCESS, DURATION) + tuple(m.spec for m in MEASURED)
_FIRST_MEASURED = 3
# probe name → (measurement, family index, conversion) for that probe's exported figures
_BY_PROBE: dict[str, tuple[tuple[Measurement, int, Transform | None], ...]] = {}
for _i, _m in enumerate(MEASURED, _FIRST_MEASURED):
    _BY_PROBE[_m.probe] = _BY_PROBE.get(_m.probe, ()) + ((_m.measurement, _i, _m.convert),)

Chunk = tuple[bytes, ...]
EMPTY: Chunk = (b"",) * len(FAMILIES)


@dataclass(frozen=True, slots=True)
class DeviceLabels:
    """One device's rendered label sets: ``body`` without braces (to extend), ``braced``,
    and per check (name, probe, braced set with ``check`` and ``probe``)."""

    body: str
    braced: str
    checks: tuple[tuple[str, str, str], ...]


def device_body(county: str, kind: str, device: str) -> str:
    return label_body((("county", county), ("kind", kind), ("device", device)))


class LabelRenderer:
    """Renders label sets for a whole inventory, reusing the few distinct county, kind
    and check texts (100,000 devices in a fraction of a second)."""

    def __init__(self) -> None:
        self._prefixes: dict[tuple[str, str], str] = {}
        self._suffixes: dict[tuple[str, str], str] = {}

    def device(self, device: Device) -> DeviceLabels:
        prefix = self._prefixes.get((device.county, device.kind))
        if prefix is None:
            prefix = self._prefixes[(device.county, device.kind)] = label_body(
                (("county", device.county), ("kind", device.kind)))
        body = f'{prefix},device="{escape_label(device.id)}"'
        checks = []
        for c in device.checks:
            suffix = self._suffixes.get((c.name, c.probe))
            if suffix is None:
                suffix = self._suffixes[(c.name, c.probe)] = (
                    "," + label_body((("check", c.name), ("probe", c.probe))) + "}")
            checks.append((c.name, c.probe, "{" + body + suffix))
        return DeviceLabels(body, "{" + body + "}", tuple(checks))


def device_labels(device: Device) -> DeviceLabels:
    return LabelRenderer().device(device)


def _coordinate(value: float | None) -> str:
    return "" if value is None else repr(value)


def info_text(inventory: Inventory, by_device: dict[str, DeviceLabels],
              exported: Callable[[str], bool] = lambda county: True) -> bytes:
    """``netwatch_device_info`` and ``netwatch_coverage_point_info`` of the ``exported``
    counties, rendered per load (and per change of the counties this instance is active for)."""
    lines = [DEVICE_INFO.header]
    for d in inventory.devices:
        if not exported(d.county):
            continue
        lines.append(
            f'netwatch_device_info{{{by_device[d.id].body},site="{escape_label(d.site)}",'
            f'name="{escape_label(d.name)}",lat="{_coordinate(d.lat)}",'
            f'lon="{_coordinate(d.lon)}"}} 1\n')
    if inventory.points:
        lines.append(POINT_INFO.header)
        for p in inventory.points:
            if not exported(p.county):
                continue
            body = label_body((("county", p.county), ("point", p.id), ("name", p.name),
                               ("lat", repr(p.lat)), ("lon", repr(p.lon)),
                               ("technology", p.technology)))
            lines.append(f"netwatch_coverage_point_info{{{body}}} 1\n")
    return "".join(lines).encode()


def render_group(states: Iterable[DeviceState], by_device: dict[str, DeviceLabels]) -> Chunk:
    """Every per-device family's sample lines for these devices, one byte chunk per family.

    Devices not probed yet have no samples; a check without a result this cycle
    has none either (absent, not zero). Runs for every device after every sweep:
    the common case (finite floats) is formatted inline, as ``number`` would.
    """
    out: list[list[str]] = [[] for _ in FAMILIES]
    add_up, add_success, add_duration = out[0].append, out[1].append, out[2].append
    adders = [lines.append for lines in out]
    names = [spec.name for spec in FAMILIES]
    by_probe = _BY_PROBE
    as_text = float.__repr__
    for state in states:
        verdict = state.verdict
        if verdict is None:
            continue
        device = state.device
        lab = by_device.get(device.id) or device_labels(device)
        add_up(f"netwatch_device_up{lab.braced} {'1' if verdict.up else '0'}\n")
        results = state.results
        for check, probe, check_labels in lab.checks:
            result = results.get(check)
            if result is None:
                continue
            add_success(
                f"netwatch_probe_success{check_labels} {'1' if result.success else '0'}\n")
            took = result.duration_seconds
            took_text = (as_text(took) if took.__class__ is float and took - took == 0.0
                         else number(took))
            add_duration(f"netwatch_probe_duration_seconds{check_labels} {took_text}\n")
            measurements = result.measurements
            if not measurements:
                continue
            for key, index, convert in by_probe.get(probe, ()):
                value = measurements.get(key)
                if value is not None:
                    if convert is not None:
                        value = convert(value)
                    text = (as_text(value) if value.__class__ is float and value - value == 0.0
                            else number(value))
                    adders[index](f"{names[index]}{check_labels} {text}\n")
    return tuple("".join(lines).encode() for lines in out)
