"""A small city behind the web app: a real Monitor, store, tokens and exposition.

The store is a SQLite file; the modules that set ``BOTH_ENGINES`` run their tests on it
and again on a fresh database of the session's PostgreSQL server (``tests/engines.py``).

The inventory is YAML in tmp_path with SNMP secrets seeded through ``${ENV}``;
results come from a scripted runner (no probing), so faults open, suppress and
close through the monitor's own code. Device addresses are loopback and never
contacted.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from netwatch.inventory import Device, Inventory, InventoryError, load_inventory
from netwatch.metrics import Exposition
from netwatch.monitor import DeviceResult, Monitor
from netwatch.store import Store, StoreThread, TokenStore
from netwatch.web.app import WebDeps
from netwatch.web.auth import StoredTokens
from netwatch.web.ratelimit import RateLimiter
from probes.base import ProbeResult, Reason
from tests.engines import engine, pg_server, pg_url, store, target  # noqa: F401 - fixtures
from tests.engines import parametrize_where_asked as pytest_generate_tests  # noqa: F401

T0 = 1_700_000_000.0
COMMUNITY = "web-Community-s3cret-41c7"
AUTH_KEY = "web-AuthKey-s3cret-82d0"
PRIV_KEY = "web-PrivKey-s3cret-19ab"
ENV = {"NW_WEB_COMMUNITY": COMMUNITY, "NW_WEB_AUTH": AUTH_KEY, "NW_WEB_PRIV": PRIV_KEY}
SECRETS = (COMMUNITY, AUTH_KEY, PRIV_KEY)
HOSTILE = "<script>alert('x')</script> & \"gate\""
FAILED_LIMIT = 3  # wrong tokens allowed per address before 429

INVENTORY = textwrap.dedent("""\
    city: {name: "Testville <b>", timezone: Asia/Shanghai}
    counties:
      - {id: east, name: 东区, receiving_unit: 东区分局}
      - {id: west, name: 西区, receiving_unit: 西区分局}
      - {id: south, name: 南区, receiving_unit: 南区分局}
    snmp_profiles:
      v2: {version: 2c, community: "${NW_WEB_COMMUNITY}"}
      v3: {version: 3, user: netwatch, auth_protocol: SHA256, auth_key: "${NW_WEB_AUTH}",
           priv_protocol: AES128, priv_key: "${NW_WEB_PRIV}"}
    devices:
      - {id: sw-e, kind: switch, county: east, address: 127.66.1.1, name: East core switch,
         snmp_profile: v2, uplink_if: 1, site: east-hq, lat: 30.5, lon: 120.1}
      - {id: cam-e1, kind: camera, county: east, address: 127.66.10.1, name: East gate camera,
         parent: sw-e, site: east-hq}
      - {id: cam-e2, kind: camera, county: east, address: 127.66.10.2, name: "HOSTILE",
         parent: sw-e}
      - {id: vc-w1, kind: vc_endpoint, county: west, address: 127.66.3.1, name: West VC room}
      - {id: cam-w1, kind: camera, county: west, address: 127.66.10.3, name: West bridge camera}
      - {id: ts-w1, kind: trunking_site, county: west, address: 127.66.2.1, name: West PDT site,
         snmp_profile: v3, uplink_if: 1}
    """).replace('"HOSTILE"', '"' + HOSTILE.replace('"', '\\"') + '"')

Results = dict[str, ProbeResult]


def ok(**measurements: float) -> ProbeResult:
    result = ProbeResult.ok(**measurements)
    result.duration_seconds = 0.004
    return result


def fail(reason: Reason = Reason.TIMEOUT, detail: str = "no reply") -> ProbeResult:
    return ProbeResult.fail(reason, detail)


PING = {"rtt_seconds": 0.002, "loss_ratio": 0.0, "jitter_seconds": 0.0003}
AGENT = {"sys_uptime_seconds": 3600.0, "uplink_oper_status": 1, "uplink_speed_bps": 1e9}


class Clock:
    """Wall time the test moves by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


class ScriptedRunner:
    """Stands in for ``Runner``: each device answers what the test scripted for it."""

    def __init__(self) -> None:
        self.results: dict[str, Results] = {}

    async def sweep(self, devices: Iterable[Device]) -> list[DeviceResult]:
        return [DeviceResult(d, dict(self.results.get(d.id, {}))) for d in devices]


