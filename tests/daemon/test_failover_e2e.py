"""Failover: the active instance killed (SIGKILL) or paused (SIGSTOP), the standby
takes the city over.

Two ``netwatch run`` instances (``a`` on 127.74.0.1, ``b`` on 127.74.0.2) share a fresh
database of the session's PostgreSQL server and want the same three counties, with
``--lease-ttl 15``; ``a`` starts first and takes every lease, ``b`` stands by. Devices on
127.74.1.x, one-second sweeps: in east a switch (port open), a camera (port closed: its
fault is open before the failover) and a trunking site answering ICMP (a standby's
shadow probe); in west a switch and a camera with a closed port (a second open fault);
in north one camera, its port open. Notices are scheduled every minute.

Killed: ``a`` issues east's and west's notices (north has nothing to report) and takes
readings, then dies; nothing is released, the leases lapse. Readings keep coming: each
batch is posted to ``a`` first and, when that fails, the same batch (the same client
ids) to ``b``, standby or not. ``b`` is active for every county and runs the duties
within the lease and one round; it adopted the open faults with their episode ids and
first-seen times and opens no second episode of them; north's camera (its port closed
after the kill) opens a fault under ``b``, whose scheduled issue numbers north's notice
right after ``a``'s; every reading is stored once; each county's unwatched time is a
recorded gap (``no_active``) from ``a``'s last renewal to ``b``'s takeover, exported by
``b`` in ``netwatch_county_unmonitored_seconds_total``.

Paused: ``a`` stops past its lease, ``b`` takes over, and east's switch fails and its
camera is repaired meanwhile; ``b`` records both. Resumed, ``a`` writes nothing (the
database's episodes stay ``b``'s), stands by for every county and the duties, and only
``b`` reports ``netwatch_county_active`` 1.

Paused inside a transaction: ``a`` has a change it cannot write yet (the test holds the
database's write lock) and is stopped while its write waits for the lock; once the test
lets go, ``a``'s stopped session holds it, idle in its transaction. The server ends that
session after the lease (the daemon's idle limit), so ``b`` takes over all the same;
resumed, ``a`` has its kept change refused by the fence.
"""

from __future__ import annotations

import json
import urllib.error
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from netwatch.monitor import RENEW_EVERY
from tests import pgserver
from tests.daemon.cluster import (
    HOSTS,
    TTL,
    Database,
    Instance,
    by_label,
    database,
    icmp_missing,
    make_token,
    numbered,
    running,
    swept,
    until,
)
from tests.daemon.test_gaps_e2e import Service

pytestmark = pytest.mark.skipif(icmp_missing() is not None, reason=str(icmp_missing()))

SW_E, CAM_E, TS_E = "127.74.1.11", "127.74.1.12", "127.74.1.13"
SW_W, CAM_W = "127.74.1.21", "127.74.1.22"
CAM_N = "127.74.1.31"
COUNTIES = ("east", "north", "west")
BROKEN = ("cam-e", "cam-w")  # closed ports: open faults before the failover
HEALTHY = ("sw-e", "ts-e", "sw-w")
READINGS_BATCHES = 30  # at most, posted while the leases lapse


