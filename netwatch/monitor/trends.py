"""Early warnings (预警): trends in data already collected, raised before anything fails.

A warning is not a fault: nothing opens, nothing is suppressed, no notice item follows;
it says a device is heading somewhere. ``Trends`` is a monitor listener (the daemon
registers it); after each sweep it reads each device's ``DeviceState`` of the counties
this instance is active for and judges six warnings (``netwatch.vocab.Warning``) with the
inventory's ``warnings`` settings (``WarningSettings``, docs/inventory.md):

- ``loss_rising``, ``rtt_rising``: the ICMP check's loss and RTT against the device's own
  baseline. Each cycle with a reply updates two exponentially weighted means per figure,
  ``m += a * (x - m)`` with ``a = max(1 / n, 1 - exp(-dt / tau))``: ``n`` the samples
  seen, this one included (the plain mean until ``n`` cycles span ``tau``, so the first
  sample does not weigh for days), ``dt`` the time since the previous sample (at most the
  device's interval, so one sample after a gap does not replace the mean); the baseline
  with ``baseline_tau`` (3 days), the recent mean with ``recent_tau`` (1 hour). Once
  ``min_samples`` cycles are in, loss warns when the recent mean exceeds the baseline by
  ``loss_rise`` (absolute), RTT when by more than both ``rtt_rise`` of the baseline and
  ``rtt_min_rise``. A device's ordinary jitter moves the
  recent mean little and the baseline learns it: only a sustained rise warns.
- ``uplink_errors_rising``: the SNMP uplink's in + out error counters grew by
  ``uplink_errors`` or more within ``errors_window`` (a counter that goes back, a
  reboot, starts the count over).
- ``reboots``: ``reboots_per_day`` uptime resets or more within a day
  (``DeviceState.rebooted_at``).
- ``flapping_quietly``: ``flap_changes`` up/down changes or more within the device's flap
  window, fewer than its flapping fault needs, and no fault open on the device.
- ``clock_drifting``: the ``clock_offset_seconds`` figure (the ONVIF time check) fitted by
  least squares over ``clock_window``: the offset moves by ``clock_drift`` seconds a day
  or more, steadily (the fit explains at least ``STEADY`` of the offsets' variance).

A warning raised clears when its figure falls below half its threshold (the counts:
below the threshold), so a figure hovering at the threshold does not toggle it.

This module owns two tables. ``warning_baselines`` keeps the means across restarts and
takeovers: written in batches, every ``flush_every`` (5 minutes) and at a clean stop,
never at every sweep (100,000 devices), and read when a county becomes this instance's
(its start, a takeover); until then its devices are not judged. A periodic write takes
only the baselines that moved since the store last had them (an RTT mean by more than
``RTT_TOLERANCE`` of itself, a loss mean by more than ``LOSS_TOLERANCE``) or that are
``STORED_MAX_AGE`` old there: a steady city's means hardly move, and writing every
device's row every 5 minutes cost PostgreSQL about 330 rows and 260 KiB of WAL a second
per 100,000 devices. A means restored after a restart is then within those tolerances of
the one lost, far inside any warning's threshold. A clean stop writes every row. ``device_warnings``
holds the warnings raised now, written when one is raised or cleared (their figures
refreshed with the baselines), for the API and the notices, which the duties leader
issues from the database. Both are written as ``status`` writes: on the database
thread, one transaction per county, fenced by the county's lease; a write refused or
lost is made again (the county's whole state) at the next sweep.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections import deque
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field

from netwatch.inventory import Device, WarningSettings
from netwatch.monitor.leases import Fenced, guard
from netwatch.monitor.monitor import Monitor
from netwatch.monitor.slices import in_slices
from netwatch.monitor.state import DeviceState
from netwatch.runtime import stop_task, wait_done
from netwatch.store import Handle, OperationalError, Store, guarded
from netwatch.vocab import Measurement, Warning
from probes.base import ProbeResult

log = logging.getLogger(__name__)

CLOCK_OFFSET = Measurement.CLOCK_OFFSET_SECONDS  # onvif_time's figure: device clock - ours
STEADY = 0.8  # share of the offsets' variance a drift's straight line must explain
DAY = 86400.0
KNOWN = frozenset(Warning)  # a row of a warning a later version added is left unread
ORDER = {w: i for i, w in enumerate(Warning)}

BASELINE_COLUMNS = "device, county, rtt, loss, recent_rtt, recent_loss, samples, sampled_at, holder"
UPSERT_BASELINE = (
    f"INSERT INTO warning_baselines ({BASELINE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (device) DO UPDATE SET county = excluded.county, rtt = excluded.rtt, "
    "loss = excluded.loss, recent_rtt = excluded.recent_rtt, "
    "recent_loss = excluded.recent_loss, samples = excluded.samples, "
    "sampled_at = excluded.sampled_at, holder = excluded.holder")
WARNING_COLUMNS = "device, warning, county, kind, since, figures, holder"
UPSERT_WARNING = (
    f"INSERT INTO device_warnings ({WARNING_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (device, warning) DO UPDATE SET county = excluded.county, "
    "kind = excluded.kind, since = excluded.since, figures = excluded.figures, "
    "holder = excluded.holder")


@dataclass(frozen=True, slots=True)
class Raised:
    """A warning raised on a device: since when, and the figures behind it."""

    since: float
    figures: dict[str, float]


@dataclass(frozen=True, slots=True)
class StoredWarning:
    """One row of ``device_warnings``: a warning raised now, as its county's active wrote it."""

    device: str
    warning: Warning
    county: str
    kind: str
    since: float
    figures: dict[str, float]


