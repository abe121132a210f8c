"""The PDF as a county office receives it: rendered, rasterised and read back with poppler."""

from __future__ import annotations

import gc
import re
import subprocess
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from netwatch.daemon.heap import GC_THRESHOLDS
from netwatch.notices.pdf import Turns, render_pdf
from netwatch.notices.render import title
from tests.notices.factory import item, record

ITEMS = 40  # enough rows for the attachment to run over several pages


@pytest.fixture(scope="module")
def notice(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """One long notice's PDF on disk (rendered once for the module's tests)."""
    r = record(items=tuple(item(n, name=f"摄像机{n}号", subject=f"cam-{n}") for n in
                           range(1, ITEMS + 1)), header="示例市公安局科技信息化支队",
               cc="示例市公安局指挥中心")
    path = tmp_path_factory.mktemp("pdf") / "notice.pdf"
    path.write_bytes(render_pdf(r))
    return path, r


def pages_text(pdf: Path) -> list[str]:
    """Each page's text, in order (poppler's pdftotext, form feed between pages)."""
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True,
                         capture_output=True, text=True).stdout
    return out.split("\f")[:-1]


def test_page_one_has_the_red_header(notice: tuple[Path, object], tmp_path: Path) -> None:
    """pdftoppm's page 1: red pixels (the organ's name and the rule) in the top band only."""
    pdf, _ = notice
    subprocess.run(["pdftoppm", "-r", "40", "-f", "1", "-l", "1", "-png", str(pdf),
                    str(tmp_path / "page")], check=True)
    [png] = tmp_path.glob("page*.png")
    image = Image.open(png).convert("RGB")
    width, height = image.size

    def red(box: tuple[int, int, int, int]) -> int:
        data = image.crop(box).tobytes()
        return sum(1 for i in range(0, len(data), 3)
                   if data[i] > 180 and data[i + 1] < 90 and data[i + 2] < 90)

    assert red((0, 0, width, height * 3 // 10)) > 200  # the 版头 in red
    assert red((0, height * 4 // 10, width, height)) == 0  # the body is black


def test_attachment_starts_on_a_later_page_with_its_header_on_every_page(
        notice: tuple[Path, object]) -> None:
    """Signature and date on one page, the attachment from the next one on, "附件" flush left
    at its top, the table's header row repeated on each of its pages."""
    pdf, r = notice
    texts = pages_text(pdf)
    signed = next(i for i, t in enumerate(texts) if "2026年11月28日\n" in t
                  and "示例市公安局科技信息化支队\n" in t)
    annex = next(i for i, t in enumerate(texts) if t.lstrip().startswith("附件\n"))
    assert annex > signed
    annex_pages = texts[annex:]
    assert len(annex_pages) >= 2
    assert all("监测依据" in "".join(t.split()) and "整改时限" in "".join(t.split())
               for t in annex_pages)
    flat = "".join("".join(t.split()) for t in annex_pages)
    assert all(f"摄像机{n}号" in flat for n in range(1, ITEMS + 1))
    assert "抄送：示例市公安局指挥中心。" in flat and "2026年11月28日印发" in flat


def test_page_numbers_chinese_text_and_embedded_fonts(notice: tuple[Path, object]) -> None:
    """Every page carries "— N —"; the title comes back intact; every font is embedded."""
    pdf, r = notice
    texts = pages_text(pdf)
    for n, text in enumerate(texts, 1):
        assert re.search(rf"—\s*{n}\s*—", text), (n, text[-80:])
    flat = "".join("".join(t.split()) for t in texts)
    assert title(r) in flat and "示公科信〔2026〕12号" in flat  # type: ignore[arg-type]
    assert "东区公安分局：" in flat
    fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True,
                           text=True).stdout.splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts
    assert any("CJK" in line for line in fonts)


def test_same_record_same_bytes() -> None:
    """A notice's PDF is the same bytes each time (it is written once, then compared)."""
    r = replace(record(), carried=())
    assert render_pdf(r) == render_pdf(r)


def test_a_layout_leaves_nothing_for_the_daemons_collector() -> None:
    """Under the daemon's garbage collector settings (young objects collected only every
    20,000 allocations) a PDF's layout still leaves no cyclic garbage behind: a flood of
    PDFs would otherwise pile up the fonts' tables, tens of MB each."""
    before = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        gc.collect()
        render_pdf(record())
        render_pdf(record(), "en")
        assert gc.collect() < 100  # the old code left some 11,000 objects
    finally:
        gc.set_threshold(*before)


def test_layouts_take_turns_in_the_order_asked() -> None:
    """First come, first served: a thread that asked first lays out first, whatever the
    scheduler does (a web render cannot overtake a daemon's PDF again and again)."""
    turns, order = Turns(), []

    def layout(name: str) -> None:
        with turns.turn():
            order.append(name)

    threads = []
    with turns.turn():
        for n, name in enumerate(("first", "second", "third"), 1):
            threads.append(threading.Thread(target=layout, args=(name,)))
            threads[-1].start()
            while turns.waiting < n:  # queued before the next one starts
                time.sleep(0.001)
    for t in threads:
        t.join(10)
    assert order == ["first", "second", "third"]
