"""``netwatch backup`` while the daemon writes, ``netwatch restore`` into a fresh directory:
the restored daemon serves the same faults, readings, notices and tokens; a damaged or
too new backup, a database of another shape and a truncated notices tar are refused
before anything is replaced."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from netwatch.store import SCHEMA_VERSION, Store
from netwatch.store.backup import BackupError, _sha256, backup, restore, verify
from netwatch.store.schema import MIGRATIONS
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


def rehash(backup_dir: Path) -> None:
    """Make the manifest agree with the files as they are now (a consistent bad backup)."""
    manifest = backup_dir / "manifest.json"
    doc = json.loads(manifest.read_text())
    for name in ("netwatch.db", "notices.tar"):
        doc["sha256"][name] = _sha256(backup_dir / name)
    manifest.write_text(json.dumps(doc))


@pytest.fixture
def taken(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A good backup of a store with a fault and two notice files; a target to restore to."""
    db, notices = tmp_path / "netwatch.db", tmp_path / "notices"
    with Store.open(db) as store:
        fault(store, "cam-1", time.time() - DAY)
    (notices / "east").mkdir(parents=True)
    (notices / "east" / "a.md").write_text("通知")
    (notices / "east" / "b.pdf").write_bytes(bytes(range(256)) * 80)
    target, target_notices = tmp_path / "t" / "netwatch.db", tmp_path / "t" / "notices"
    target_notices.mkdir(parents=True)
    target.write_bytes(b"the current database")
    return backup(db, notices, tmp_path / "b").path, target, target_notices


def refused(src: Path, target: Path, target_notices: Path) -> str:
    """``netwatch restore``'s message: exit 2, no traceback, the target as it was."""
    done = netwatch("restore", src, "--db", target, "--notices-dir", target_notices)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and done.stderr.endswith("; nothing replaced\n")
    assert target.read_bytes() == b"the current database"
    assert sorted(p.name for p in target.parent.iterdir()) == ["netwatch.db", "notices"]
    return done.stderr


def test_restore_refuses_a_database_without_netwatch_s_tables(
        taken: tuple[Path, Path, Path]) -> None:
    """The right user_version and no tables at all: refused, naming what is missing."""
    src, target, target_notices = taken
    (src / "netwatch.db").unlink()
    conn = sqlite3.connect(src / "netwatch.db")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    conn.close()
    rehash(src)
    message = refused(src, target, target_notices)
    assert (f"not a netwatch database of schema version {SCHEMA_VERSION}: "
            "no table circulars; no table declared_outage_audit; no table declared_outage_devices; "
            "no table declared_outages; no table deliveries; no table device_status; "
            "no table ") in message
    assert " more; nothing replaced" in message


@pytest.mark.parametrize("change", [
    "CREATE TRIGGER wipe AFTER INSERT ON fault_episodes BEGIN DELETE FROM tokens; END",
    "CREATE VIEW everything AS SELECT * FROM tokens",
    "ALTER TABLE tokens ADD COLUMN note TEXT",
    "DROP INDEX ux_fault_episodes_open",
])
def test_restore_refuses_a_schema_that_differs(taken: tuple[Path, Path, Path],
                                               change: str) -> None:
    """A netwatch database with one more trigger or view, a column added or an index gone:
    refused before anything is replaced, saying which object differs."""
    src, target, target_notices = taken
    conn = sqlite3.connect(src / "netwatch.db")
    conn.execute(change)
    conn.commit()
    conn.close()
    rehash(src)
    words = {"CREATE TRIGGER": "an extra trigger wipe", "CREATE VIEW": "an extra view everything",
             "ALTER TABLE": "table tokens is defined differently",
             "DROP INDEX": "no index ux_fault_episodes_open"}
    [expected] = [w for prefix, w in words.items() if change.startswith(prefix)]
    assert refused(src, target, target_notices).endswith(f": {expected}; nothing replaced\n")


def test_an_older_schema_is_still_accepted(tmp_path: Path) -> None:
    """A backup taken by an older netwatch (schema version 3) passes the check: it is
    compared with what the migrations make at version 3, and migrated at the next start."""
    db = tmp_path / "old.db"
    with Store.open(db, migrations=MIGRATIONS[:3]) as store:
        assert store.version == 3
    info = backup(db, tmp_path / "no-notices", tmp_path / "b")
    assert verify(info.path).schema_version == 3


# inside the first member's header, inside b.pdf's header, inside b.pdf's data
@pytest.mark.parametrize("keep", [100, 4000, 8000])
def test_restore_refuses_a_truncated_notices_tar(taken: tuple[Path, Path, Path],
                                                 keep: int) -> None:
    """A notices.tar cut short (its digest in the manifest matching): a message and exit 2,
    not a tarfile traceback, and nothing replaced."""
    src, target, target_notices = taken
    tar = src / "notices.tar"
    tar.write_bytes(tar.read_bytes()[:keep])
    rehash(src)
    message = refused(src, target, target_notices)
    assert f"{tar}: not a readable tar archive (damaged or truncated): " in message
    with pytest.raises(BackupError, match="not a readable tar archive"):
        restore(src, target, target_notices)
