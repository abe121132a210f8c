"""Shards: three instances over one database, each watching its own county.

``netwatch run --counties east`` (``a``, 127.74.0.1), ``--counties west`` (``b``, .2) and
``--counties north`` (``c``, .3) share one PostgreSQL database of the session's server.
Each county has a switch whose TCP port is open and a camera whose port is closed (an
open fault), on 127.74.1.x, swept every second; notices are scheduled every minute, on
every instance. ``--counties X`` means an instance wants X only: its ``/readyz`` lists X,
active, and nothing else; ``a``, started first, also takes the city-wide duties.

Each county's fault is written by its own instance; each instance exports the device
series of its own county only and ``netwatch_county_active`` 1 for it; exactly one
instance runs the duties. The scheduled issue fires on all three every minute, but only
the duties' holder issues: one notice per county, numbered once, its files written by
that instance alone, and nothing more at the next minute's issue.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests import pgserver
from tests.daemon.cluster import (
    HOSTS,
    Database,
    Instance,
    by_label,
    database,
    make_token,
    numbered,
    until,
)
from tests.daemon.test_gaps_e2e import Service

COUNTIES = ("east", "west", "north")
NAMES = {"east": "东区", "west": "西区", "north": "北区"}
SWITCHES = {"east": "127.74.1.41", "west": "127.74.1.51", "north": "127.74.1.61"}
CAMERAS = {"east": "127.74.1.42", "west": "127.74.1.52", "north": "127.74.1.62"}


def inventory(port: int) -> str:
    text = ("city: {name: 示例市, timezone: Asia/Shanghai}\n"
            "notices: {issuing_unit: 示例市公安局, prefix: 示公科信, "
            "contact: \"张警官 0000-00000000\", schedule: \"* * * * *\"}\n"
            "counties:\n")
    for county in COUNTIES:
        text += (f"  - {{id: {county}, name: {NAMES[county]}, "
                 f"receiving_unit: {NAMES[county]}公安分局}}\n")
    text += ("defaults:\n"
             "  camera: {interval: 1s, timeout: 500ms, grace: 0s}\n"
             "  switch: {interval: 1s, timeout: 500ms, grace: 0s}\n"
             "devices:\n")
    for county in COUNTIES:
        for device, kind, address in ((f"sw-{county}", "switch", SWITCHES[county]),
                                      (f"cam-{county}", "camera", CAMERAS[county])):
            text += (f"  - {{id: {device}, kind: {kind}, county: {county}, "
                     f"address: {address}, checks: [{{probe: tcp, port: {port}}}]}}\n")
    return text


@dataclass
class Shards:
    db: Database
    instances: dict[str, Instance]  # by county
    token: str


@pytest.fixture(scope="module")
def shards(pg_server: pgserver.Server, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Shards]:
    root = tmp_path_factory.mktemp("shards")
    port = pgserver.free_port(SWITCHES["east"])
    (root / "inventory.yaml").write_text(inventory(port), encoding="utf-8")
    switches = [Service(address, port) for address in SWITCHES.values()]
    instances: dict[str, Instance] = {}
    try:
        for service in switches:
            service.open()
        with database(pg_server) as db:
            token = make_token(db.url, root / "inventory.yaml")
            try:
                for county, name, host in zip(COUNTIES, "abc", HOSTS, strict=True):
                    instances[county] = Instance(name, host, root, db.url, [county]).start()
                yield Shards(db, instances, token)
            finally:
                codes = {i.name: i.stop() for i in instances.values()}
            assert all(code == 0 for code in codes.values()), (
                codes, "\n".join(i.tail() for i in instances.values()))
    finally:
        for service in switches:
            service.close()


def test_each_instance_watches_its_own_county_and_one_issues(shards: Shards) -> None:
    db, by_county = shards.db, shards.instances
    a, b, c = by_county.values()
    every = tuple(by_county.values())
    until("each instance active for its own county, a for the duties too", lambda: (
        [i.roles() for i in every]
        == [({"east": "active"}, "active"), ({"west": "active"}, "standby"),
            ({"north": "active"}, "standby")]), *every)
    leases = db.leases()
    assert {scope: holder for scope, (holder, *_) in leases.items()} == {
        "east": "a", "west": "b", "north": "c", "*duties": "a"}

    # each camera's fault, written by its county's instance
    until("every camera's fault recorded", lambda: (
        set(db.open_episodes()) == {f"cam-{c}" for c in COUNTIES}), *every)
    for county, instance in by_county.items():
        assert f"fault unreachable opened on cam-{county}" in instance.text()
        others = [f"cam-{c}" for c in COUNTIES if c != county]
        assert not any(f"opened on {cam}" in instance.text() for cam in others)

    # each exports its own county's devices only; one runs the duties
    until("every instance has swept its devices", lambda: all(
        set(by_label(i.metrics().get("netwatch_device_up", {}), "device"))
        == {f"sw-{county}", f"cam-{county}"} for county, i in by_county.items()), *every)
    for county, instance in by_county.items():
        m = instance.metrics()
        assert by_label(m["netwatch_device_up"], "device") == {
            f"sw-{county}": 1, f"cam-{county}": 0}
        assert {dict(k)["county"] for k in m["netwatch_device_info"]} == {county}
        assert by_label(m["netwatch_county_active"], "county") == {county: 1}
        assert m["netwatch_duties_active"][()] == (1 if instance is a else 0)
        assert ("netwatch_county_unmonitored_seconds_total" in m) == (instance is a)
    unwatched = a.metrics()["netwatch_county_unmonitored_seconds_total"]
    assert by_label(unwatched, "county") == dict.fromkeys(COUNTIES, 0)

    # the issue fires on all three each minute; a alone issues, once per county
    notices = until("a's scheduled issue: one notice per county, its files written", lambda: (
        n if len(n := db.notices()) == 3 and a.text().count("issued 示公科信〔") == 3
        else None), *every)
    assert sorted(numbered(notices), key=lambda n: n[1]) == numbered(notices)
    assert sorted(county for county, _ in numbered(notices)) == sorted(COUNTIES)
    assert [seq for _, seq in numbered(notices)] == [1, 2, 3]
    ran = db.last_issue_run()
    assert ran is not None
    until("the next minute's issue on every instance", lambda: (
        (db.last_issue_run() or 0) > ran), *every)
    assert db.notices() == notices
    for county in COUNTIES:
        assert list((a.notices / county).glob("*.json"))
    for instance in (b, c):
        assert not instance.notices.exists()
        assert "issued " not in instance.text()


def test_each_instance_lists_every_countys_faults(shards: Shards) -> None:
    """Any instance answers for the whole city from the database."""
    db, every = shards.db, tuple(shards.instances.values())
    until("every camera's fault recorded", lambda: (
        set(db.open_episodes()) == {f"cam-{c}" for c in COUNTIES}), *every)
    recorded = db.open_episodes()
    for instance in every:
        status, raw = instance.request("GET", "/api/v1/faults?state=open", shards.token)
        assert status == 200, raw
        listed = {f["device"]: (f["id"], f["first_seen_unix"])
                  for f in json.loads(raw)["faults"]}
        assert listed == recorded, instance.name
