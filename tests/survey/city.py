"""A small surveyed city for the survey tests: three counties, sites and points on 127.110.x.y.

``north`` and ``south`` have boundary polygons; ``east`` has none, so its places
are found by the nearest located device or point. Every device checks ICMP only,
so ``netwatch run`` on this file needs no SNMP credentials.
"""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

from netwatch.inventory import Inventory, load_inventory

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC).timestamp()
TAKEN = "2026-11-20T11:30:00+08:00"  # half an hour before NOW

INVENTORY = textwrap.dedent("""\
    city: {name: Surveyville, timezone: Asia/Shanghai}
    coverage:
      bbox: {lat_min: 38.0, lat_max: 38.8, lon_min: 105.8, lon_max: 106.8}
      retention: 30d
    counties:
      - {id: north, name: 北区, receiving_unit: 北区分局,
         boundary: [[105.8, 38.4], [106.3, 38.4], [106.3, 38.8], [105.8, 38.8]]}
      - {id: south, name: 南区, receiving_unit: 南区分局,
         boundary: [[105.8, 38.0], [106.3, 38.0], [106.3, 38.4], [105.8, 38.4]]}
      - {id: east, name: 东区, receiving_unit: 东区分局}
    devices:
      - {id: n-ts-1, kind: trunking_site, county: north, address: 127.110.2.1,
         name: North site, lat: 38.6, lon: 106.0, checks: [icmp]}
      - {id: s-ts-1, kind: trunking_site, county: south, address: 127.110.2.2,
         name: South site, lat: 38.2, lon: 106.0, checks: [icmp]}
      - {id: e-ts-1, kind: trunking_site, county: east, address: 127.110.2.3,
         name: East site, lat: 38.5, lon: 106.6, checks: [icmp]}
      - {id: e-sw-1, kind: switch, county: east, address: 127.110.1.1, name: East switch,
         checks: [icmp]}
    coverage_points:
      - {id: n-cp-1, name: 北镇政府, county: north, lat: 38.61, lon: 106.01,
         serving_site: n-ts-1}
      - {id: n-cp-2, name: 北区中学, county: north, lat: 38.5, lon: 105.9,
         technology: broadband, serving_site: n-ts-1}
      - {id: s-cp-1, name: 南镇政府, county: south, lat: 38.2, lon: 106.02,
         serving_site: s-ts-1}
      - {id: e-cp-1, name: 东镇政府, county: east, lat: 38.52, lon: 106.62,
         serving_site: e-ts-1}
    """)


def write_city(root: Path, text: str = INVENTORY) -> Path:
    path = root / "survey-city.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def load_city(root: Path, text: str = INVENTORY) -> Inventory:
    return load_inventory(write_city(root, text))
