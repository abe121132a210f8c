"""API tokens: created once, stored hashed, verified in constant time, scoped, revocable."""

from __future__ import annotations

import hashlib
import hmac
import logging
from pathlib import Path

import pytest

from netwatch.store import Store, Target, TokenError, TokenStore
from netwatch.store import tokens as tokens_module
from netwatch.store.schema import MIGRATIONS


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_create_verify_revoke(store: Store) -> None:
    """A new token verifies as its role and counties until it is revoked."""
    ts = TokenStore(store)
    new = ts.create("county", ["xingan"], name="兴安 duty desk")
    assert new.token.startswith("nw_") and len(new.token) == 46
    info = ts.verify(new.token)
    assert info == new.info
    assert (info.role, info.counties, info.name) == ("county", frozenset({"xingan"}),
                                                     "兴安 duty desk")
    record, changed = ts.revoke(new.info.id)
    assert changed and record.revoked_at is not None
    assert ts.verify(new.token) is None
    assert ts.revoke(new.info.id)[1] is False
    with pytest.raises(TokenError, match="no token with id 'nope'"):
        ts.revoke("nope")


def test_only_the_hash_is_stored(store: Store) -> None:
    """The table holds the token's SHA-256 hex and never the token text; reprs hide it too."""
    new = TokenStore(store).create("admin", [])
    rows = [tuple(r) for r in store.query("SELECT * FROM tokens")]
    assert len(rows) == 1
    assert new.token not in repr(rows)
    assert new.token[3:] not in repr(rows)
    assert hashlib.sha256(new.token.encode()).hexdigest() in rows[0]
    assert new.token not in repr(new)
    if isinstance(store.path, Path):  # SQLite: nor anywhere in the file or its WAL
        raw = (store.path.read_bytes() + Path(f"{store.path}-wal").read_bytes())
        assert new.token.encode() not in raw


def test_verify_compares_in_constant_time(store: Store,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A matching row is accepted only through hmac.compare_digest of the hashes."""
    ts = TokenStore(store)
    new = ts.create("admin", [])
    seen: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(tokens_module.hmac, "compare_digest", spy)
    assert ts.verify(new.token) is not None
    digest = hashlib.sha256(new.token.encode()).hexdigest()
    assert seen == [(digest, digest)]
    monkeypatch.setattr(tokens_module.hmac, "compare_digest", lambda a, b: False)
    assert ts.verify(new.token) is None


def test_wrong_and_malformed_tokens_are_rejected(store: Store) -> None:
    """Unknown, truncated, non-ASCII and non-string tokens verify as None without raising."""
    ts = TokenStore(store)
    new = ts.create("admin", [])
    flipped = new.token[:-1] + ("A" if new.token[-1] != "A" else "B")
    for bad in (flipped, new.token[:-1], new.token + "x", "", "Bearer " + new.token,
                "nw_" + "é" * 43, "nw_" + "\udcff" * 43, None):
        assert ts.verify(bad) is None  # type: ignore[arg-type]


def test_scopes(store: Store) -> None:
    """Admins see every county and take no --county; county and tester tokens need one."""
    ts = TokenStore(store)
    admin = ts.create("admin", []).info
    tester = ts.create("tester", ["linhe", "xingan", "linhe"]).info
    assert admin.can_see("anything") and admin.counties == frozenset()
    assert tester.can_see("linhe") and not tester.can_see("shiqiao")
    assert [r.counties for r in ts.records()] == [(), ("linhe", "xingan")]
    with pytest.raises(TokenError, match="admin token sees every county"):
        ts.create("admin", ["xingan"])
    with pytest.raises(TokenError, match="county token needs at least one --county"):
        ts.create("county", [])
    with pytest.raises(TokenError, match="unknown county nowhere"):
        ts.create("county", ["xingan", "nowhere"], known_counties={"xingan", "linhe"})
    with pytest.raises(TokenError, match="role 'root'"):
        ts.create("root", [])
    assert len(ts.records()) == 2


def test_last_used_is_written_at_most_once_a_minute(store: Store) -> None:
    """Verification records last use, but writes it again only after the touch interval."""
    clock = Clock()
    ts = TokenStore(store, clock=clock)
    new = ts.create("admin", [])

    def last_used() -> float | None:
        return ts.records()[0].last_used_at

    assert last_used() is None
    ts.verify(new.token)
    assert last_used() == clock.now
    first = clock.now
    clock.now += 59
    ts.verify(new.token)
    assert last_used() == first
    clock.now += 2
    ts.verify(new.token)
    assert last_used() == clock.now


def test_revocation_elsewhere_applies_at_once(target: Target) -> None:
    """A token revoked through another connection (the CLI) stops verifying immediately."""
    with Store.open(target) as daemon_store:
        daemon = TokenStore(daemon_store)
        new = daemon.create("tester", ["xingan"])
        assert daemon.verify(new.token) is not None
        with Store.open(target) as cli_store:
            TokenStore(cli_store).revoke(new.info.id)
        assert daemon.verify(new.token) is None


def test_metrics_tokens_open_no_county(store: Store) -> None:
    """A metrics token (Prometheus's) takes no county and sees none."""
    ts = TokenStore(store)
    new = ts.create("metrics", [], name="prometheus")
    info = ts.verify(new.token)
    assert info is not None and info.role == "metrics" and not info.can_see("linhe")
    with pytest.raises(TokenError, match="metrics token reads /metrics only"):
        ts.create("metrics", ["linhe"])


def test_tokens_of_an_older_database_survive_the_metrics_role_migration(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = Store.open(path, migrations=MIGRATIONS[:5])
    made = TokenStore(old).create("county", ["linhe"], name="desk")
    old.close()
    with Store.open(path) as store:
        assert store.version == len(MIGRATIONS)
        ts = TokenStore(store)
        assert ts.verify(made.token) == made.info
        assert ts.create("metrics", []).info.role == "metrics"


def read_only(store: Store) -> Store:
    """The database made read-only: SQLite's connection by a pragma; on PostgreSQL every new
    transaction (``default_transaction_read_only``, as on a hot standby), seen by a new store."""
    if isinstance(store.path, Path):
        store.conn.execute("PRAGMA query_only = ON")
        return store
    name = store.scalar("SELECT current_database()")
    store.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    return Store.open(store.path)


def test_a_read_only_database_still_verifies(store: Store,
                                              caplog: pytest.LogCaptureFixture) -> None:
    """Recording a token's use is best effort: when the database refuses the write (here
    read-only), the engine's error arrives as the store's and the token still verifies."""
    new = TokenStore(store).create("admin", [])
    ro = read_only(store)
    tokens = TokenStore(ro)
    with caplog.at_level(logging.WARNING, logger="netwatch.store.tokens"):
        assert tokens.verify(new.token) == new.info
    assert "last use not recorded" in caplog.text and new.token not in caplog.text
    assert tokens.records()[0].last_used_at is None
    if ro is not store:
        ro.close()
