"""A small test city for the notices core: two counties, a switch with cameras, a site."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from netwatch.inventory import CheckSpec, County, Device, Inventory, NoticeSettings
from netwatch.store import FaultLog, NewEpisode, Store

ZONE = ZoneInfo("Asia/Shanghai")
HOUR = 3600.0
DAY = 86400.0


def at(day: str, hour: int = 9) -> float:
    """Unix seconds of ``hour``:00 on ``day`` in Shanghai."""
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), ZONE).timestamp() \
        + hour * HOUR


def device(id: str, kind: str = "camera", county: str = "east", **kw: object) -> Device:
    base = Device(id=id, kind=kind, county=county, address="127.107.0.1", name=f"{id} 名称",
                  checks=(CheckSpec("icmp", "icmp", 0, None),), interval=60.0, timeout=1.0,
                  site=f"{id} 路口", rectify_within_days=3)
    return replace(base, **kw)  # type: ignore[arg-type]


DEVICES = (
    device("sw-1", "switch"),
    device("cam-1", parent="sw-1"),
    device("cam-2", parent="sw-1"),
    device("site-1", "trunking_site", rectify_within_days=1),
    device("cam-9", county="west", key_area=True),
    device("cam-8", county="west"),
)
SETTINGS = NoticeSettings(issuing_unit="示例市公安局科技信息化支队", prefix="示公科信",
                          contact="张三 0000-0000000")


def city(*devices: Device, settings: NoticeSettings = SETTINGS) -> Inventory:
    return Inventory(
        path="test.yaml", city="示例市", timezone="Asia/Shanghai",
        counties={"east": County("east", "东区", "东区公安分局"),
                  "west": County("west", "西区", "西区公安分局")},
        devices=devices or DEVICES, notices=settings)


def fault(store: Store, dev: str, first_seen: float, fault: str = "unreachable",
          county: str = "east", kind: str = "camera", suppressed_by: str | None = None) -> int:
    """Record an open episode (opened three minutes after first seen); returns its id."""
    [ep] = FaultLog(store).apply([NewEpisode(
        device=dev, county=county, kind=kind, fault=fault, first_seen=first_seen,
        opened_at=first_seen + 180, suppressed_by=suppressed_by, detail="icmp: timeout",
        evidence={"failed_checks": ["icmp: timeout"], "last_good": first_seen - 60})], [], [])
    return ep.id


def recover(store: Store, episode_id: int, when: float) -> None:
    FaultLog(store).apply([], [], [(episode_id, when, "recovered")])
