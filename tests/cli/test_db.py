"""``netwatch db migrate`` and ``netwatch db copy`` on real databases, ``--db`` as a path or a
URL (``$NETWATCH_DB`` too), and ``backup``/``restore`` refusing PostgreSQL; no password in any
output."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from click.testing import CliRunner

from netwatch.cli.main import main
from netwatch.store import SCHEMA_VERSION, PgUrl, Store, TokenStore
from tests.pgserver import PASSWORD_ENV, Server


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    done = CliRunner().invoke(main, list(args), env=env)
    return done.exit_code, done.output


def raw(url: PgUrl) -> str:
    """The URL as an operator writes it (a ``${NAME}`` reference, never the password)."""
    text = url.conninfo({PASSWORD_ENV: "${" + PASSWORD_ENV + "}"})
    return text.replace("%24%7B", "${").replace("%7D", "}")


def test_migrate_either_engine(tmp_path: Path, pg_server: Server, pg_url: PgUrl) -> None:
    db = tmp_path / "netwatch.db"
    assert run("db", "migrate", "--db", str(db)) == (
        0, f"{db}: schema version 0 -> {SCHEMA_VERSION}\n")
    assert run("db", "migrate", "--db", str(db)) == (
        0, f"{db}: schema version {SCHEMA_VERSION}, already current\n")
    url = raw(pg_url)
    assert "${" + PASSWORD_ENV + "}" in url
    code, out = run("db", "migrate", "--db", url)
    assert (code, out) == (0, f"{pg_url}: schema version 0 -> {SCHEMA_VERSION}\n")
    assert pg_server.password not in out and ":***@" in out
    code, out = run("db", "migrate", env={"NETWATCH_DB": url})
    assert (code, out) == (0, f"{pg_url}: schema version {SCHEMA_VERSION}, already current\n")
    code, out = run("db", "migrate", "--db", url.replace(PASSWORD_ENV, "NO_SUCH_VARIABLE"))
    assert code == 1 and "${NO_SUCH_VARIABLE} not set in the environment" in out


def test_copy_then_refuse_a_filled_target_unless_replacing(tmp_path: Path, pg_server: Server,
                                                          pg_url: PgUrl) -> None:
    db = tmp_path / "netwatch.db"
    with Store.open(db) as store:
        token = TokenStore(store).create("admin", [], name="ops")
    url = raw(pg_url)
    code, out = run("db", "copy", str(db), url)
    assert code == 0, out
    assert "tokens: 1 rows" in out and f"to {pg_url}: 1 rows in 22 tables, every table verified" \
        in out and pg_server.password not in out
    with Store.open(pg_url) as store:
        assert TokenStore(store).verify(token.token) == token.info
    code, out = run("db", "copy", str(db), url)
    assert code == 1 and "already holds rows (tokens)" in out and "--replace" in out
    with Store.open(db) as store:
        TokenStore(store).create("tester", ["east"])
    code, out = run("db", "copy", "--replace", str(db), url)
    assert code == 0 and "tokens: 2 rows" in out
    with Store.open(pg_url) as store:
        assert len(TokenStore(store).records()) == 2


def test_copy_refuses_what_it_cannot_copy_and_leaves_the_target(tmp_path: Path,
                                                                pg_url: PgUrl) -> None:
    db = tmp_path / "netwatch.db"
    url = raw(pg_url)
    assert run("db", "copy", url, url)[0] == 2
    code, out = run("db", "copy", str(db), str(tmp_path / "other.db"))
    assert code == 2 and "is not a postgresql:// URL" in out
    code, out = run("db", "copy", str(db), url)
    assert code == 1 and "no such database" in out and not db.exists()
    Store.open(db).close()
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO readings_received (county, total) VALUES ('east', 1.5)")
    conn.execute("INSERT INTO schedule_runs (job, ran_at) VALUES ('a', 1)")
    conn.commit()
    conn.close()
    code, out = run("db", "copy", str(db), url)
    assert code == 1 and "readings_received: PostgreSQL refused a row" in out
    with Store.open(pg_url) as store:  # nothing of the copy stayed
        assert store.scalar("SELECT count(*) FROM schedule_runs") == 0


def test_backup_and_restore_point_postgresql_at_its_own_tools(tmp_path: Path,
                                                             pg_server: Server,
                                                             pg_url: PgUrl) -> None:
    url = raw(pg_url)
    code, out = run("backup", str(tmp_path / "b"), "--db", url)
    assert code == 2 and "pg_dump" in out and "pg_basebackup" in out
    assert pg_server.password not in out and not (tmp_path / "b").exists()
    (tmp_path / "src").mkdir()
    code, out = run("restore", str(tmp_path / "src"), "--db", url)
    assert code == 2 and "pg_restore" in out and "nothing replaced" in out


def test_other_commands_take_a_url(pg_url: PgUrl) -> None:
    code, out = run("token", "create", "--role", "admin", "--name", "ops", "--db", raw(pg_url))
    assert code == 0 and "created in postgresql://netwatch:***@" in out
    with Store.open(pg_url) as store:
        assert [r.name for r in TokenStore(store).records()] == ["ops"]