def inventory(port: int) -> str:
    def tcp(device: str, kind: str, county: str, address: str) -> str:
        return (f"  - {{id: {device}, kind: {kind}, county: {county}, address: {address}, "
                f"checks: [{{probe: tcp, port: {port}}}]}}\n")

    return (
        "city: {name: 示例市, timezone: Asia/Shanghai}\n"
        "notices: {issuing_unit: 示例市公安局, prefix: 示公科信, "
        "contact: \"张警官 0000-00000000\", schedule: \"* * * * *\"}\n"
        "coverage: {retention: 30d}\n"
        "counties:\n"
        "  - {id: east, name: 东区, receiving_unit: 东区公安分局,\n"
        "     boundary: [[105.8, 38.0], [106.3, 38.0], [106.3, 38.4], [105.8, 38.4]]}\n"
        "  - {id: west, name: 西区, receiving_unit: 西区公安分局}\n"
        "  - {id: north, name: 北区, receiving_unit: 北区公安分局}\n"
        "defaults:\n"
        "  camera: {interval: 1s, timeout: 500ms, grace: 0s}\n"
        "  switch: {interval: 1s, timeout: 500ms, grace: 0s}\n"
        "  trunking_site: {interval: 1s, timeout: 500ms, grace: 0s}\n"
        "devices:\n"
        + tcp("sw-e", "switch", "east", SW_E) + tcp("cam-e", "camera", "east", CAM_E)
        + f"  - {{id: ts-e, kind: trunking_site, county: east, address: {TS_E}, lat: 38.2, "
          "lon: 106.0, checks: [icmp]}\n"
        + tcp("sw-w", "switch", "west", SW_W) + tcp("cam-w", "camera", "west", CAM_W)
        + tcp("cam-n", "camera", "north", CAM_N)
        + "coverage_points:\n"
          "  - {id: e-cp-1, name: 东镇政府, county: east, lat: 38.21, lon: 106.01, "
          "serving_site: ts-e}\n")


@pytest.fixture
def services() -> Iterator[dict[str, Service]]:
    port = pgserver.free_port(SW_E)
    found = {name: Service(host, port) for name, host in
             (("sw-e", SW_E), ("cam-e", CAM_E), ("sw-w", SW_W), ("cam-w", CAM_W),
              ("cam-n", CAM_N))}
    try:
        yield found
    finally:
        for service in found.values():
            service.close()


class Poster:
    """Readings batches, each with its own client ids, sent until stored."""

    def __init__(self, token: str) -> None:
        self.token = token
        taken = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
        self.reading = {"point": "e-cp-1", "taken_at": taken, "rssi_dbm": -95}
        self.sent: dict[str, list[int]] = {}  # client id → the ids answered (every send)
        self.batches: list[list[dict[str, Any]]] = []

    def batch(self, size: int = 2) -> list[dict[str, Any]]:
        n = sum(len(b) for b in self.batches)
        made = [{**self.reading, "rssi_dbm": -90 - i % 10, "client_id": f"phone-{n + i}"}
                for i in range(size)]
        self.batches.append(made)
        return made

    def post(self, batch: list[dict[str, Any]], *instances: Instance) -> bool:
        """Try each instance in turn; True once one has stored the batch."""
        for instance in instances:
            try:
                status, raw = instance.request("POST", "/api/v1/readings", self.token, batch)
            except (urllib.error.URLError, OSError):
                continue  # killed, or not answering: the next one
            if status == 201:
                ids = json.loads(raw)["ids"]
                for reading, id_ in zip(batch, ids, strict=True):
                    self.sent.setdefault(reading["client_id"], []).append(int(id_))
                return True
            assert status == 503, raw  # the store away: the same batch again later
        return False


@contextmanager
def pair(tmp_path: Path, pg_server: pgserver.Server,
         services: dict[str, Service]) -> Iterator[tuple[Database, Instance, Instance]]:
    """The city's inventory and its devices' services, a fresh database, and instances a
    and b over it (started by the test, stopped here by PID)."""
    (tmp_path / "inventory.yaml").write_text(inventory(services["sw-e"].port),
                                             encoding="utf-8")
    for name in ("sw-e", "sw-w", "cam-n"):
        services[name].open()
    with database(pg_server) as db:
        a = Instance("a", HOSTS[0], tmp_path, db.url)
        b = Instance("b", HOSTS[1], tmp_path, db.url)
        with running(a, b):
            yield db, a, b


def test_killed_active_hands_the_city_to_the_standby(
        tmp_path: Path, pg_server: pgserver.Server, services: dict[str, Service]) -> None:
    with pair(tmp_path, pg_server, services) as (db, a, b):
        _failover(db, a, b, make_token(db.url, tmp_path / "inventory.yaml"), services)
    assert pg_server.password not in a.text() + b.text()  # the logs, shutdown included


