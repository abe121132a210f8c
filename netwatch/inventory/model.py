"""The validated inventory as frozen data: what every other part of netwatch reads.

``netwatch.inventory.load`` builds these from YAML and CSV; nothing else constructs
them except tests. All durations are seconds, all rates are ratios (0..1),
all speeds bits per second.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

KINDS: tuple[str, ...] = ("trunking_site", "vc_endpoint", "camera", "switch")
TECHNOLOGIES: tuple[str, ...] = ("pdt", "broadband")
DEFAULT_TIMEZONE = "Asia/Shanghai"  # the city's, unless the inventory names another
OPEN_AFTER = 3  # failed cycles before a fault opens, unless the inventory says otherwise
CLOSE_AFTER = 2  # good cycles before it closes
POINT_PRIORITY = 3  # a coverage point's rank in the plan, 1 (highest) .. 5


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """One check of one device: which probe, on which port, with which settings."""

    name: str  # unique within the device; usually the probe name
    probe: str  # key in probes.PROBES
    port: int  # 0 for portless probes (icmp)
    params: Any = field(repr=False)  # the probe module's Params (may hold secrets)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Limits a device's measurements are judged against (defaults: docs/inventory.md)."""

    rtt_seconds: float = 0.3
    jitter_seconds: float = 0.03
    loss_ratio: float = 0.01
    uplink_min_bps: float = 1e9
    link_window: int = 5  # cycles over which RTT, jitter and loss are judged
    flap_changes: int = 5  # state changes within flap_window cycles that make a device flapping
    flap_window: int = 20
    video_every_seconds: float = 3600.0  # a camera's video sampled at most this often
    resample_seconds: float = 300.0  # a sample that found a problem is taken again this much later
    clock_every_seconds: float = 600.0  # a device's clock (onvif_time) read this often
    clock_offset_seconds: float = 5.0  # the largest clock offset that is no drift


@dataclass(frozen=True, slots=True)
class Device:
    """A monitored device with every default already applied."""

    id: str
    kind: str
    county: str
    address: str
    name: str
    checks: tuple[CheckSpec, ...]
    interval: float
    timeout: float
    thresholds: Thresholds = Thresholds()
    open_after: int = OPEN_AFTER
    close_after: int = CLOSE_AFTER
    grace_seconds: float = 1800.0
    rectify_within_days: int = 1
    lat: float | None = None
    lon: float | None = None
    parent: str | None = None
    site: str = ""
    key_area: bool = False
    # "FILE:LINE" where the device is defined, for messages; not part of the definition,
    # so an edit that only moves a device's line does not count it as changed on reload
    source: str = field(default="", compare=False)
    snmp_profile: str | None = None  # name of the SNMP profile its snmp check uses
    uplink_if: int | str | None = None  # ifIndex or ifName of the uplink (sites, switches)

    def check(self, name: str) -> CheckSpec | None:
        return next((c for c in self.checks if c.name == name), None)


@dataclass(frozen=True, slots=True)
class Contact:
    name: str
    email: str = ""
    phone: str = ""


Ring = tuple[tuple[float, float], ...]  # (lon, lat) pairs
Polygon = tuple[Ring, ...]  # an outer ring, then its holes


@dataclass(frozen=True, slots=True)
class Area:
    """A county's outline in WGS-84: polygons, each an outer ring then its holes.

    Rings are closed (first position repeated last). Built by
    ``netwatch.inventory.boundaries`` from an inline ring or a GeoJSON feature; the
    survey places readings with it and the maps draw it, so both see the same line.
    """

    polygons: tuple[Polygon, ...]
    lon_min: float
    lat_min: float
    lon_max: float
    lat_max: float
    source: str = field(default="", compare=False)  # "FILE:LINE" or "FILE: feature N"

    @classmethod
    def of(cls, polygons: tuple[Polygon, ...], source: str = "") -> Area:
        """The area of ``polygons`` with its bounding box."""
        lons = [x for poly in polygons for x, _ in poly[0]]
        lats = [y for poly in polygons for _, y in poly[0]]
        return cls(polygons, min(lons), min(lats), max(lons), max(lats), source)


@dataclass(frozen=True, slots=True)
class County:
    id: str
    name: str
    receiving_unit: str
    contacts: tuple[Contact, ...] = ()
    boundary: Ring = ()  # the inline (lon, lat) ring as written, in the inventory's datum
    code: str = ""  # 6-digit administrative division code (行政区划代码), optional
    area: Area | None = None  # the outline in WGS-84 (inline ring or boundary file), if any
    source: str = field(default="", compare=False)  # "FILE:LINE" of the county's entry
    # hours of declared outages (停机报备) the county may declare per calendar month; None:
    # no cap
    outage_cap_hours: float | None = None