BaselineRow = tuple[float | None, float, float | None, float, int, float]


RTT_TOLERANCE = 0.05  # of the stored RTT mean (at least RTT_FLOOR): a move worth writing
RTT_FLOOR = 0.0002  # seconds: a loopback's microseconds of jitter are no move
LOSS_TOLERANCE = 0.01  # of a loss mean (a ratio)
STORED_MAX_AGE = 6 * 3600.0  # seconds: a stored baseline is written again at least this often


def _moved(old: float | None, new: float | None, tolerance: float) -> bool:
    if old is None or new is None:
        return old is not new
    return abs(new - old) > tolerance


@dataclass(slots=True)
class Trend:
    """What one device's warnings are judged from; the means are what the store keeps."""

    rtt: float | None = None  # baseline (slow mean), seconds
    loss: float = 0.0
    recent_rtt: float | None = None  # recent (fast) mean
    recent_loss: float = 0.0
    samples: int = 0  # cycles with a reply seen
    sampled_at: float = 0.0
    errors: deque[tuple[float, float]] | None = None  # (time, in + out errors)
    reboots: deque[float] | None = None  # times of the resets seen
    rebooted_at: float | None = None  # the latest reset seen
    clock: deque[tuple[float, float]] | None = None  # (time, clock offset)
    raised: dict[Warning, Raised] = field(default_factory=dict)
    stored: BaselineRow | None = None  # the row the store has, as far as this instance knows

    def baseline_row(self) -> BaselineRow:
        return (self.rtt, self.loss, self.recent_rtt, self.recent_loss, self.samples,
                self.sampled_at)

    def take(self, row: BaselineRow) -> None:
        """A baseline read from the store (a restart, a takeover)."""
        (self.rtt, self.loss, self.recent_rtt, self.recent_loss, self.samples,
         self.sampled_at) = row
        self.stored = row

    def worth_writing(self) -> bool:
        """Whether the means moved since the store's row, or that row is old (module
        docstring): what a periodic write takes."""
        old = self.stored
        if old is None:
            return True
        rtt_tolerance = max(RTT_TOLERANCE * (old[0] or 0.0), RTT_FLOOR)
        return (self.sampled_at - old[5] >= STORED_MAX_AGE
                or _moved(old[0], self.rtt, rtt_tolerance)
                or _moved(old[2], self.recent_rtt, rtt_tolerance)
                or _moved(old[1], self.loss, LOSS_TOLERANCE)
                or _moved(old[3], self.recent_loss, LOSS_TOLERANCE))

    def sample(self, rtt: float | None, loss: float, now: float, interval: float,
               settings: WarningSettings) -> None:
        """One cycle's ICMP figures into both means (see the module docstring)."""
        n = self.samples + 1
        dt = min(max(now - self.sampled_at, 0.0), interval)
        slow = max(1.0 / n, 1.0 - math.exp(-dt / settings.baseline_tau))
        fast = max(1.0 / n, 1.0 - math.exp(-dt / settings.recent_tau))
        self.loss += slow * (loss - self.loss)
        self.recent_loss += fast * (loss - self.recent_loss)
        if rtt is not None:
            self.rtt = rtt if self.rtt is None else self.rtt + slow * (rtt - self.rtt)
            self.recent_rtt = (rtt if self.recent_rtt is None
                               else self.recent_rtt + fast * (rtt - self.recent_rtt))
        self.samples += 1
        self.sampled_at = now