def _failover(db: Database, a: Instance, b: Instance, token: str,
              services: dict[str, Service]) -> None:
    every = dict.fromkeys(COUNTIES, "active")
    standby = dict.fromkeys(COUNTIES, "standby")
    a.start()
    until("a active for every county and the duties",
          lambda: a.roles() == (every, "active"), a)
    b.start()
    until("b standing by for every county and the duties",
          lambda: b.roles() == (standby, "standby"), a, b)

    # before the failover: the broken cameras' faults recorded, a's notices issued
    until("both cameras' faults recorded, the healthy devices up", lambda: (
        set(db.open_episodes()) == set(BROKEN)
        and all(by_label(a.metrics().get("netwatch_device_up", {}), "device").get(d) == 1
                for d in (*HEALTHY, "cam-n"))), a, b)
    before = db.open_episodes()
    issued = until("a's scheduled issue: east's and west's notices, their files written", lambda: (
        n if numbered(n := db.notices()) == [("east", 1), ("west", 2)]
        and a.text().count("issued 示公科信〔") == 2 else None), a, b)
    poster = Poster(token)
    first = poster.batch()
    assert poster.post(first, a)
    assert db.gaps() == []

    # a dies; its leases lapse, their last renewal is a's last word
    a.kill()
    last_word = {scope: renewed for scope, (holder, _, _, renewed) in db.leases().items()}
    assert {holder for holder, *_ in db.leases().values()} == {"a"}
    services["cam-n"].close()
    b.note()

    by_standby = 0  # batches b stored while it still stood by

    def taken_over() -> bool:
        nonlocal by_standby
        stored = False
        if len(poster.batches) < READINGS_BATCHES:
            stored = poster.post(poster.batch(), a, b)  # else sent again below
        roles = b.roles()
        by_standby += stored and roles == (standby, "standby")
        return roles == (every, "active")

    until("b active for every county and the duties", taken_over, b)
    assert by_standby >= 1  # readings go on while no instance is any county's active
    leases = db.leases()
    assert {scope: (holder, generation) for scope, (holder, generation, *_) in leases.items()} \
        == {scope: ("b", 2) for scope in (*COUNTIES, "*duties")}
    for scope, (_, _, acquired, _) in leases.items():
        # taken after the lease lapsed, within one round of it (slack for a loaded machine)
        assert TTL <= acquired - last_word[scope] <= TTL + RENEW_EVERY + 10.0, scope

    # the adopted faults are the same episodes, still open, nothing opened twice
    assert {d: e for d, e in db.open_episodes().items() if d in BROKEN} == before
    log = b.since()
    for county, adopted in (("east", 1), ("west", 1), ("north", 0)):
        assert f"active for {county} (lease generation 2): {adopted} open fault(s) adopted" \
            in log, log
    m = b.metrics()
    since = by_label(m["netwatch_fault_since_timestamp_seconds"], "device")
    assert {d: since[d] for d in BROKEN} == {d: before[d][1] for d in BROKEN}

    # north's camera, closed since the kill: b opens its fault and issues its notice, number 3
    until("north's camera's fault recorded by b", lambda: "cam-n" in db.open_episodes(), b)
    notices = until("b's scheduled issue: north's notice, its files written", lambda: (
        n if len(n := db.notices()) == 3 and "to north" in b.since() else None), b)
    assert numbered(notices) == [("east", 1), ("west", 2), ("north", 3)]
    assert notices[:2] == issued  # east's and west's of the day are found, not issued again
    assert notices[2][3] >= leases["*duties"][2]
    assert list((b.notices / "north").glob("*.json"))

    # a few more sweeps of b: the hand-over opened and closed nothing else
    swept(b)
    rows = db.episodes()
    assert sorted(r[1] for r in rows) == ["cam-e", "cam-n", "cam-w"], rows
    assert all(r[6] is None for r in rows), rows
    assert {d: e for d, e in db.open_episodes().items() if d in BROKEN} == before

    # the gap: from a's last renewal to b's takeover, per county, recorded once
    gaps = db.gaps()
    assert gaps == [(county, last_word[county], leases[county][2], "no_active")
                    for county in sorted(COUNTIES)], (gaps, last_word, leases)
    m = b.metrics()
    unwatched = by_label(m["netwatch_county_unmonitored_seconds_total"], "county")
    assert unwatched == pytest.approx({c: leases[c][2] - last_word[c] for c in COUNTIES},
                                      abs=1e-3)
    assert by_label(m["netwatch_lease_takeovers_total"], "county") == dict.fromkeys(COUNTIES, 1)
    assert by_label(m["netwatch_county_active"], "county") == dict.fromkeys(COUNTIES, 1)
    assert m["netwatch_duties_active"][()] == 1

    # every reading stored once: the same client ids sent again answer the same ids
    assert poster.post(first, b)
    for batch in poster.batches:
        assert poster.post(batch, b)
    stored = db.rows("SELECT id, idem_key FROM readings ORDER BY id")
    answered = {cid: set(ids) for cid, ids in poster.sent.items()}
    assert all(len(ids) == 1 for ids in answered.values()), answered
    assert sorted(i for ids in answered.values() for i in ids) == [r[0] for r in stored]
    assert len(stored) == sum(len(batch) for batch in poster.batches)