def write_inventory(tmp_path: Path, text: str = INVENTORY, name: str = "inventory.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class City:
    """Everything a web test touches."""

    monitor: Monitor
    runner: ScriptedRunner
    clock: Clock
    db: StoreThread  # the daemon's database thread (the monitor's, and the web's with ``store``)
    tokens: TokenStore  # the test's own, on its own connection: for creating and revoking
    limiter: RateLimiter
    limiter_clock: Clock
    exposition: Exposition
    inventory_path: Path
    admin: str
    east: str  # county token for east
    west_tester: str  # tester token for west
    reloads: list[str]

    def deps(self, *, store: bool = False, **overrides: Any) -> WebDeps:  # noqa: F811
        """The app's parts; with ``store`` its routes that need the store have it."""
        fields: dict[str, Any] = dict(
            monitor=self.monitor, tokens=StoredTokens(self.db, clock=self.clock),
            limiter=self.limiter, exposition=self.exposition, reload=self.reload,
            version="9.9.9", db=self.db if store else None)
        fields.update(overrides)
        return WebDeps(**fields)

    async def reload(self) -> dict[str, Any]:
        """What the daemon's reload does, minus the scheduler: refuse a bad file, else swap."""
        self.reloads.append(str(self.inventory_path))
        try:
            inventory = load_inventory(self.inventory_path, env=ENV)
        except InventoryError as exc:
            return {"ok": False, "problems": [str(p) for p in exc.problems]}
        report = self.monitor.reload(inventory)
        self.exposition.on_inventory(inventory)
        return {"ok": True, "added": report.added, "removed": report.removed,
                "changed": report.changed, "kept": report.kept}

    async def sweep(self, *kinds: str) -> None:
        """One cycle of every group (or those of ``kinds``), 30 s after the previous one."""
        self.clock.now += 30
        for key, group in list(self.monitor.groups.items()):
            if not kinds or group.kind in kinds:
                await self.monitor.run_group(key)


HEALTHY: dict[str, Results] = {
    "sw-e": {"icmp": ok(**PING), "snmp": ok(**AGENT)},
    "cam-e1": {"icmp": ok(**PING), "rtsp": ok(status_code=200)},
    "cam-e2": {"icmp": ok(**PING), "rtsp": ok(status_code=200)},
    "vc-w1": {"icmp": ok(**PING), "sip": ok(status_code=200, rtt_seconds=0.01)},
    "cam-w1": {"icmp": ok(**PING), "rtsp": ok(status_code=200)},
    "ts-w1": {"icmp": ok(**PING), "snmp": ok(**AGENT)},
}


def _inventory(path: Path) -> Inventory:
    return load_inventory(path, env=ENV)


@pytest.fixture
async def city(tmp_path: Path, store: Store, db: StoreThread) -> City:  # noqa: F811
    """Five cycles: sw-e down throughout (its cameras suppressed under it), cam-w1's RTSP
    refused throughout, vc-w1's SIP down for three cycles then back (a closed episode);
    the trunking site is never swept, so it stays unknown and the monitor not ready."""
    path = write_inventory(tmp_path)
    clock, limiter_clock = Clock(), Clock()
    runner = ScriptedRunner()
    monitor = Monitor(_inventory(path), runner, db, clock=clock)  # type: ignore[arg-type]
    exposition = Exposition(monitor, clock=clock, process_metrics=False)
    exposition.attach()
    tokens = TokenStore(store, clock=clock)
    city = City(
        monitor=monitor, runner=runner, clock=clock, db=db, tokens=tokens,
        limiter=RateLimiter(limit=FAILED_LIMIT, per=60.0, clock=limiter_clock),
        limiter_clock=limiter_clock, exposition=exposition, inventory_path=path,
        admin=tokens.create("admin", []).token,
        east=tokens.create("county", ["east"]).token,
        west_tester=tokens.create("tester", ["west"]).token,
        reloads=[],
    )
    kinds = ("switch", "camera", "vc_endpoint")
    for cycle in range(5):
        runner.results = dict(HEALTHY)
        runner.results["sw-e"] = {"icmp": fail(), "snmp": fail()}
        runner.results["cam-e1"] = {"icmp": fail(), "rtsp": fail()}
        runner.results["cam-e2"] = {"icmp": fail(), "rtsp": fail()}
        runner.results["cam-w1"] = {"icmp": ok(**PING),
                                    "rtsp": fail(Reason.REFUSED, "connection refused")}
        if cycle < 3:
            runner.results["vc-w1"] = {"icmp": ok(**PING), "sip": fail()}
        await city.sweep(*kinds)
    return city


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