def judge(trend: Trend, state: DeviceState, fault_open: bool, now: float,
          settings: WarningSettings) -> dict[Warning, dict[str, float] | None]:
    """Take the device's latest cycle into its trend; each warning's figures when its
    rule says raised, None when it says cleared, absent when it says nothing new."""
    device, results = state.device, state.results
    said: dict[Warning, dict[str, float] | None] = {}
    icmp = _icmp(device, results)
    if icmp is not None:
        trend.sample(*icmp, now, device.interval, settings)
    if trend.samples >= settings.min_samples:
        _loss(trend, settings, said)
        _rtt(trend, settings, said)
    _errors(trend, results, now, settings, said)
    _reboots(trend, state, now, settings, said)
    changes = state.state_changes()
    quiet = not fault_open and settings.flap_changes <= changes < device.thresholds.flap_changes
    said[Warning.FLAPPING_QUIETLY] = (
        {"changes": float(changes), "cycles": float(device.thresholds.flap_window)}
        if quiet else None)
    _clock(trend, state, now, settings, said)
    return said


def _hysteresis(raised: bool, value: float, limit: float) -> bool:
    """Raised at ``limit``, cleared below half of it."""
    return value >= (limit / 2 if raised else limit)


def _loss(trend: Trend, s: WarningSettings, said: dict[Warning, dict[str, float] | None]
          ) -> None:
    rise = trend.recent_loss - trend.loss
    on = _hysteresis(Warning.LOSS_RISING in trend.raised, rise, s.loss_rise)
    said[Warning.LOSS_RISING] = ({"baseline": trend.loss, "recent": trend.recent_loss}
                                 if on else None)


def _rtt(trend: Trend, s: WarningSettings, said: dict[Warning, dict[str, float] | None]) -> None:
    if trend.rtt is None or trend.recent_rtt is None:
        return
    limit = max(s.rtt_rise * trend.rtt, s.rtt_min_rise)
    on = _hysteresis(Warning.RTT_RISING in trend.raised, trend.recent_rtt - trend.rtt, limit)
    said[Warning.RTT_RISING] = ({"baseline": trend.rtt, "recent": trend.recent_rtt}
                                if on else None)


def _errors(trend: Trend, results: dict[str, ProbeResult], now: float, s: WarningSettings,
            said: dict[Warning, dict[str, float] | None]) -> None:
    total = None
    for result in results.values():
        m = result.measurements
        if Measurement.UPLINK_IN_ERRORS in m or Measurement.UPLINK_OUT_ERRORS in m:
            total = (m.get(Measurement.UPLINK_IN_ERRORS, 0.0)
                     + m.get(Measurement.UPLINK_OUT_ERRORS, 0.0))
            break
    if total is None:
        if trend.errors is None:
            return  # no uplink counters on this device (or none yet)
    else:
        if trend.errors is None:
            trend.errors = deque()
        elif trend.errors and total < trend.errors[-1][1]:
            trend.errors.clear()  # the counters went back: a reboot or a wrap
        trend.errors.append((now, total))
    window = trend.errors
    while window and window[0][0] < now - s.errors_window:
        window.popleft()
    grown = window[-1][1] - window[0][1] if window else 0.0
    on = _hysteresis(Warning.UPLINK_ERRORS_RISING in trend.raised, grown, s.uplink_errors)
    said[Warning.UPLINK_ERRORS_RISING] = (
        {"errors": grown, "window_seconds": s.errors_window} if on else None)


def _reboots(trend: Trend, state: DeviceState, now: float, s: WarningSettings,
             said: dict[Warning, dict[str, float] | None]) -> None:
    if state.rebooted_at is not None and state.rebooted_at != trend.rebooted_at:
        trend.rebooted_at = state.rebooted_at
        if trend.reboots is None:
            trend.reboots = deque()
        trend.reboots.append(state.rebooted_at)
    if trend.reboots is None:
        return
    while trend.reboots and trend.reboots[0] < now - DAY:
        trend.reboots.popleft()
    count = len(trend.reboots)
    said[Warning.REBOOTS] = ({"count": float(count), "window_seconds": DAY}
                             if count >= s.reboots_per_day else None)


