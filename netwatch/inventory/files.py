"""Reading the inventory's files safely: regular files only, capped in size, kept in place.

``/dev/zero`` as a device list must not fill the memory, a FIFO must not block a
reload, a 50 MB YAML must not take a minute, and ``device_files`` must not read
whatever the daemon's user can read: a path leaving the inventory's directory
needs ``allow_outside: true`` on its entry.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_YAML_BYTES = 32 * 1024 * 1024  # the inventory YAML itself
MAX_CSV_BYTES = 256 * 1024 * 1024  # each device_files CSV


class FileRefused(Exception):
    """The file cannot be used; the message names the problem, never the content."""


def mib(n: int) -> str:
    """A size for messages: ``32 MiB``, ``50.2 MiB``, ``900 bytes``."""
    if n < 1024 * 1024:
        return f"{n:,} bytes"
    return f"{n / (1024 * 1024):.1f} MiB".replace(".0 MiB", " MiB")


def read_capped(path: Path, limit: int, hint: str = "") -> bytes:
    """The bytes of regular file ``path`` if it has at most ``limit`` of them.

    Raises OSError when it cannot be opened and FileRefused when it is not a regular
    file or is too big (``hint`` is added to that message). Opened non-blocking so
    a FIFO cannot hang the caller; the size is checked before and while reading.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused("not a regular file")
        if info.st_size > limit:
            raise FileRefused(f"the file is {mib(info.st_size)}, over the {mib(limit)} limit"
                              f"{hint}")
        chunks, total = [], 0
        while chunk := os.read(fd, min(1 << 20, limit + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # grew while we read
                raise FileRefused(f"the file is over the {mib(limit)} limit{hint}")
        return b"".join(chunks)
    finally:
        os.close(fd)


def inside(base_dir: Path, rel: str) -> tuple[Path, bool]:
    """``rel`` resolved against ``base_dir``, and whether it stays inside that directory."""
    path = base_dir / rel
    base = base_dir.resolve()
    return path, path.resolve().is_relative_to(base)
