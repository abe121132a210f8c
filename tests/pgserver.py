"""A real PostgreSQL server of the tests' own: initdb and pg_ctl into a temporary directory.

The server listens on one loopback address only (127.69.0.1 unless ``start`` is given
another, e.g. a benchmark's own; a free port picked at start), keeps its unix
socket inside its own directory, runs as the ``postgres`` user when the tests run as
root (initdb refuses root), and is stopped and removed by ``stop``. Its cluster is
made with the C locale and UTF-8, as netwatch asks of a database (docs/operations.md).
The administrator connects over the socket (trust); netwatch's role ``netwatch``
connects over TCP with a SCRAM password, which the tests give netwatch through a
``${NETWATCH_TEST_PGPASSWORD}`` reference in the URL, as an operator would (a server a
test starts for itself names another variable, so the session's URLs keep working).
Settings trade crash safety for speed (``fsync=off``): a test cluster holds nothing.
The fixtures ``pg_server`` (one per session) and ``pg_url`` (a fresh database per
test) are imported by the conftest of each test directory that uses them;
``own_pg_server`` is a server of one test's own, which it may stop and start again
(``halt``, ``resume``) without breaking the session's.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from netwatch.store import PgUrl

HOST = "127.69.0.1"
ROLE = "netwatch"
PASSWORD_ENV = "NETWATCH_TEST_PGPASSWORD"
_counter = itertools.count(1)


def bindir() -> Path | None:
    """The newest installed PostgreSQL's binaries (Debian's layout), None without them."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def missing() -> str | None:
    """Why a server cannot be started here, None when it can."""
    if bindir() is None:
        return "PostgreSQL's initdb and pg_ctl are not installed (apt-get install postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to run initdb as"
    return None


def free_port(host: str = HOST) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """One running cluster; ``database()`` makes a fresh empty database owned by netwatch."""

    root: Path
    port: int
    password: str = field(repr=False)
    bin: Path = field(default_factory=lambda: bindir() or Path("/usr/bin"))
    password_env: str = PASSWORD_ENV  # the variable its URLs name for the password
    host: str = HOST

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    def admin(self, dbname: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(host=str(self.socket_dir), port=self.port, user="postgres",
                               dbname=dbname, autocommit=True)

    def url(self, dbname: str, password: str | None = None) -> str:
        secret = f"${{{self.password_env}}}" if password is None else password
        return f"postgresql://{ROLE}:{secret}@{self.host}:{self.port}/{dbname}"

    def database(self, prefix: str = "nw") -> str:
        name = f"{prefix}_{os.getpid()}_{next(_counter)}"
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" OWNER {ROLE}')
        return name

    def drop(self, name: str) -> None:
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def ctl(self, *args: str) -> None:
        _as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), *args])

    def restart(self) -> None:
        self.ctl("-w", "-t", "60", "-m", "fast", "-l", str(self.root / "log"), "restart")

    def halt(self) -> None:
        """Stop the server, keeping its data: ``resume`` starts it again on the same port."""
        self.ctl("-w", "-t", "60", "-m", "fast", "stop")

    def resume(self) -> None:
        self.ctl("-w", "-t", "60", "-l", str(self.root / "log"), "start")

    def stop(self) -> None:
        try:
            if (self.root / "data" / "postmaster.pid").exists():  # not halted
                self.ctl("-w", "-t", "60", "-m", "fast", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _as_postgres(cmd: list[str]) -> None:
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   timeout=120)


def start(password_env: str = PASSWORD_ENV, host: str = HOST) -> Server:
    """initdb, configure for ``host`` (a loopback address) only, start; the caller stops it.
    netwatch's password goes into the environment as ``password_env``."""
    if not host.startswith("127."):
        raise ValueError(f"PostgreSQL test server on {host}: only 127.0.0.0/8 is allowed")
    root = Path(tempfile.mkdtemp(prefix="netwatch-pg-"))
    password = secrets.token_urlsafe(18)
    server = Server(root, free_port(host), password, password_env=password_env, host=host)
    try:
        (root / "sock").mkdir()
        pwfile = root / "pw"
        pwfile.write_text(secrets.token_urlsafe(18) + "\n")
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            for p in (root, root / "sock", pwfile):
                os.chown(p, user.pw_uid, user.pw_gid)
        os.chmod(root, 0o700)
        _as_postgres([str(server.bin / "initdb"), "-D", str(root / "data"), "-U", "postgres",
                      "--pwfile", str(pwfile), "--locale=C", "--encoding=UTF8",
                      "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync"])
        (root / "data" / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.0/8 scram-sha-256\n")
        with (root / "data" / "postgresql.conf").open("a") as conf:
            conf.write(f"listen_addresses = '{host}'\nport = {server.port}\n"
                       f"unix_socket_directories = '{root / 'sock'}'\n"
                       "fsync = off\nfull_page_writes = off\nshared_buffers = 32MB\n"
                       "max_connections = 200\nlog_min_messages = warning\n")
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(root / "data" / "pg_hba.conf", user.pw_uid, user.pw_gid)
        server.ctl("-w", "-t", "60", "-l", str(root / "log"), "start")
        with server.admin() as conn:
            conn.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{password}'")
    except BaseException:
        log = root / "log"
        if log.exists():
            print(log.read_text(errors="replace")[-4000:])
        try:
            server.ctl("-m", "immediate", "stop")
        except (subprocess.SubprocessError, OSError):
            pass
        shutil.rmtree(root, ignore_errors=True)
        raise
    os.environ[password_env] = password
    return server


_shared: list[Server] = []


@pytest.fixture(scope="session")
def pg_server(request: pytest.FixtureRequest) -> Server:
    """The session's PostgreSQL server: started at first use, stopped and removed when the
    session ends (one server, whichever directories' conftests bring this fixture in);
    skipped (with the reason) only where PostgreSQL is not installed."""
    why = missing()
    if why is not None:
        pytest.skip(why)
    if not _shared:
        server = start()
        _shared.append(server)

        def stop() -> None:
            _shared.clear()
            server.stop()

        request.config.add_cleanup(stop)
    return _shared[0]


@pytest.fixture
def pg_url(pg_server: Server) -> Iterator[PgUrl]:
    """A fresh empty database of the session's server, owned by netwatch, dropped afterwards;
    its URL names the password as ``${NETWATCH_TEST_PGPASSWORD}``."""
    name = pg_server.database()
    try:
        yield PgUrl(pg_server.url(name))
    finally:
        pg_server.drop(name)


OWN_PASSWORD_ENV = "NETWATCH_TEST_OWN_PGPASSWORD"  # not the session server's variable


@pytest.fixture
def own_pg_server() -> Iterator[Server]:
    """A server of this test's own, to stop and start again (``halt``, ``resume``); its URLs
    name the password as ``${NETWATCH_TEST_OWN_PGPASSWORD}``; removed afterwards."""
    why = missing()
    if why is not None:
        pytest.skip(why)
    server = start(password_env=OWN_PASSWORD_ENV)
    try:
        yield server
    finally:
        server.stop()
        os.environ.pop(OWN_PASSWORD_ENV, None)