def _clock(trend: Trend, state: DeviceState, now: float, s: WarningSettings,
           said: dict[Warning, dict[str, float] | None]) -> None:
    """A steady drift of the sampled clock offset: each sample once, at the time it was
    taken (a cycle between samples shows the latest again, which is no new point)."""
    for name, result in state.samples.items():
        offset = result.measurements.get(CLOCK_OFFSET)
        taken = state.sampled_at.get(name)
        if offset is None or taken is None:
            continue
        if trend.clock is None:
            trend.clock = deque()
        if not trend.clock or trend.clock[-1][0] < taken:
            trend.clock.append((taken, offset))
    window = trend.clock
    if window is None:
        return
    while window and window[0][0] < now - s.clock_window:
        window.popleft()
    if not window:
        said[Warning.CLOCK_DRIFTING] = None
        return
    if len(window) < s.clock_min_samples or window[-1][0] - window[0][0] < s.clock_window / 2:
        return  # too little to judge: as it was
    slope, fit = _line(window)
    per_day = abs(slope) * DAY
    on = fit >= STEADY and _hysteresis(Warning.CLOCK_DRIFTING in trend.raised, per_day,
                                       s.clock_drift_per_day)
    said[Warning.CLOCK_DRIFTING] = ({"seconds_per_day": slope * DAY, "offset": window[-1][1]}
                                    if on else None)


