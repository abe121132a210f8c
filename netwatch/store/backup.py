"""Backups of a running netwatch: the database through SQLite's online backup API, the notices
as a tar, and a manifest that ``restore`` checks before it replaces anything.

A backup is a directory: ``netwatch.db`` (a consistent copy, taken while the daemon
writes: WAL lets the copy read one snapshot beside the writer), ``notices.tar`` and
``manifest.json`` (schema version, time, SHA-256 of both files). ``restore`` checks
the digests, ``PRAGMA integrity_check``, that the schema version is one this
netwatch can open (an older one is migrated at the next start, with its own backup),
that the schema is exactly what this netwatch's migrations make at that version (the
same tables, columns and indexes; no other view or trigger: ``shape``), and every tar
member (no absolute paths, ``..`` or links; each file's data whole) — all before
touching the target. What it replaces is moved aside as ``NAME.pre-restore-{UTC stamp}``, never
deleted. Restore with the daemon stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from netwatch.store.schema import SCHEMA_VERSION
from netwatch.store.shape import SHOWN, differences, expected, shape_of
from netwatch.store.store import BUSY_TIMEOUT_MS, FILE_MODE
from netwatch.store.target import PgUrl, Target

DB_NAME, TAR_NAME, MANIFEST_NAME = "netwatch.db", "notices.tar", "manifest.json"
FORMAT = 1


class BackupError(Exception):
    """The backup cannot be taken, or a backup is unfit to restore (nothing was replaced)."""


def _sqlite_only(db: Target, what: str) -> Path:
    """The SQLite file; a PostgreSQL database is backed up and restored by its own tools."""
    if isinstance(db, PgUrl):
        raise BackupError(
            f"{db}: netwatch {what} handles SQLite files only; {what} a PostgreSQL database "
            f"with its own tools: pg_dump --format=custom (one database) and pg_restore, or "
            f"pg_basebackup (the whole server, with WAL for point-in-time recovery), and "
            f"the notices directory with tar (docs/operations.md)")
    return db


@dataclass(frozen=True, slots=True)
class BackupInfo:
    path: Path
    schema_version: int
    notices: int  # files in the notices tar
    taken_at: str


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _private(path: Path) -> None:
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE))


def backup(db: Target, notices: Path, dest: Path) -> BackupInfo:
    """Copy the database (online) and the notices directory into the new directory ``dest``."""
    db = _sqlite_only(db, "backup")
    if not db.is_file():
        raise BackupError(f"{db}: no such database")
    try:
        dest.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        raise BackupError(f"{dest}: already exists (a backup never overwrites one)") from None
    copy = dest / DB_NAME
    _private(copy)
    source = sqlite3.connect(f"file:{db}?mode=rw", uri=True)  # never creates one
    try:
        source.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        target = sqlite3.connect(copy)
        try:
            source.backup(target)  # all pages in one step: one consistent snapshot
            version = int(target.execute("PRAGMA user_version").fetchone()[0])
            target.execute("PRAGMA journal_mode = DELETE")
        finally:
            target.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{db}: backup failed: {exc}") from None
    finally:
        source.close()
    tar_path = dest / TAR_NAME
    _private(tar_path)
    count = 0
    with tarfile.open(tar_path, "w") as tar:
        if notices.is_dir():
            for path in sorted(notices.rglob("*")):
                tar.add(path, arcname=str(path.relative_to(notices)), recursive=False)
                count += path.is_file()
    taken = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    manifest = {"format": FORMAT, "taken_at": taken, "schema_version": version,
                "database": str(db), "notices_dir": str(notices), "notice_files": count,
                "sha256": {DB_NAME: _sha256(copy), TAR_NAME: _sha256(tar_path)}}
    (dest / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return BackupInfo(dest, version, count, taken)


def verify(src: Path) -> BackupInfo:
    """Everything ``restore`` checks before replacing anything; raises BackupError."""
    try:
        manifest = json.loads((src / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{src / MANIFEST_NAME}: not a readable backup manifest: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{src}: backup format {manifest.get('format')!r} is not {FORMAT}")
    for name in (DB_NAME, TAR_NAME):
        path = src / name
        if not path.is_file():
            raise BackupError(f"{path}: missing")
        if _sha256(path) != manifest.get("sha256", {}).get(name):
            raise BackupError(f"{path}: SHA-256 differs from the manifest (damaged or changed)")
    try:
        conn = sqlite3.connect(f"file:{src / DB_NAME}?mode=ro", uri=True)
        try:
            check = [r[0] for r in conn.execute("PRAGMA integrity_check")]
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            found = shape_of(conn)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{src / DB_NAME}: not a readable SQLite database: {exc}") from None
    if check != ["ok"]:
        raise BackupError(f"{src / DB_NAME}: integrity check failed: {'; '.join(check[:5])}")
    if not 1 <= version <= SCHEMA_VERSION:
        raise BackupError(f"{src / DB_NAME}: schema version {version}; this netwatch opens "
                          f"1..{SCHEMA_VERSION} (run the netwatch that took the backup)")
    problems = differences(found, expected(version))
    if problems:
        more = f" and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
        raise BackupError(f"{src / DB_NAME}: not a netwatch database of schema version "
                          f"{version}: {'; '.join(problems[:SHOWN])}{more}")
    return BackupInfo(src, version, _check_tar(src / TAR_NAME), str(manifest.get("taken_at", "")))


def _unreadable_tar(path: Path, exc: BaseException) -> BackupError:
    return BackupError(f"{path}: not a readable tar archive (damaged or truncated): "
                       f"{exc or type(exc).__name__}")


def _check_tar(path: Path) -> int:
    """Every member safe and every file's data present; the number of files."""
    count = 0
    try:
        with tarfile.open(path) as tar:
            for member in tar:  # a damaged header after the first ends this loop quietly
                name = Path(member.name)
                if name.is_absolute() or ".." in name.parts or not (member.isfile()
                                                                    or member.isdir()):
                    raise BackupError(f"{path}: unsafe member {member.name!r}")
                data = tar.extractfile(member) if member.isfile() else None
                while data is not None and data.read(1 << 20):  # a truncated file fails here
                    pass
                count += member.isfile()
            end = tar.offset
        if not _zeros_to_the_end(path, end):
            raise tarfile.ReadError("it stops before its end-of-archive marker")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise _unreadable_tar(path, exc) from None
    return count


