"""Writes a notice's files once: ``out_dir/COUNTY/YYYY-MM-DD_{prefix}{year}-{seq}.{lang}.html``."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from netwatch.notices.record import NoticeRecord
from netwatch.notices.render import render_html, render_markdown

_UNSAFE = re.compile(r"[^\w.-]")
_CONFLICT = "{}: exists with different content (notices are immutable)"


class NoticeFileConflict(Exception):
    """A notice file exists with different content: notices are immutable."""


def stem(record: NoticeRecord) -> str:
    """The file name stem: issue date, prefix, year and seq, no 〔〕 or path characters."""
    return _UNSAFE.sub("_", f"{record.issue_date}_{record.prefix}{record.year}-{record.seq}")


def _write_once(path: Path, data: bytes) -> None:
    """Temp file + fsync + link: never overwrites; identical existing content is fine."""
    if path.exists():
        if path.read_bytes() != data:
            raise NoticeFileConflict(_CONFLICT.format(path))
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            if path.read_bytes() != data:
                raise NoticeFileConflict(_CONFLICT.format(path)) from None
    finally:
        os.unlink(tmp)


def write_notice_files(record: NoticeRecord, out_dir: Path,
                       langs: Sequence[str] = ("zh",)) -> list[Path]:
    """JSON plus HTML and Markdown per language, under the county's directory."""
    county = _UNSAFE.sub("_", record.county)
    folder = Path(out_dir) / county
    folder.mkdir(parents=True, exist_ok=True)
    base = stem(record)
    outputs = [(folder / f"{base}.json", record.to_json())]
    for lang in langs:
        outputs.append((folder / f"{base}.{lang}.html", render_html(record, lang)))
        outputs.append((folder / f"{base}.{lang}.md", render_markdown(record, lang)))
    for path, text in outputs:
        _write_once(path, text.encode("utf-8"))
    dfd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    return [p for p, _ in outputs]