@dataclass(frozen=True, slots=True)
class CoveragePoint:
    id: str
    name: str
    county: str
    lat: float
    lon: float
    technology: str = TECHNOLOGIES[0]
    serving_site: str | None = None
    priority: int = POINT_PRIORITY
    source: str = ""


SMTP_DEADLINE = 60.0  # default seconds for one whole mail send
WEBHOOK_DEADLINE = 15.0  # default seconds for one whole webhook POST


@dataclass(frozen=True, slots=True)
class SmtpDelivery:
    host: str
    port: int = 25
    starttls: bool = False
    username: str = ""
    password: str = field(default="", repr=False)
    sender: str = ""
    recipients: tuple[str, ...] = ()  # besides each county's contacts
    enabled: bool = True
    deadline: float = SMTP_DEADLINE  # seconds one send may take in all, however slow


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    url: str = field(repr=False)  # may carry credentials; logs show it scrubbed
    secret: str = field(default="", repr=False)  # HMAC-SHA256 signing key
    enabled: bool = True
    deadline: float = WEBHOOK_DEADLINE  # seconds one POST may take in all


ONLINE_TARGET_KEYS: tuple[str, ...] = (
    "camera_key_area", "camera", "vc_endpoint", "trunking_site", "switch",
)


WEEKEND: tuple[int, ...] = (6, 7)  # ISO weekdays: Saturday, Sunday


@dataclass(frozen=True, slots=True)
class CircularSettings:
    """The monthly circular (月度通报, docs/circulars.md): its number, schedule, targets and
    the thresholds of its praise and criticism. Issuing needs a ``prefix``."""

    prefix: str = ""  # its own 发文字号 prefix, numbered like the notices
    enabled: bool = True  # False: the daemon issues none (the command still does)
    at: time = time(9, 0)  # time of day on the month's first working day, notices' timezone
    video_target: float = 0.95  # video availability (视频可用率)
    clock_target: float = 0.95  # clock accuracy (时钟准确率)
    praise_rank: int = 1  # praised only when ranked this high or better in some table
    criticise_margin: float = 0.05  # named when a rate is this far (or more) below its target
    criticise_overdue: int = 1  # named when this many items are overdue at the month's end


@dataclass(frozen=True, slots=True)
class NoticeSettings:
    """How rectification notices are numbered, scheduled, judged and delivered (docs/notices.md)."""

    issuing_unit: str = ""
    prefix: str = ""
    schedule: str = "0 8 * * 1"  # cron, 5 fields, in ``timezone``
    timezone: str = DEFAULT_TIMEZONE
    contact: str = ""
    verification_window_seconds: float = 86400.0
    recurrence_window_seconds: float = 30 * 86400.0
    holidays: tuple[date, ...] = ()  # days off on working weekdays
    workdays: tuple[date, ...] = ()  # make-up working days (调休上班) on the weekend
    weekend: tuple[int, ...] = WEEKEND  # ISO weekdays that are days off unless in workdays
    online_targets: Mapping[str, float] = field(default_factory=lambda: {
        "camera_key_area": 0.98, "camera": 0.95, "vc_endpoint": 0.95,
        "trunking_site": 0.98, "switch": 0.98,
    })
    smtp: SmtpDelivery | None = None
    webhook: WebhookDelivery | None = None
    fault_retention_seconds: float = 400 * 86400.0  # closed fault episodes no item refers to
    delivery_retention_seconds: float = 90 * 86400.0  # deliveries sent without a failure
    header: str = ""  # the red 版头 text (e.g. a 支队's name); the issuing unit when empty
    cc: str = ""  # 抄送 line of the 版记 (e.g. the city bureau's command centre)
    auth_failed_items: bool = False  # credential/configuration faults become county items
    public_url: str = ""  # where the web app is reached: webhook bodies carry full URLs
    circular: CircularSettings = CircularSettings()


@dataclass(frozen=True, slots=True)
class PdtThresholds:
    """PDT reading classes (docs/coverage.md): blind below weak_dbm or above max_ber."""

    good_dbm: float = -90.0
    fair_dbm: float = -100.0
    weak_dbm: float = -108.0
    max_ber: float = 0.05


@dataclass(frozen=True, slots=True)
class BroadbandThresholds:
    rsrp_min_dbm: float = -110.0
    sinr_min_db: float = -3.0


@dataclass(frozen=True, slots=True)
class CoverageThresholds:
    pdt: PdtThresholds = PdtThresholds()
    broadband: BroadbandThresholds = BroadbandThresholds()


@dataclass(frozen=True, slots=True)
class BBox:
    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float


DATUMS: tuple[str, ...] = ("wgs84", "gcj02", "bd09")


@dataclass(frozen=True, slots=True)
class BoundaryFile:
    """Where the counties' outlines come from when not inline: a GeoJSON FeatureCollection."""

    path: str  # as resolved against the inventory's directory
    datum: str = "wgs84"  # GeoJSON's own; gcj02 and bd09 are converted at load
    id_property: str = "id"  # the feature property naming the county (else the feature's id)


