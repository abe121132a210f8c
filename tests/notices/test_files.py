"""Notice files: written once, atomically, never overwritten."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from netwatch.notices import files
from netwatch.notices.files import NoticeFileConflict, write_notice_files
from tests.notices.factory import record


def test_writes_json_html_md_under_county(tmp_path: Path) -> None:
    """Files go under out_dir/COUNTY with a safe date+number name, no temp files left."""
    paths = write_notice_files(record(), tmp_path, ("zh", "en"))
    names = sorted(p.name for p in paths)
    assert "2026-11-28_示公科信2026-12.json" in names
    assert "2026-11-28_示公科信2026-12.zh.html" in names
    assert "2026-11-28_示公科信2026-12.en.md" in names
    assert all(p.parent == tmp_path / "east" for p in paths)
    assert sorted(p.name for p in (tmp_path / "east").iterdir()) == names


def test_identical_rewrite_ok_different_is_error(tmp_path: Path) -> None:
    """Writing the same record twice is fine; a changed record names the file it would clobber."""
    write_notice_files(record(), tmp_path)
    write_notice_files(record(), tmp_path)
    with pytest.raises(NoticeFileConflict, match="示公科信2026-12.json"):
        write_notice_files(replace(record(), contact="changed"), tmp_path)
    assert not [p for p in (tmp_path / "east").iterdir() if p.name.startswith(".tmp")]


def test_a_renderer_without_its_library_loses_only_its_own_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """PDF needs pango: where it cannot load, the other formats are written and the log names
    the missing file; a later run writes it once the library is there."""
    def no_pango(record: object, lang: str) -> bytes:
        raise OSError("cannot load library 'libpango-1.0-0'")

    real = files.RENDERERS["pdf"]
    monkeypatch.setitem(files.RENDERERS, "pdf", no_pango)
    paths = write_notice_files(record(), tmp_path)
    assert {p.suffix for p in paths} == {".json", ".html", ".md", ".docx", ".xlsx"}
    assert "zh.pdf not written" in caplog.text and "libpango" in caplog.text
    monkeypatch.setitem(files.RENDERERS, "pdf", real)
    assert ".pdf" in {p.suffix for p in write_notice_files(record(), tmp_path)}