def test_paused_active_resumed_after_the_takeover_writes_nothing(
        tmp_path: Path, pg_server: pgserver.Server, services: dict[str, Service]) -> None:
    with pair(tmp_path, pg_server, services) as (db, a, b):
        _split_brain(db, a, b, services)


def _split_brain(db: Database, a: Instance, b: Instance, services: dict[str, Service]) -> None:
    every = dict.fromkeys(COUNTIES, "active")
    standby = dict.fromkeys(COUNTIES, "standby")
    a.start()
    until("a active for every county and the duties",
          lambda: a.roles() == (every, "active"), a)
    b.start()
    until("b standing by, a's faults recorded, the healthy devices up", lambda: (
        b.roles() == (standby, "standby") and set(db.open_episodes()) == set(BROKEN)
        and all(by_label(a.metrics().get("netwatch_device_up", {}), "device").get(d) == 1
                for d in HEALTHY)), a, b)
    before = db.open_episodes()

    # a stops answering (SIGSTOP) past its lease: b takes every county and the duties
    a.pause()
    until("b active for every county and the duties",
          lambda: b.roles() == (every, "active"), b)
    assert {holder for holder, *_ in db.leases().values()} == {"b"}

    # meanwhile east's switch fails and east's camera is repaired: b records both
    services["sw-e"].close()
    services["cam-e"].open()
    until("b's changes recorded: the switch's fault open, the camera's closed", lambda: (
        set(db.open_episodes()) == {"sw-e", "cam-w"}), b)
    decided = by_label(b.metrics()["netwatch_fault_since_timestamp_seconds"], "device")
    recorded = db.open_episodes()
    assert recorded["cam-w"] == before["cam-w"]
    assert recorded["sw-e"][1] == decided["sw-e"]
    episodes, leases = db.episodes(), db.leases()
    [camera] = [e for e in episodes if e[1] == "cam-e"]
    assert (camera[0], camera[4]) == before["cam-e"] and camera[6] is not None

    # a comes back with a stale view (cam-e failing, sw-e up): it writes nothing, stands by
    a.note()
    a.resume()
    until("a standing by for every county and the duties",
          lambda: a.roles() == (standby, "standby"), a, b)
    swept(a)
    swept(b)
    assert db.episodes() == episodes
    assert db.leases().keys() == leases.keys()
    assert {s: v[:2] for s, v in db.leases().items()} == {s: v[:2] for s, v in leases.items()}
    log = a.since()
    assert "past its lease" in log, log
    for county in COUNTIES:
        assert f"standing by for {county}: its lease moved on or lapsed" in log, log
    assert "no longer running the city-wide duties" in log, log
    # one gap per county, b's takeover's: a's return records none
    assert [(c, reason) for c, *_, reason in db.gaps()] == [
        (c, "no_active") for c in sorted(COUNTIES)]

    # exactly one instance is each county's active, and it alone exports the devices
    ma, mb = a.metrics(), b.metrics()
    assert by_label(ma["netwatch_county_active"], "county") == dict.fromkeys(COUNTIES, 0)
    assert by_label(mb["netwatch_county_active"], "county") == dict.fromkeys(COUNTIES, 1)
    assert (ma["netwatch_duties_active"][()], mb["netwatch_duties_active"][()]) == (0, 1)
    assert "netwatch_device_up" not in ma
    assert set(by_label(mb["netwatch_device_up"], "device")) == {
        "sw-e", "cam-e", "ts-e", "sw-w", "cam-w", "cam-n"}


