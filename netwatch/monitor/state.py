"""What the monitor remembers per device between cycles: latest results, windows, streaks.

Only the monitor mutates a ``DeviceState`` (one ``record`` per cycle); metrics,
the web app and fault evaluation read it. Conditions are what one cycle says
is wrong (before hysteresis); streaks count how many cycles in a row each
condition has held or been absent, and when its current bad streak began.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from netwatch.inventory import CheckSpec, Device
from netwatch.monitor.sampling import SAMPLED_FAULTS, condition, sampled_checks
from netwatch.monitor.verdict import (
    Verdict,
    judge,
    link_problems,
    uplink_problem,
)
from netwatch.vocab import Fault, Measurement
from probes.base import ProbeResult

FAULT_KINDS: tuple[Fault, ...] = tuple(Fault)  # every kind, in the API's order
UPLINK_FAULTS = (Fault.UPLINK_DOWN, Fault.UPLINK_SLOW)
NO_CONDITIONS: frozenset[Fault] = frozenset()
SAMPLED_KINDS: frozenset[Fault] = frozenset(SAMPLED_FAULTS.values())
HISTORY = 20  # cycles of up/down kept for display and flap detection (at least flap_window)

LinkSample = tuple[float | None, float, float | None]  # RTT, loss, jitter of one cycle


@dataclass(slots=True)
class Streak:
    bad: int = 0  # consecutive cycles the condition held
    good: int = 0  # consecutive cycles it was absent
    since: float = 0.0  # start of the current bad streak (the fault's first-seen time)


@dataclass(slots=True)
class DeviceState:
    """Rolling state of one device; reset when its definition changes on reload."""

    device: Device
    results: dict[str, ProbeResult] = field(default_factory=dict)
    verdict: Verdict | None = None
    checked_at: float = 0.0  # wall time of the latest cycle
    last_up_at: float | None = None
    last_ok_at: dict[str, float] = field(default_factory=dict)  # per check
    # up/down of the latest cycles as bits (newest lowest): a deque per device costs
    # ~400 bytes more, which is 40 MB at city scale
    history_bits: int = 0
    history_len: int = 0
    link: deque[LinkSample] | None = None  # endpoints only, created at their first sample
    conditions: frozenset[Fault] = frozenset()
    streaks: dict[Fault, Streak] = field(default_factory=dict)
    uptime_seconds: float | None = None
    rebooted_at: float | None = None
    cycles: int = 0
    # the latest sample of each sampled check (video, clock: ``sampling``), and when
    samples: dict[str, ProbeResult] = field(default_factory=dict)
    sampled_at: dict[str, float] = field(default_factory=dict)
    _sampled: dict[str, CheckSpec] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self._sampled = {c.name: c for c in sampled_checks(self.device)}
        window = self._window()
        self.history_bits &= (1 << window) - 1
        self.history_len = min(self.history_len, window)
        if self.link is not None:
            self.link = deque(self.link, maxlen=max(1, self.device.thresholds.link_window))

    def _window(self) -> int:
        return max(self.device.thresholds.flap_window, HISTORY)

    def redefine(self, device: Device) -> None:
        """Take a changed definition (a reload) and keep the device's history."""
        self.device = device
        self.__post_init__()

    @property
    def up(self) -> bool:
        return self.verdict is not None and self.verdict.up

    def record(self, results: dict[str, ProbeResult], now: float,
               clock_trusted: bool = True) -> None:
        """Take one cycle's results: verdict, windows, conditions and streaks.

        Samples (``sampling``: video, clock) are judged apart from the verdict: each says
        whether its own condition holds, and moves that condition's streak only in the
        cycle it was taken (in the others the condition stands as last sampled).
        ``clock_trusted`` False (netwatch's own clock not synchronised) judges no clock.
        """
        if not self._sampled:  # the usual device: every check every cycle
            self._record_cycle(results, results, now, NO_CONDITIONS, NO_CONDITIONS)
            return
        taken = {n: r for n, r in results.items() if n in self._sampled}
        regular = {n: r for n, r in results.items() if n not in self._sampled}
        held = {f for f in self.conditions if f in SAMPLED_KINDS}  # as last sampled
        judged: set[Fault] = set()
        for name, result in taken.items():
            check = self._sampled[name]
            said = condition(check, result, self.device, clock_trusted)
            if said is None:
                continue
            kind = SAMPLED_FAULTS[check.probe]
            judged.add(kind)
            if said:
                held.add(kind)
            else:
                held.discard(kind)
        self.samples.update(taken)
        self.sampled_at.update(dict.fromkeys(taken, now))
        self._record_cycle(results, regular, now, held, judged)
        self.results = {**regular, **self.samples}  # shown: the cycle's and the latest samples

    def _record_cycle(self, results: dict[str, ProbeResult], regular: dict[str, ProbeResult],
                      now: float, sampled: AbstractSet[Fault], judged: AbstractSet[Fault]) -> None:
        """The cycle's ``regular`` results make the verdict; ``sampled`` are the sampled
        conditions holding now, ``judged`` those whose sample was judged this cycle."""
        device = self.device
        self.results = results
        self.verdict = verdict = judge(device, regular)
        self.checked_at = now
        self.cycles += 1
        last_ok_at = self.last_ok_at
        uptime, uptime_key = False, Measurement.SYS_UPTIME_SECONDS
        for name, result in results.items():
            if result.success:
                last_ok_at[name] = now
            if uptime_key in result.measurements:
                uptime = True
        up = verdict.up
        if up:
            self.last_up_at = now
        window = self._window()
        self.history_bits = ((self.history_bits << 1) | up) & ((1 << window) - 1)
        self.history_len = min(self.history_len + 1, window)
        if uptime:
            self._note_uptime(results, now)
        held = self._conditions(regular) | sampled
        self.conditions = conditions = frozenset(held) if held else NO_CONDITIONS
        streaks = self.streaks
        if not streaks and not conditions:
            return  # the usual case: a healthy device that has never had a condition
        frozen = Fault.UNREACHABLE in conditions
        # a sampled condition's streak moves only in the cycles its sample was judged
        still = SAMPLED_KINDS - judged
        for kind in conditions:
            if kind in still:
                continue
            streak = streaks.get(kind)
            if streak is None:
                streak = streaks[kind] = Streak()
            if streak.bad == 0:
                streak.since = now
            streak.bad += 1
            streak.good = 0
        for kind, streak in streaks.items():  # conditions seen before, absent now
            if kind not in conditions and kind not in still and not (
                    frozen and kind != Fault.FLAPPING):
                # While nothing answers, other conditions cannot be judged: their
                # streaks stand still rather than count as recovered.
                streak.bad = 0
                streak.good += 1

    def _conditions(self, results: dict[str, ProbeResult]) -> set[Fault]:
        verdict = self.verdict
        assert verdict is not None
        held: set[Fault] = set()
        if verdict.fault in (Fault.UNREACHABLE, Fault.SERVICE_DOWN):
            held.add(verdict.fault)
        else:
            if verdict.fault == Fault.AUTH_FAILED:
                held.add(Fault.AUTH_FAILED)
            if verdict.fault in UPLINK_FAULTS:  # judge found it (it looks unless auth failed)
                held.add(verdict.fault)
            elif verdict.fault == Fault.AUTH_FAILED:
                uplink = uplink_problem(self.device, results)
                if uplink:
                    held.add(uplink[0])
            if self.device.kind == "vc_endpoint":
                sample = _link_sample(self.device, results)
                if sample is not None:
                    if self.link is None:
                        self.link = deque(maxlen=max(1, self.device.thresholds.link_window))
                    self.link.append(sample)
                if self.link_reasons():
                    held.add(Fault.DEGRADED_LINK)
        if self.state_changes() >= self.device.thresholds.flap_changes:
            held.add(Fault.FLAPPING)
        return held

    def link_reasons(self) -> tuple[str, ...]:
        """RTT, loss and jitter over the window that exceed the thresholds, in words."""
        return link_problems(self.device, *_window_means(self.link)) if self.link else ()

    def state_changes(self) -> int:
        """Up/down changes within the flap window."""
        n = min(self.history_len, self.device.thresholds.flap_window)
        if n < 2:
            return 0
        recent = self.history_bits & ((1 << n) - 1)
        return ((recent ^ (recent >> 1)) & ((1 << (n - 1)) - 1)).bit_count()

    def _note_uptime(self, results: dict[str, ProbeResult], now: float) -> None:
        for result in results.values():
            uptime = result.measurements.get(Measurement.SYS_UPTIME_SECONDS)
            if uptime is None:
                continue
            if self.uptime_seconds is not None and uptime + 1.0 < self.uptime_seconds:
                self.rebooted_at = now - uptime
            self.uptime_seconds = uptime


def _link_sample(device: Device, results: dict[str, ProbeResult]) -> LinkSample | None:
    for check in device.checks:
        result = results.get(check.name)
        if (check.probe == "icmp" and result is not None
                and Measurement.LOSS_RATIO in result.measurements):
            m = result.measurements
            return (m.get(Measurement.RTT_SECONDS), m[Measurement.LOSS_RATIO],
                    m.get(Measurement.JITTER_SECONDS))
    return None


def _window_means(window: deque[LinkSample]) -> tuple[float, float, float]:
    """Mean RTT and jitter over cycles that got replies; mean loss over all cycles."""
    rtts = [s[0] for s in window if s[0] is not None]
    jitters = [s[2] for s in window if s[2] is not None]
    return (
        sum(rtts) / len(rtts) if rtts else 0.0,
        sum(s[1] for s in window) / len(window),
        sum(jitters) / len(jitters) if jitters else 0.0,
    )
