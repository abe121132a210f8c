"""The instance's lease loop: renew what it holds, take over what lapses, let go what moved.

Every ``RENEW_EVERY`` seconds one claim round (``netwatch.monitor.leases.claim``, one
transaction) renews this instance's leases and takes any free one it wants: the
counties it was started for (``--counties``, default every county of the inventory)
and the city-wide duties. A county taken is adopted by the monitor (its open episodes
read after the lease was taken, so none can be missed or doubled); a county lost is
dropped. The first round runs before the first sweep.

The instance also counts its leases lost by its own clock: when no round has
succeeded for a lease's ``ttl`` since the start of the last round that did (the store
away, the process paused), it stands by for everything at once, before any other
instance could have taken over, so two instances never both believe they are a
county's active. The database then decides at the next round.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from netwatch.inventory import Inventory
from netwatch.metrics import Family, FamilySpec, labels
from netwatch.monitor import DUTIES, LEASE_TTL, RENEW_EVERY, Claim, Monitor, claim, release
from netwatch.runtime import stop_task
from netwatch.store import DatabaseError, StoreThread, open_episodes

log = logging.getLogger(__name__)

ACTIVE = FamilySpec("netwatch_county_active", "gauge",
                    "1 while this instance is the county's active writer (holds its lease), "
                    "0 while it stands by; one series per county it was started for.")
LEASE_AGE = FamilySpec("netwatch_lease_age_seconds", "gauge",
                       "Seconds since the county's lease was last renewed, by whichever "
                       "instance holds it, as this instance last read it.")
TAKEOVERS = FamilySpec("netwatch_lease_takeovers_total", "counter",
                       "Times this instance took the county's lease (at its start, after "
                       "another instance's lease lapsed, or after its own).")
DUTIES_ACTIVE = FamilySpec("netwatch_duties_active", "gauge",
                           "1 while this instance runs the city-wide duties (notices, "
                           "deliveries, coverage analysis, retention).")


@dataclass(slots=True)
class LeaseView:
    """What the last round said about the counties this instance wants (for ``/readyz``)."""

    renewed: dict[str, float] = field(default_factory=dict)  # scope → last renewal (monotonic)
    holders: dict[str, str] = field(default_factory=dict)  # scope → its holder's name
    takeovers: dict[str, int] = field(default_factory=dict)


class LeaseKeeper:
    """Runs the claim rounds and tells the monitor (and the duties) what changed."""

    def __init__(self, db: StoreThread, monitor: Monitor, inventory: Callable[[], Inventory],
                 ttl: float = LEASE_TTL, every: float = RENEW_EVERY) -> None:
        if monitor.ownership is None:
            raise ValueError("the lease loop needs a monitor with an ownership")
        self.db = db
        self.monitor = monitor
        self.ownership = monitor.ownership
        self.inventory = inventory
        self.ttl = ttl
        self.every = every
        self.view = LeaseView()
        self.listeners: list[Callable[[set[str], set[str]], None]] = []  # (taken, lost)
        self._confirmed = 0.0  # monotonic start of the last round that succeeded
        self._task: asyncio.Task[None] | None = None

    def wanted(self) -> set[str]:
        """The scopes this instance asks for: its counties that the inventory has, and the
        duties."""
        counties = set(self.inventory().counties)
        wanted = self.ownership.wanted
        return (counties if wanted is None else counties & wanted) | {DUTIES}

    async def start(self) -> None:
        """The first round (before the first sweep), then one every ``every`` seconds."""
        await self.round()
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="netwatch-leases")

    async def stop(self) -> None:
        """Stop the rounds and release what is held (a clean stop: others take over at once)."""
        await stop_task(self._task)
        held = dict(self.ownership.generations)
        if not held:
            return
        self._lose(set(held), quiet=True)
        try:
            await self.db.call(release, self.ownership.holder, held)
            log.info("leases released (%s): other instances may take over at once",
                     ", ".join(sorted(held)))
        except DatabaseError as exc:
            log.error("the leases were not released (%s): other instances take over when they "
                      "expire", exc)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            try:
                await self.round()
            except Exception:  # the loop must outlive any one round
                log.exception("lease round failed")

    async def round(self) -> None:
        """One claim round, then adopt and drop as it says."""
        started = time.monotonic()
        wanted = self.wanted()
        gone = {s: g for s, g in self.ownership.generations.items() if s not in wanted}
        if gone:  # a reload removed the county: let it go
            self._lose(set(gone))
            with contextlib.suppress(DatabaseError):  # else it lapses on its own
                await self.db.call(release, self.ownership.holder, gone)
        held = dict(self.ownership.generations)
        try:
            outcome = await self.db.call(claim, self.ownership.holder, wanted, held, self.ttl)
        except DatabaseError as exc:
            if held and time.monotonic() - self._confirmed >= self.ttl:
                log.error("no lease renewed for %.0f s (%s): standing by for every county "
                          "until the database answers", self.ttl, exc)
                self._lose(set(held))
            return
        if held and started - self._confirmed >= self.ttl and self._confirmed:
            # paused (or starved) past the lease: whatever the database says now, another
            # instance may have written meanwhile; the round below has the truth
            log.warning("this instance was paused for %.0f s, past its lease",
                        started - self._confirmed)
        self._confirmed = started
        self._note(outcome, started)
        self._lose(set(outcome.lost))
        taken = {scope: outcome.held[scope] for scope in outcome.taken}
        if taken:
            await self._take(taken, outcome)

    def _note(self, outcome: Claim, started: float) -> None:
        view = self.view
        for scope in outcome.held:
            view.renewed[scope] = started
            view.holders[scope] = self.ownership.holder
        for scope, lease in outcome.others.items():
            view.renewed[scope] = started - max(0.0, outcome.now - lease.renewed)
            view.holders[scope] = lease.holder

    async def _take(self, taken: dict[str, int], outcome: Claim) -> None:
        counties = [scope for scope in taken if scope != DUTIES]
        episodes = await self.db.call(open_episodes, counties) if counties else []
        for county in counties:
            adopted = self.monitor.adopt(county, taken[county], episodes)
            gap = outcome.taken[county]
            self.view.takeovers[county] = self.view.takeovers.get(county, 0) + 1
            log.info("active for %s (lease generation %d): %d open fault(s) adopted%s", county,
                     taken[county], adopted, "" if gap is None else
                     f"; nothing watched it for {gap.seconds:.0f} s before ({gap.reason})")
        if DUTIES in taken:
            self.ownership.generations[DUTIES] = taken[DUTIES]
            log.info("running the city-wide duties (lease generation %d)", taken[DUTIES])
        for listener in self.listeners:
            listener(set(taken), set())

    def _lose(self, scopes: set[str], quiet: bool = False) -> None:
        """Stand by for ``scopes``; said in the log unless it is a clean stop (``quiet``)."""
        if not scopes:
            return
        for scope in sorted(scopes):
            if scope == DUTIES:
                self.ownership.generations.pop(DUTIES, None)
                if not quiet:
                    log.warning("no longer running the city-wide duties")
            else:
                self.monitor.drop(scope)
                if not quiet:
                    log.warning("standing by for %s: its lease moved on or lapsed", scope)
        for listener in self.listeners:
            listener(set(), scopes)

    def roles(self) -> dict[str, str]:
        """Per county this instance wants: ``active`` or ``standby`` (for ``/readyz``)."""
        return {county: "active" if self.ownership.active(county) else "standby"
                for county in sorted(self.wanted() - {DUTIES})}

    def families(self) -> list[Family]:
        """The leases' metrics, per county this instance was started for."""
        active, age, takeovers = Family(ACTIVE), Family(LEASE_AGE), Family(TAKEOVERS)
        now = time.monotonic()
        for county in sorted(self.wanted() - {DUTIES}):
            label = labels((("county", county),))
            active.add(label, 1 if self.ownership.active(county) else 0)
            renewed = self.view.renewed.get(county)
            if renewed is not None:
                age.add(label, now - renewed)
            takeovers.add(label, self.view.takeovers.get(county, 0))
        duties = Family(DUTIES_ACTIVE)
        duties.add("", 1 if self.ownership.leading else 0)
        return [active, age, takeovers, duties]

