"""``netwatch token`` end to end in a subprocess: create prints only the token, list hides it."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from netwatch.store import Store, TokenStore

INVENTORY = """\
city: {name: 测试市, timezone: Europe/London}
counties:
  - {id: xingan, name: 兴安区, receiving_unit: 兴安区公安分局}
  - {id: linhe, name: 临河区, receiving_unit: 临河区公安分局}
devices:
  - {id: cam-1, kind: camera, county: xingan, address: 127.120.0.1}
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of a netwatch run in an empty directory with its own database."""
    base = {k: v for k, v in os.environ.items()
            if k not in ("NETWATCH_DB", "NETWATCH_INVENTORY")}
    (tmp_path / "inventory.yaml").write_text(INVENTORY, encoding="utf-8")
    return base


def netwatch(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "netwatch", "token", *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=60)


def test_create_prints_only_the_token_and_list_never_does(tmp_path: Path,
                                                          env: dict[str, str]) -> None:
    """stdout of create is exactly the token; list shows id, role, counties and local times."""
    made = netwatch(tmp_path, env, "create", "--role", "county", "--county", "xingan",
                    "--name", "desk")
    assert made.returncode == 0, made.stderr
    assert re.fullmatch(r"nw_[A-Za-z0-9_-]{43}\n", made.stdout)
    token = made.stdout.strip()
    assert "not shown again" in made.stderr and token not in made.stderr
    db = tmp_path / "netwatch.db"
    assert (db.stat().st_mode & 0o777) == 0o600
    with Store.open(db) as store:
        info = TokenStore(store).verify(token)
    assert info is not None and info.counties == {"xingan"}
    assert info.id in made.stderr

    listed = netwatch(tmp_path, env, "list")
    as_json = netwatch(tmp_path, env, "list", "--json")
    for out in (listed, as_json):
        assert out.returncode == 0, out.stderr
        assert token not in out.stdout + out.stderr
        assert token[3:20] not in out.stdout
    assert info.id in listed.stdout and "desk" in listed.stdout
    [row] = json.loads(as_json.stdout)
    assert (row["id"], row["role"], row["counties"], row["name"]) == (info.id, "county",
                                                                      ["xingan"], "desk")
    assert row["last_used"] is not None and row["revoked"] is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0[01]:00", row["created"])  # London
    conn = sqlite3.connect(db)
    try:
        [stored_hash] = conn.execute("SELECT hash FROM tokens").fetchone()
    finally:
        conn.close()
    assert stored_hash not in listed.stdout + as_json.stdout


def test_revoke(tmp_path: Path, env: dict[str, str]) -> None:
    """revoke ID stops the token; an unknown id exits 1 with a message naming it."""
    db = tmp_path / "other.db"
    env = {**env, "NETWATCH_DB": str(db)}
    token = netwatch(tmp_path, env, "create", "--role", "admin").stdout.strip()
    with Store.open(db) as store:
        info = TokenStore(store).verify(token)
    assert info is not None
    done = netwatch(tmp_path, env, "revoke", info.id)
    assert done.returncode == 0 and "revoked" in done.stdout
    with Store.open(db) as store:
        assert TokenStore(store).verify(token) is None
    unknown = netwatch(tmp_path, env, "revoke", "deadbeef")
    assert unknown.returncode == 1
    assert "no token with id 'deadbeef'" in unknown.stderr
    assert not (tmp_path / "netwatch.db").exists()


def test_unknown_county_is_refused(tmp_path: Path, env: dict[str, str]) -> None:
    """A county not in the inventory is an error naming it; nothing is printed or stored."""
    out = netwatch(tmp_path, env, "create", "--role", "tester", "--county", "xingan",
                   "--county", "atlantis")
    assert out.returncode == 2
    assert out.stdout == ""
    assert "unknown county atlantis (known: linhe, xingan)" in out.stderr
    assert not (tmp_path / "netwatch.db").exists()
    missing = netwatch(tmp_path, env, "list", "--db", str(tmp_path / "none.db"))
    assert missing.returncode == 1 and "none.db: no such database" in missing.stderr
