"""The notice HTML printed by headless Chromium embeds a real CJK font."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from netwatch.notices.render import render_html
from tests.notices.factory import record

CHROMIUM = "/usr/bin/chromium"


def test_pdf_embeds_noto_cjk_font(tmp_path: Path) -> None:
    """Printing the notice to PDF embeds a Noto CJK font, so the Chinese text is not tofu."""
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"{CHROMIUM} is not installed")
    page, pdf = tmp_path / "notice.html", tmp_path / "notice.pdf"
    page.write_text(render_html(record()), encoding="utf-8")
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", f"--user-data-dir={tmp_path / 'profile'}",
         "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri()],
        check=True, capture_output=True, timeout=60)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert b"NotoSerifCJK" in data or b"NotoSansCJK" in data