def _line(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares slope of the points and the share of variance it explains (r²)."""
    n = len(points)
    mx = sum(t for t, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((t - mx) ** 2 for t, _ in points)
    syy = sum((y - my) ** 2 for _, y in points)
    sxy = sum((t - mx) * (y - my) for t, y in points)
    if sxx == 0.0:
        return 0.0, 0.0
    slope = sxy / sxx
    return slope, (1.0 if syy == 0.0 else sxy * sxy / (sxx * syy))


def _icmp(device: Device, results: dict[str, ProbeResult]) -> tuple[float | None, float] | None:
    """(RTT, loss) of the device's ICMP check when it got a reply this cycle."""
    for check in device.checks:
        result = results.get(check.name)
        if check.probe != "icmp" or result is None:
            continue
        m = result.measurements
        loss = m.get(Measurement.LOSS_RATIO)
        if loss is not None and loss < 1.0:
            return m.get(Measurement.RTT_SECONDS), loss
    return None


# -- the store ---------------------------------------------------------------------------

def load_trends(db: Handle, county: str) -> tuple[dict[str, BaselineRow],
                                                  dict[str, dict[Warning, Raised]]]:
    """The county's baselines and warnings raised, as its last active wrote them."""
    baselines = {r[0]: (r[1], float(r[2]), r[3], float(r[4]), int(r[5]), float(r[6]))
                 for r in db.execute(
                     "SELECT device, rtt, loss, recent_rtt, recent_loss, samples, sampled_at "
                     "FROM warning_baselines WHERE county = ?", (county,))}
    raised: dict[str, dict[Warning, Raised]] = {}
    for device, warning, since, figures in db.execute(
            "SELECT device, warning, since, figures FROM device_warnings WHERE county = ?",
            (county,)):
        if warning in KNOWN:
            raised.setdefault(device, {})[Warning(warning)] = Raised(float(since),
                                                                      json.loads(figures))
    return baselines, raised


@dataclass(slots=True)
class Write:
    """One county's writes of one batch."""

    baselines: dict[str, BaselineRow] = field(default_factory=dict)
    # (device, warning) → (device kind, raised), or None: cleared; the latest word wins
    warnings: dict[tuple[str, Warning], tuple[str, Raised] | None] = field(
        default_factory=dict)
    devices: Collection[str] | None = None  # the county's whole state: rows of others go


def write_trends(store: Store, county: str, holder: str, write: Write) -> None:
    """One county's batch in one transaction (under the caller's fence)."""
    with store.transaction() as tx:
        if write.devices is not None:
            keep = set(write.devices)
            for table in ("warning_baselines", "device_warnings"):
                gone = {(d,) for (d,) in tx.execute(
                    f"SELECT device FROM {table} WHERE county = ?", (county,)) if d not in keep}
                if gone:
                    tx.executemany(f"DELETE FROM {table} WHERE device = ?", sorted(gone))
            tx.execute("DELETE FROM device_warnings WHERE county = ?", (county,))
        tx.executemany(UPSERT_BASELINE, [(device, county, *row, holder)
                                         for device, row in write.baselines.items()])
        tx.executemany("DELETE FROM device_warnings WHERE device = ? AND warning = ?",
                       [key for key, now in write.warnings.items() if now is None])
        tx.executemany(UPSERT_WARNING, [
            (device, warning, county, now[0], now[1].since, json.dumps(now[1].figures), holder)
            for (device, warning), now in write.warnings.items() if now is not None])


def current_warnings(db: Handle, counties: Collection[str] | None = None
                     ) -> list[StoredWarning]:
    """The warnings raised now in ``counties`` (None: every county), by county and device."""
    sql = f"SELECT {WARNING_COLUMNS} FROM device_warnings"
    params: tuple[str, ...] = ()
    if counties is not None:
        if not counties:
            return []
        params = tuple(sorted(counties))
        sql += f" WHERE county IN ({', '.join('?' * len(params))})"
    return sorted((StoredWarning(r[0], Warning(r[1]), r[2], r[3], float(r[4]), json.loads(r[5]))
                   for r in db.execute(sql, params) if r[1] in KNOWN),
                  key=lambda w: (w.county, w.device, ORDER[w.warning]))


# -- the listener ------------------------------------------------------------------------

class Trends:
    """Judges the warnings of the counties this instance is active for, and stores them."""

    def __init__(self, monitor: Monitor) -> None:
        self.monitor = monitor
        self.trends: dict[str, Trend] = {}
        self._generations: dict[str, int] = {}  # county → the generation its trends load under
        self._loaded: set[str] = set()  # counties whose trends are loaded, judged from then
        self._loading: dict[str, asyncio.Task[None]] = {}
        self._flushed: dict[str, float] = {}  # county → when its baselines were last written
        self._pending: dict[str, Write] = {}  # county → what its next write holds
        self._whole: set[str] = set()  # counties whose next write is their whole state
        self._task: asyncio.Task[None] | None = None
        self._states = monitor.states
        self.written = 0  # baselines and warnings written since start
        self.failed = 0  # writes refused or lost (their county written whole next time)

    @property
    def settings(self) -> WarningSettings:
        return self.monitor.inventory.warnings

    def raised(self) -> Iterator[tuple[Device, Warning, Raised]]:
        """The warnings raised now in the counties this instance is active for."""
        states, active = self.monitor.states, self.monitor.active
        for device_id, trend in self.trends.items():
            state = states.get(device_id)
            if trend.raised and state is not None and active(state.device.county):
                for warning, raised in trend.raised.items():
                    yield state.device, warning, raised

    def _generation(self, county: str) -> int:
        ownership = self.monitor.ownership
        return 0 if ownership is None else ownership.generations.get(county, 0)

    def _ready(self, county: str) -> bool:
        """Whether the county's devices are judged now; starts loading a county newly
        taken (its start, a takeover), and forgets one let go."""
        monitor = self.monitor
        if not monitor.active(county):
            if county in self._generations:
                self._forget(county)
            return False
        generation = self._generation(county)
        if self._generations.get(county) != generation:
            self._forget(county)
            self._generations[county] = generation
        if county in self._loaded:
            return True
        if county not in self._loading and monitor.db.status().up:
            self._loading[county] = asyncio.get_running_loop().create_task(
                self._load(county, generation), name=f"netwatch-trends-load-{county}")
        return False

    def _forget(self, county: str) -> None:
        self._generations.pop(county, None)
        self._loaded.discard(county)
        self._pending.pop(county, None)
        self._whole.discard(county)
        task = self._loading.pop(county, None)
        if task is not None:
            task.cancel()
        for device in [d.id for d in self.monitor.inventory.devices if d.county == county]:
            self.trends.pop(device, None)

    async def _load(self, county: str, generation: int) -> None:
        try:
            baselines, raised = await self.monitor.db.call(load_trends, county)
        except OperationalError as exc:
            log.warning("early-warning baselines of %s not read, the store is away: %s; "
                        "read again at its next sweep", county, exc)
            return
        finally:
            self._loading.pop(county, None)
        if self._generations.get(county) != generation or not self.monitor.active(county):
            return  # let go meanwhile
        for device in self.monitor.inventory.devices:
            if device.county != county:
                continue
            trend = self.trends[device.id] = Trend()
            row = baselines.get(device.id)
            if row is not None:
                trend.take(row)
            trend.raised = dict(raised.get(device.id, {}))
        self._loaded.add(county)
        self._whole.add(county)  # devices gone leave the store with the first write
        self._flushed[county] = self.monitor.clock()

    async def on_sweep(self, key: str, touched: list[DeviceState]) -> None:
        """The monitor's listener: judge the devices just recorded, queue what changed."""
        monitor = self.monitor
        settings = self.settings
        now = monitor.clock()
        if monitor.states is not self._states:  # a reload: devices may have gone
            self._states = monitor.states
            self.trends = {d: t for d, t in self.trends.items() if d in self._states}
            self._whole.update(self._loaded)
        ready: dict[str, bool] = {}
        async for part in in_slices(touched):
            states = monitor.states
            for state in part:
                device = state.device
                county = device.county
                judged = ready.get(county)
                if judged is None:
                    judged = ready[county] = self._ready(county)
                if not judged or states.get(device.id) is not state:
                    continue
                trend = self.trends.get(device.id)
                if trend is None:
                    trend = self.trends[device.id] = Trend()
                said = judge(trend, state, bool(monitor.faults.get(device.id)), now,
                             settings.for_kind(device.kind))
                for warning, figures in said.items():
                    self._note(trend, device, warning, figures, now)
        for county in [c for c, ok in ready.items() if ok]:
            if county in self._whole:
                self._write(county)  # the whole county goes (again) with the next write
            elif now - self._flushed.get(county, now) >= settings.flush_every:
                self._queue_baselines(county, now)
        self._start()

    def _note(self, trend: Trend, device: Device, warning: Warning,
              figures: dict[str, float] | None, now: float) -> None:
        was = trend.raised.get(warning)
        if figures is None:
            if was is not None:
                del trend.raised[warning]
                self._write(device.county).warnings[(device.id, warning)] = None
                log.info("warning %s cleared on %s", warning, device.id,
                         extra={"device": device.id, "county": device.county,
                                "warning": warning})
            return
        if was is not None:
            trend.raised[warning] = Raised(was.since, figures)  # written with the baselines
            return
        raised = trend.raised[warning] = Raised(now, figures)
        self._write(device.county).warnings[(device.id, warning)] = (device.kind, raised)
        log.info("warning %s raised on %s", warning, device.id,
                 extra={"device": device.id, "county": device.county, "warning": warning})

    def _write(self, county: str) -> Write:
        write = self._pending.get(county)
        if write is None:
            write = self._pending[county] = Write()
        return write

    def _queue_baselines(self, county: str, now: float, write: Write | None = None,
                         every: bool = False) -> None:
        """The county's baselines (those worth writing, or ``every`` one, or all of a whole
        write) and its warnings' latest figures into its next write."""
        self._flushed[county] = now
        write = self._write(county) if write is None else write
        every = every or write.devices is not None
        for device in self.monitor.inventory.devices:
            trend = self.trends.get(device.id) if device.county == county else None
            if trend is None:
                continue
            if trend.samples and (every or trend.worth_writing()):
                row = write.baselines[device.id] = trend.baseline_row()
                trend.stored = row  # a write lost is made whole again (``_whole``)
            for warning, raised in trend.raised.items():
                write.warnings[(device.id, warning)] = (device.kind, raised)

    def _whole_write(self, county: str) -> Write:
        """Everything this instance holds for the county, replacing what the store has."""
        write = Write(devices=[d.id for d in self.monitor.inventory.devices
                               if d.county == county])
        self._queue_baselines(county, self.monitor.clock(), write)
        return write

    def _start(self) -> None:
        if self._pending and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(
                self._drain(), name="netwatch-trends-writer")

    async def _drain(self) -> None:
        """Write the queued batches, one transaction per county, until none is left."""
        monitor = self.monitor
        while self._pending:
            county = next(iter(self._pending))
            write = self._pending.pop(county)
            if county not in self._loaded or not monitor.active(county):
                continue
            if county in self._whole:
                write = self._whole_write(county)
            ownership = monitor.ownership
            holder = "" if ownership is None else ownership.holder
            fence = None if ownership is None else guard(
                holder, {county: self._generation(county)})
            try:
                with guarded(fence):
                    await monitor.db.call(write_trends, county, holder, write)
            except (OperationalError, Fenced) as exc:
                log.warning("early warnings of %s not recorded: %s; written whole at its "
                            "next sweep", county, exc)
                self.failed += 1
                self._whole.add(county)
                continue
            if write.devices is not None:
                self._whole.discard(county)
            self.written += len(write.baselines) + len(write.warnings)

    async def flush(self, within: float) -> None:
        """Write every active county's baselines now and wait up to ``within`` s (a clean
        stop, while the leases still fence the writes)."""
        now = self.monitor.clock()
        for county in sorted(self._loaded):
            if self.monitor.active(county):
                self._queue_baselines(county, now, every=True)
        self._start()
        await wait_done(self._task, within)

    async def close(self) -> None:
        """Stop writing and loading (at shutdown)."""
        for task in [self._task, *self._loading.values()]:
            await stop_task(task)
