"""``netwatch backup`` while the daemon writes, ``netwatch restore`` into a fresh directory:
the restored daemon serves the same faults, readings, notices and tokens; a damaged or
too new backup is refused before anything is replaced."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from netwatch.store import Store
from netwatch.store.backup import BackupError, _sha256, backup, restore, verify
from tests.notices.city import DAY, fault
from tests.ops.daemon import INVENTORY, Daemon, netwatch, token


def reading(i: int) -> dict[str, object]:
    return {"point": "p1", "taken_at": datetime.now(UTC).isoformat(), "technology": "pdt",
            "rssi_dbm": -95 - i % 10, "ber": 0.01, "client_id": f"r{i}"}


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def received(metrics: str) -> float:
    line = next(ln for ln in metrics.splitlines()
                if ln.startswith('netwatch_survey_readings_received_total{county="east"}'))
    return float(line.split()[-1])


def test_backup_during_writes_and_restore_into_a_fresh_directory(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(INVENTORY, encoding="utf-8")
    live, db, notices = tmp_path / "live", tmp_path / "live" / "netwatch.db", tmp_path / "live/n"
    live.mkdir()
    with Store.open(db) as store:
        fault(store, "cam-1", time.time() - 2 * DAY)
    admin = token(db, inventory, "admin")
    tester = token(db, inventory, "tester", "--county", "east")
    issued = netwatch("notices", "generate", inventory, "--db", db, "--out", notices)
    assert issued.returncode == 0 and "示公科信" in issued.stdout, issued.stderr + issued.stdout
    dest = tmp_path / "backup"
    with Daemon(inventory, db, notices, tmp_path / "a.log") as daemon:
        before = {p: daemon.call("GET", p, admin) for p in ("/api/v1/faults", "/api/v1/notices")}
        assert before["/api/v1/faults"][0] == 200 and before["/api/v1/notices"][0] == 200
        first = reading(0)
        first_ids = daemon.call("POST", "/api/v1/readings", tester, first)
        assert first_ids[0] == 201
        stop, posted = threading.Event(), [1]

        def write() -> None:  # the daemon stores readings while the backup runs
            while not stop.is_set() and posted[0] < 400:
                status, _ = daemon.call("POST", "/api/v1/readings", tester, reading(posted[0]))
                assert status == 201
                posted[0] += 1

        writer = threading.Thread(target=write)
        writer.start()
        try:
            while posted[0] < 5:
                time.sleep(0.01)
            done = netwatch("backup", dest, "--db", db, "--notices-dir", notices)
        finally:
            stop.set()
            writer.join()
        assert done.returncode == 0, done.stderr
    copy = sqlite3.connect(dest / "netwatch.db")
    ids = [r[0] for r in copy.execute("SELECT idem_key FROM readings ORDER BY id")]
    copy.close()
    assert 5 <= len(ids) <= posted[0]
    assert ids == [f"r{i}" for i in range(len(ids))]  # a consistent prefix, nothing torn

    fresh = tmp_path / "fresh"
    done = netwatch("restore", dest, "--db", fresh / "netwatch.db", "--notices-dir",
                    fresh / "notices")
    assert done.returncode == 0, done.stderr
    assert files(fresh / "notices") == files(notices) != {}
    with Daemon(inventory, fresh / "netwatch.db", fresh / "notices", tmp_path / "b.log") as again:
        for path, answer in before.items():
            assert again.call("GET", path, admin) == answer
        status, metrics = again.call("GET", "/metrics", admin)
        assert status == 200 and received(metrics) == len(ids)
        assert again.call("POST", "/api/v1/readings", tester, first) == first_ids


def test_restore_refuses_a_damaged_or_too_new_backup(tmp_path: Path) -> None:
    db, notices = tmp_path / "netwatch.db", tmp_path / "notices"
    with Store.open(db) as store:
        fault(store, "cam-1", time.time() - DAY)
    (notices / "east").mkdir(parents=True)
    (notices / "east" / "a.md").write_text("通知")
    good = backup(db, notices, tmp_path / "b1")
    assert verify(good.path).notices == 1
    target, target_notices = tmp_path / "t" / "netwatch.db", tmp_path / "t" / "notices"
    target_notices.mkdir(parents=True)
    target.write_bytes(b"the current database")

    damaged = tmp_path / "b1" / "netwatch.db"
    raw = bytearray(damaged.read_bytes())
    raw[5000] ^= 0xFF
    damaged.write_bytes(bytes(raw))
    with pytest.raises(BackupError, match="SHA-256 differs"):
        restore(good.path, target, target_notices)

    newer = backup(db, notices, tmp_path / "b2")
    conn = sqlite3.connect(newer.path / "netwatch.db")
    conn.execute("PRAGMA user_version = 999")
    conn.commit()
    conn.close()
    manifest = newer.path / "manifest.json"
    doc = json.loads(manifest.read_text())
    doc["sha256"]["netwatch.db"] = _sha256(newer.path / "netwatch.db")
    manifest.write_text(json.dumps(doc))
    done = netwatch("restore", newer.path, "--db", target, "--notices-dir", target_notices)
    assert done.returncode == 2
    assert "schema version 999" in done.stderr and "nothing replaced" in done.stderr
    assert target.read_bytes() == b"the current database"
    assert sorted(p.name for p in target.parent.iterdir()) == ["netwatch.db", "notices"]
    with pytest.raises(BackupError, match="already exists"):
        backup(db, notices, tmp_path / "b2")
