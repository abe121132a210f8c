"""Writes a notice's files once: ``out_dir/COUNTY/YYYY-MM-DD_{prefix}{year}-{seq}.{lang}.html``.

Beside the JSON record, per language: HTML, Markdown, PDF, DOCX and XLSX. Every
rendering is deterministic, so writing the files of the same record again finds
the same bytes; different bytes mean a different record and are refused.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from netwatch.notices.docx_file import render_docx
from netwatch.notices.pdf import render_pdf
from netwatch.notices.record import NoticeRecord
from netwatch.notices.render import render_html, render_markdown
from netwatch.notices.xlsx_file import render_xlsx

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
    """JSON plus every format per language, under the county's directory."""
    county = _UNSAFE.sub("_", record.county)
    folder = Path(out_dir) / county
    folder.mkdir(parents=True, exist_ok=True)
    base = stem(record)
    outputs: list[tuple[Path, bytes]] = [(folder / f"{base}.json", record.to_json().encode())]
    for lang in langs:
        outputs += [
            (folder / f"{base}.{lang}.html", render_html(record, lang).encode()),
            (folder / f"{base}.{lang}.md", render_markdown(record, lang).encode()),
            (folder / f"{base}.{lang}.pdf", render_pdf(record, lang)),
            (folder / f"{base}.{lang}.docx", render_docx(record, lang)),
            (folder / f"{base}.{lang}.xlsx", render_xlsx(record, lang)),
        ]
    for path, data in outputs:
        _write_once(path, data)
    dfd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    return [p for p, _ in outputs]
