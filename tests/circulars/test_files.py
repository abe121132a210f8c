"""A circular's files written once, and what the outbox sends for it (mail, webhook body)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from netwatch.circulars import (
    CircularRecord,
    circular_message,
    circular_webhook_body,
    render_pdf,
    render_xlsx,
    stem,
    write_circular_files,
)
from netwatch.notices import NoticeFileConflict
from tests.circulars.factory import record


def test_files_written_once_and_a_different_record_refused(tmp_path: Path) -> None:
    r = record()
    paths = write_circular_files(r, tmp_path)
    folder = tmp_path / "circulars"
    assert [p.name for p in paths] == [f"2026-11_示公科信通2026-11.{ext}"
                                       for ext in ("json", "html", "pdf", "docx", "xlsx")]
    assert all(p.parent == folder and p.stat().st_size > 0 for p in paths)
    assert CircularRecord.from_json(paths[0].read_text()) == r
    assert paths[2].read_bytes().startswith(b"%PDF")
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in paths}
    assert write_circular_files(r, tmp_path) == paths  # again: the same files, untouched
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in paths} == before
    with pytest.raises(NoticeFileConflict, match="immutable"):
        write_circular_files(record(contact="李四"), tmp_path)
    assert {p: p.read_bytes() for p in paths} == {p: b for p, (b, _) in before.items()}
    assert sorted(os.listdir(folder)) == sorted(p.name for p in paths)  # no temp files left


def test_a_missing_rendering_is_written_by_the_next_run(tmp_path: Path) -> None:
    paths = write_circular_files(record(), tmp_path)
    xlsx = paths[-1]
    data = xlsx.read_bytes()
    xlsx.unlink()
    write_circular_files(record(), tmp_path)
    assert xlsx.read_bytes() == data


def test_stem_has_no_path_characters() -> None:
    assert stem(record(prefix="../示公/通", month="2026-11")) == "2026-11_.._示公_通2026-11"


def test_mail_names_number_and_title_and_attaches_pdf_and_xlsx() -> None:
    r = record()
    to = ["a@example.invalid", "b@example.invalid"]
    msg = circular_message(r, "netwatch@example.invalid", to)
    assert msg["Subject"] == ("示公科信通〔2026〕11号 "
                              "关于2026年11月全市公安视频监控及通信网络运行情况的通报")
    assert msg["To"] == "a@example.invalid, b@example.invalid"
    assert msg["Message-ID"].endswith("@example.invalid>")
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "东区公安分局、西区公安分局" in text and "通报表扬：东区；通报批评：南区。" in text
    attached = {a.get_filename(): (a.get_content_type(), a.get_content())
                for a in msg.iter_attachments()}
    assert attached == {
        "2026-11_示公科信通2026-11.pdf": ("application/pdf", render_pdf(r)),
        "2026-11_示公科信通2026-11.xlsx": (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", render_xlsx(r)),
    }
    given = circular_message(r, "n@example.invalid", ["a@example.invalid"], pdf=b"%PDF-given",
                             xlsx=b"PK-given")
    assert [a.get_content() for a in given.iter_attachments()] == [b"%PDF-given", b"PK-given"]


def test_mail_of_a_demonstration_says_so_and_none_praised_says_none() -> None:
    r = record(demonstration=True, praised=())
    msg = circular_message(r, "n@example.invalid", ["a@example.invalid"], pdf=b"", xlsx=b"")
    assert msg["Subject"].startswith("【演示数据（非正式文件）】示公科信通〔2026〕11号 ")
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert text.startswith("演示数据（非正式文件）") and "通报表扬：无；" in text


def test_webhook_body_is_the_record_with_its_links() -> None:
    r = record()
    links = {"pdf": "https://netwatch.example.invalid/circulars/3.pdf", "html": "/circulars/3.html"}
    body = circular_webhook_body(r, links)
    data = json.loads(body)
    assert data.pop("document") == "circular" and data.pop("formats") == links
    assert CircularRecord.from_json(json.dumps(data)) == r
    assert body == circular_webhook_body(r, dict(reversed(links.items())))  # stable key order
    assert "示公科信通".encode() in body  # UTF-8, not \\u escapes
