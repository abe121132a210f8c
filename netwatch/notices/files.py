"""Writes a notice's files once: ``out_dir/COUNTY/YYYY-MM-DD_{prefix}{year}-{seq}.{lang}.html``.

Beside the JSON record, per language: HTML, Markdown, PDF, DOCX and XLSX. Every
rendering is deterministic (the same record gives the same bytes); the record is
the notice, and a different one where a notice's JSON is already written is
refused.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from netwatch.notices.docx_file import render_docx
from netwatch.notices.pdf import render_pdf
from netwatch.notices.record import NoticeRecord
from netwatch.notices.render import render_html, render_markdown
from netwatch.notices.xlsx_file import render_xlsx

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^\w.-]")
_CONFLICT = "{}: exists with different content (issued documents are immutable)"


class NoticeFileConflict(Exception):
    """A notice's (or a circular's) file exists with different content: issued documents
    are immutable."""


def stem(record: NoticeRecord) -> str:
    """The file name stem: issue date, prefix, year and seq, no 〔〕 or path characters."""
    return _UNSAFE.sub("_", f"{record.issue_date}_{record.prefix}{record.year}-{record.seq}")


def write_once(path: Path, data: bytes) -> None:
    """Temp file + fsync + link: never overwrites; identical existing content is fine
    (the circulars' files are written the same way)."""
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


RENDERERS: dict[str, Callable[[NoticeRecord, str], bytes]] = {
    "html": lambda r, lang: render_html(r, lang).encode(),
    "md": lambda r, lang: render_markdown(r, lang).encode(),
    "pdf": render_pdf, "docx": render_docx, "xlsx": render_xlsx,
}


def write_notice_files(record: NoticeRecord, out_dir: Path,
                       langs: Sequence[str] = ("zh",)) -> list[Path]:
    """JSON plus every format per language, under the county's directory.

    The JSON record is always compared with what is on disk (a different record is
    a conflict); a rendering is laid out only when its file is missing, so a daemon
    finding the day's notice again costs no PDF. CPU-bound: run it off the event loop.
    """
    county = _UNSAFE.sub("_", record.county)
    folder = Path(out_dir) / county
    folder.mkdir(parents=True, exist_ok=True)
    base = stem(record)
    record_path = folder / f"{base}.json"
    write_once(record_path, record.to_json().encode())
    paths = [record_path]
    for lang in langs:
        for fmt, render in RENDERERS.items():
            path = folder / f"{base}.{lang}.{fmt}"
            if not path.exists():
                try:
                    data = render(record, lang)
                except OSError as exc:  # WeasyPrint without its system libraries (pango)
                    log.error("%s not written (the other formats are): %s", path.name, exc)
                    continue  # missing files are written by the next run that finds them
                write_once(path, data)
            paths.append(path)
    sync_dir(folder)
    return paths


def sync_dir(folder: Path) -> None:
    """The directory's entries (the new links) made durable too."""
    dfd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