def test_paused_inside_a_transaction_neither_blocks_the_takeover_nor_writes(
        tmp_path: Path, pg_server: pgserver.Server, services: dict[str, Service]) -> None:
    """a decides a change it cannot write yet (the test holds the database's write lock)
    and is paused while its write waits for the lock; the test lets the lock go, so a's
    session holds it, idle in its transaction, while a is stopped. The server ends that
    session (the idle limit), so b takes the city over all the same; a, resumed, finds
    its county taken: the store refuses the kept change (fencing) and the switch's
    episode in the database is b's."""
    with pair(tmp_path, pg_server, services) as (db, a, b):
        _paused_holding_the_lock(db, a, b, services)


def _paused_holding_the_lock(db: Database, a: Instance, b: Instance,
                             services: dict[str, Service]) -> None:
    every = dict.fromkeys(COUNTIES, "active")
    standby = dict.fromkeys(COUNTIES, "standby")
    a.start()
    until("a active for every county and the duties",
          lambda: a.roles() == (every, "active"), a)
    b.start()
    until("b standing by, a's faults recorded", lambda: (
        b.roles() == (standby, "standby") and set(db.open_episodes()) == set(BROKEN)), a, b)

    # just after a's renewal the test takes the write lock; east's switch fails
    renewed = db.leases()["east"][3]
    until("a renews its leases", lambda: db.leases()["east"][3] > renewed, a)
    with db.write_lock():
        services["sw-e"].close()
        until("a's change decided and kept, the store refusing it", lambda: any(
            "1 fault change(s) wait to be recorded" in p for p in a.readyz()["problems"]), a)
        until("a's session waiting for the write lock", lambda: (
            (False, "active") in db.write_lock_sessions(a.application)), a)
        a.pause()
    until("a's session holding the write lock, idle in its transaction, a stopped", lambda: (
        any(granted and state.startswith("idle in transaction")
            for granted, state in db.write_lock_sessions(a.application))), b)

    # b takes over all the same, and records the switch's fault itself
    until("b active for every county and the duties",
          lambda: b.roles() == (every, "active"), b)
    assert db.write_lock_sessions(a.application) == []
    taken = db.leases()["east"][2]
    until("b records the switch's fault", lambda: "sw-e" in db.open_episodes(), b)
    episodes = db.episodes()
    [switch] = [e for e in episodes if e[1] == "sw-e"]
    assert switch[4] >= taken  # first seen by b after its takeover, not by a before

    a.note()
    a.resume()
    until("a refused its kept change and stands by", lambda: (
        "write refused" in a.since() and a.roles() == (standby, "standby")), a, b)
    swept(a)
    assert db.episodes() == episodes
    assert [(c, reason) for c, *_, reason in db.gaps()] == [
        (c, "no_active") for c in sorted(COUNTIES)]
    log = a.since()
    assert "1 fault change(s) not recorded: the lease of east moved on to another instance: " \
        "a's write refused" in log, log
    ma, mb = a.metrics(), b.metrics()
    assert by_label(ma["netwatch_county_active"], "county") == dict.fromkeys(COUNTIES, 0)
    assert by_label(mb["netwatch_county_active"], "county") == dict.fromkeys(COUNTIES, 1)
    assert ma["netwatch_fault_changes_unrecorded"][()] == 0