@dataclass(frozen=True, slots=True)
class CoverageSettings:
    """How readings become verdicts (docs/coverage.md); county thresholds override the city's."""

    datum: str = "wgs84"  # datum of the inventory's own coordinates
    bbox: BBox | None = None
    window_seconds: float = 30 * 86400.0
    min_readings: int = 3
    cell_size_m: float = 300.0
    rectify_within_days: int = 30
    retention_seconds: float = 365 * 86400.0  # how long readings are kept
    thresholds: CoverageThresholds = CoverageThresholds()
    county_thresholds: Mapping[str, CoverageThresholds] = field(default_factory=dict)

    def thresholds_for(self, county: str) -> CoverageThresholds:
        return self.county_thresholds.get(county, self.thresholds)


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    """Planned work: notices are suppressed for matching devices, measurement goes on.

    A window is one-off (``start``..``end``) or recurring (``cron`` + ``duration``).
    A device matches when it satisfies every selector given (devices, county, site, kind).
    """

    reason: str
    devices: tuple[str, ...] = ()
    county: str | None = None
    site: str | None = None
    kind: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    cron: str | None = None
    duration_seconds: float = 0.0
    timezone: str = DEFAULT_TIMEZONE  # of ``cron``
    source: str = ""

    def matches(self, device: Device) -> bool:
        return (
            (not self.devices or device.id in self.devices)
            and (self.county is None or device.county == self.county)
            and (self.site is None or device.site == self.site)
            and (self.kind is None or device.kind == self.kind)
        )

    def active_at(self, when: datetime) -> bool:
        """Whether the window covers the aware datetime ``when``."""
        if self.start is not None and self.end is not None:
            return self.start <= when < self.end
        from netwatch.inventory.units import cron_trigger

        trigger = cron_trigger(self.cron or "", self.timezone)
        # the latest start in (when - duration, when] opens a window that covers ``when``
        opened = when - timedelta(seconds=self.duration_seconds) + timedelta(microseconds=1)
        fire = trigger.get_next_fire_time(None, opened)
        return fire is not None and fire <= when


@dataclass(frozen=True, slots=True)
class OutageSettings:
    """How far ahead and how long a county may declare an outage (停机报备), city-wide."""

    max_ahead_seconds: float = 7 * 86400.0  # its start at most this far from when it is made
    max_length_seconds: float = 7 * 86400.0  # its end at most this far after its start


@dataclass(frozen=True, slots=True)
class WarningSettings:
    """When the monitor raises an early warning (预警) from a trend (docs/inventory.md).

    Baselines are exponentially weighted means over ``baseline_tau`` (days), against
    which a mean over ``recent_tau`` (an hour) is compared once ``min_samples`` cycles
    have been seen; a warning clears when its rise falls below half its threshold.
    """

    baseline_tau: float = 3 * 86400.0  # seconds: the slow mean, each device's normal
    recent_tau: float = 3600.0  # seconds: the fast mean compared with it
    min_samples: int = 720  # cycles seen before a baseline judges anything
    loss_rise: float = 0.02  # loss ratio above the baseline's (absolute: 2 points)
    rtt_rise: float = 0.5  # RTT above the baseline's, as a share of it
    rtt_min_rise: float = 0.02  # seconds: and at least this much (noise on fast links)
    uplink_errors: int = 50  # uplink error counters (in + out) grown within errors_window
    errors_window: float = 3600.0
    reboots_per_day: int = 3  # uptime resets within a day
    flap_changes: int = 3  # up/down changes within the flap window, short of the fault's
    clock_drift_per_day: float = 2.0  # seconds a day the offset moves, fitted over clock_window
    clock_window: float = 6 * 3600.0
    clock_min_samples: int = 6
    flush_every: float = 300.0  # seconds between writes of the baselines to the store
    # a device kind's own settings: the city's with that kind's keys overlaid
    kinds: Mapping[str, WarningSettings] = field(default_factory=dict)

    def for_kind(self, kind: str) -> WarningSettings:
        """The settings a device of ``kind`` is judged with."""
        return self.kinds.get(kind, self)


@dataclass(frozen=True, slots=True)
class Inventory:
    """Everything the inventory file says, validated, defaults applied."""

    path: str
    city: str
    timezone: str
    counties: Mapping[str, County]
    devices: tuple[Device, ...]
    points: tuple[CoveragePoint, ...] = ()
    notices: NoticeSettings = NoticeSettings()
    coverage: CoverageSettings = CoverageSettings()
    maintenance: tuple[MaintenanceWindow, ...] = ()
    warnings: WarningSettings = WarningSettings()
    outages: OutageSettings = OutageSettings()

    def by_id(self) -> dict[str, Device]:
        return {d.id: d for d in self.devices}
