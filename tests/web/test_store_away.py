"""The store away, as the web sees it: ``/readyz`` 503 with the reason, then 200 once it
takes writes; readings refused with 503 and ``Retry-After``, nothing stored, then taken on
the retry with the same ids; the monitor's fault change kept in memory and written once;
``/metrics`` saying so. The store is a real SQLite file; another connection's exclusive
lock makes it refuse writes (the daemon's busy wait is made short here, nothing else)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from netwatch.store import FaultLog, Store, StoreThread
from netwatch.web.app import create_app
from tests.store.away import Lock, quick_thread
from tests.web.conftest import HEALTHY, City, bearer, fail
from tests.web.test_survey_api import NORTH, Tokens, readings, survey_app  # noqa: F401


@pytest.fixture
def db(tmp_path: Path) -> Iterator[StoreThread]:
    """The daemon's database thread, giving up on a lock at once (not after 5 s)."""
    thread = quick_thread(tmp_path / "netwatch.db")
    yield thread
    thread.close()


def sample(text: str, name: str) -> float:
    (line,) = [line for line in text.splitlines() if line.startswith(name + " ")]
    return float(line.rsplit(" ", 1)[1])


async def test_readyz_and_metrics_follow_the_store_and_the_fault_waits_for_it(
        aiohttp_client: Any, city: City, store: Store, db: StoreThread, tmp_path: Path) -> None:
    city.runner.results["ts-w1"] = HEALTHY["ts-w1"]
    await city.sweep("trunking_site")  # every group swept once: ready
    client = await aiohttp_client(create_app(city.deps(store=True)))
    assert (await client.get("/readyz")).status == 200
    lock = Lock(tmp_path / "netwatch.db")
    try:
        city.runner.results["ts-w1"] = {"icmp": fail(), "snmp": fail()}
        for _ in range(5):  # until its fault opens (open_after), on the probes' word alone
            await city.sweep("trunking_site")
            if "ts-w1" in city.monitor.faults:
                break
        (fault,) = city.monitor.faults["ts-w1"].values()
        assert fault.episode_id is None and city.monitor.unrecorded == 1
        resp = await client.get("/readyz")
        body = await resp.json()
        assert resp.status == 503 and body["ready"] is False and body["degraded"] is True
        assert body["problems"][0].startswith("store: ") and "locked" in body["problems"][0]
        assert "1 fault change(s) wait to be recorded" in body["problems"][0]
        text = await (await client.get("/metrics")).text()
        assert sample(text, "netwatch_store_up") == 0
        assert sample(text, "netwatch_fault_changes_unrecorded") == 1
        assert sample(text, "netwatch_monitor_degraded") == 1
        resp = await client.get("/api/v1/notices", headers=bearer(city.admin))
        assert resp.status == 200  # reads still work under WAL: only writes are refused
    finally:
        lock.release()
    assert (await db.check()).up  # what the daemon's store duty does every 10 s
    assert await city.monitor.writes.flush()  # the writer's retry, without waiting for it
    assert (await client.get("/readyz")).status == 200
    text = await (await client.get("/metrics")).text()
    assert sample(text, "netwatch_store_up") == 1
    assert sample(text, "netwatch_fault_changes_unrecorded") == 0
    (episode,) = [e for e in FaultLog(store).query(state="all") if e.device == "ts-w1"]
    assert (episode.id, episode.first_seen, episode.opened_at) == (
        fault.episode_id, fault.first_seen, fault.opened_at)


async def test_readings_are_refused_while_the_store_is_away_and_taken_on_the_retry(
        survey_app: tuple[Any, Tokens], store: Store, db: StoreThread,  # noqa: F811
        tmp_path: Path) -> None:
    """503 with Retry-After and nothing stored, at the failed write and then at once while
    the store is known away; the same batch afterwards: 201, and again the same ids."""
    client, tokens = survey_app
    batch = [{**NORTH, "client_id": "phone-1"}, {**NORTH, "client_id": "phone-2",
                                                "rssi_dbm": -90}]
    auth = bearer(tokens.north_tester)
    lock = Lock(tmp_path / "netwatch.db")
    try:
        for _ in range(2):  # the write that fails, then refused before any write
            resp = await client.post("/api/v1/readings", json=batch, headers=auth)
            body = await resp.json()
            assert (resp.status, body["error"]) == (503, "store unavailable")
            assert resp.headers["Retry-After"] == "5"
            assert readings(store) == []
        assert not db.status().up
    finally:
        lock.release()
    assert (await db.check()).up
    first = await client.post("/api/v1/readings", json=batch, headers=auth)
    again = await client.post("/api/v1/readings", json=batch, headers=auth)
    assert first.status == again.status == 201
    ids = (await first.json())["ids"]
    assert (await again.json())["ids"] == ids and len(ids) == 2
    assert [r[0] for r in readings(store)] == ids
