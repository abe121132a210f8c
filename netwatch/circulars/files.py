"""Writes a circular's files once: ``out_dir/circulars/{month}_{prefix}{year}-{seq}.{ext}``.

Beside the JSON record: HTML, PDF, DOCX and XLSX. Every rendering is deterministic
(the same record gives the same bytes) and written as the notices' files are
(``write_once``: temp file, fsync, link; never overwritten): a different record
where a circular's JSON is already written is refused (``NoticeFileConflict``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

from netwatch.circulars.docx_file import render_docx
from netwatch.circulars.pdf import render_pdf
from netwatch.circulars.record import CircularRecord
from netwatch.circulars.render import render_html
from netwatch.circulars.xlsx_file import render_xlsx
from netwatch.notices import sync_dir, write_once

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^\w.-]")
FOLDER = "circulars"
RENDERERS: dict[str, Callable[[CircularRecord], bytes]] = {
    "html": lambda r: render_html(r).encode(),
    "pdf": render_pdf, "docx": render_docx, "xlsx": render_xlsx,
}


def stem(record: CircularRecord) -> str:
    """The file name stem: month, prefix, year and seq, no 〔〕 or path characters."""
    return _UNSAFE.sub("_", f"{record.month}_{record.prefix}{record.year}-{record.seq}")


def write_circular_files(record: CircularRecord, out_dir: Path) -> tuple[Path, ...]:
    """The JSON record then every format, each written once; returns their paths.

    The JSON is always compared with what is on disk (a different record is a
    conflict); a rendering is laid out only when its file is missing, so finding an
    issued circular again costs no PDF. CPU-bound: run it off the event loop.
    """
    folder = Path(out_dir) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    base = stem(record)
    record_path = folder / f"{base}.json"
    write_once(record_path, record.to_json().encode())
    paths = [record_path]
    for fmt, render in RENDERERS.items():
        path = folder / f"{base}.{fmt}"
        if not path.exists():
            try:
                data = render(record)
            except OSError as exc:  # WeasyPrint without its system libraries (pango)
                log.error("%s not written (the other formats are): %s", path.name, exc)
                continue  # missing files are written by the next run that finds them
            write_once(path, data)
        paths.append(path)
    sync_dir(folder)
    return tuple(paths)