def _zeros_to_the_end(path: Path, offset: int) -> bool:
    """Whether ``path`` holds only zero bytes from ``offset``, at least the two blocks of
    a tar's end-of-archive marker (what ``tarfile`` writes after the last member)."""
    seen = 0
    with path.open("rb") as f:
        f.seek(offset)
        for block in iter(lambda: f.read(1 << 20), b""):
            if block.strip(b"\0"):
                return False
            seen += len(block)
    return seen >= 2 * tarfile.BLOCKSIZE


def _aside(path: Path, stamp: str) -> Path | None:
    if not path.exists():
        return None
    moved = path.with_name(f"{path.name}.pre-restore-{stamp}")
    path.rename(moved)
    return moved


def restore(src: Path, db: Target, notices: Path) -> tuple[BackupInfo, list[Path]]:
    """Verify ``src``, then put its database at ``db`` and its notices at ``notices``.

    Returns the backup's info and what was moved aside. The old database's ``-wal``
    and ``-shm`` move with it: left behind, SQLite would replay them into the copy.
    """
    db = _sqlite_only(db, "restore")
    info = verify(src)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    db.parent.mkdir(parents=True, exist_ok=True)
    notices.parent.mkdir(parents=True, exist_ok=True)
    staged_db = db.with_name(f".{db.name}.restoring")
    staged_db.unlink(missing_ok=True)
    staged_notices = Path(tempfile.mkdtemp(prefix=f".{notices.name}.", dir=notices.parent))
    try:
        _private(staged_db)
        shutil.copyfile(src / DB_NAME, staged_db)
        with tarfile.open(src / TAR_NAME) as tar:
            tar.extractall(staged_notices, filter="data")
    except (tarfile.TarError, OSError, EOFError) as exc:  # e.g. changed since the check
        staged_db.unlink(missing_ok=True)
        shutil.rmtree(staged_notices, ignore_errors=True)
        raise BackupError(f"{src}: cannot stage the restore: {exc}") from None
    moved = [m for m in (_aside(db, stamp), _aside(Path(f"{db}-wal"), stamp),
                         _aside(Path(f"{db}-shm"), stamp), _aside(notices, stamp)) if m]
    os.replace(staged_db, db)
    staged_notices.rename(notices)
    return info, moved
