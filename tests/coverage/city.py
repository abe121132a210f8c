"""A small surveyed city for the coverage tests: sites, points and readings on 127.112.x.y.

``north`` and ``south`` have boundary polygons split at latitude 38.4; ``east`` has
none. ``mountain`` thresholds: ``south`` counts PDT down to −112 dBm as weak.
Readings go straight into the ``readings`` table through ``add``.
"""

from __future__ import annotations

import itertools
import textwrap
from pathlib import Path
from typing import Any

from netwatch.inventory import Inventory, load_inventory
from netwatch.store import FaultLog, NewEpisode, Store

NOW = 1_790_000_000.0
DAY = 86400.0
HOSTILE = "=cmd|'/c calc'!A1 <script>alert(1)</script> & \"x\""

INVENTORY = textwrap.dedent("""\
    city: {name: Coverville, timezone: Asia/Shanghai}
    coverage:
      window: 30d
      min_readings: 3
      cell_size_m: 300
      county_thresholds:
        south: {pdt: {weak_dbm: -112}}
    counties:
      - {id: north, name: 北区, receiving_unit: 北区分局,
         boundary: [[105.8, 38.4], [106.3, 38.4], [106.3, 38.8], [105.8, 38.8]]}
      - {id: south, name: 南区, receiving_unit: 南区分局,
         boundary: [[105.8, 38.0], [106.3, 38.0], [106.3, 38.4], [105.8, 38.4]]}
      - {id: east, name: 东区, receiving_unit: 东区分局}
    devices:
      - {id: n-ts-1, kind: trunking_site, county: north, address: 127.112.2.1,
         name: North site, lat: 38.6, lon: 106.0, checks: [icmp]}
      - {id: n-ts-2, kind: trunking_site, county: north, address: 127.112.2.2,
         name: North hill site, lat: 38.7, lon: 106.2, checks: [icmp]}
      - {id: s-ts-1, kind: trunking_site, county: south, address: 127.112.2.3,
         name: South site, lat: 38.2, lon: 106.0, checks: [icmp]}
      - {id: e-ts-1, kind: trunking_site, county: east, address: 127.112.2.4,
         name: East site, lat: 38.5, lon: 106.6, checks: [icmp]}
    coverage_points:
      - {id: n-cp-1, name: 北镇政府, county: north, lat: 38.61, lon: 106.01,
         serving_site: n-ts-1, priority: 1}
      - {id: n-cp-2, name: 北区中学, county: north, lat: 38.5, lon: 105.9,
         technology: broadband, priority: 2}
      - {id: n-cp-3, name: "HOSTILE", county: north, lat: 38.65, lon: 106.15}
      - {id: s-cp-1, name: 南镇政府, county: south, lat: 38.2, lon: 106.02,
         serving_site: s-ts-1}
      - {id: e-cp-1, name: 东镇政府, county: east, lat: 38.52, lon: 106.62,
         serving_site: e-ts-1, priority: 5}
    """).replace('"HOSTILE"', '"' + HOSTILE.replace('"', '\\"') + '"')


def load_city(root: Path, text: str = INVENTORY) -> Inventory:
    path = root / "coverage-city.yaml"
    path.write_text(text, encoding="utf-8")
    return load_inventory(path)


_ids = itertools.count(1)


def add(store: Store, *, county: str, lat: float = 38.6, lon: float = 106.0,
        point: str | None = None, taken_at: float = NOW - 3600, technology: str = "pdt",
        rssi_dbm: float | None = None, ber: float | None = None, rsrp_dbm: float | None = None,
        sinr_db: float | None = None, no_service: bool = False,
        serving_site: str | None = None) -> None:
    """Insert one accepted reading as ingestion would have stored it."""
    n = next(_ids)
    store.conn.execute(
        "INSERT INTO readings (tester, idem_key, body_hash, county, point, lat, lon, taken_at, "
        "technology, rssi_dbm, ber, rsrp_dbm, sinr_db, no_service, serving_site, note, source, "
        "received_at) VALUES ('t', ?, 'h', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 'api', ?)",
        (f"k{n}", county, point, lat, lon, taken_at, technology, rssi_dbm, ber, rsrp_dbm,
         sinr_db, int(no_service), serving_site, taken_at))


def add_many(store: Store, levels: list[float], **fields: Any) -> None:
    """One PDT reading per level (an hour apart, the newest an hour before NOW)."""
    newest = fields.pop("taken_at", NOW - 3600)
    for i, value in enumerate(levels):
        add(store, rssi_dbm=value, taken_at=newest - i * 3600, **fields)


def open_fault(store: Store, device: str, fault: str, county: str = "north") -> None:
    """A real open fault episode of a trunking site, as the monitor records it."""
    FaultLog(store).apply([NewEpisode(device, county, "trunking_site", fault, NOW - DAY,
                                      NOW - DAY, None, "no reply")], [], [])
