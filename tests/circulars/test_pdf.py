"""The circular's PDF as a county office receives it: read back with poppler."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from netwatch.circulars import render_pdf, title
from netwatch.circulars.record import CircularRecord
from tests.circulars.factory import RANKINGS, record
from tests.circulars.test_render import FIRST_TABLE


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[bool, tuple[Path, CircularRecord]]:
    """The sample circular's PDF, as issued and as a demonstration (rendered once)."""
    folder = tmp_path_factory.mktemp("pdf")
    out = {}
    for demo in (False, True):
        r = record(demonstration=demo)
        path = folder / f"circular-{demo}.pdf"
        path.write_bytes(render_pdf(r))
        out[demo] = path, r
    return out


def pages_text(pdf: Path) -> list[str]:
    """Each page's text as laid out (a table's row on one line), form feed between pages."""
    out = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(pdf), "-"], check=True,
                         capture_output=True, text=True).stdout
    return out.split("\f")[:-1]


def flat(texts: list[str]) -> str:
    return "".join("".join(t.split()) for t in texts)


def test_number_title_recipients_and_signature(pdfs: dict[bool, tuple[Path, object]]) -> None:
    pdf, r = pdfs[False]
    text = flat(pages_text(pdf))
    assert "示公科信通〔2026〕11号" in text and title(r) in text  # type: ignore[arg-type]
    assert ("东区公安分局、西区公安分局、北区公安分局、南区公安分局、临河县公安局、"
            "山阳县公安局：") in text
    assert "示例市公安局科技信息化支队2026年12月1日（联系人：" in text
    assert re.search(r"抄送：示例市公安局指挥中心，各县（区）公安局分管局领导。"
                     r"示例市公安局科技信息化支队2026年12月1日印发—\d+—$", text)


def test_each_ranking_table_lists_the_counties_in_rank_order_with_their_percentages(
        pdfs: dict[bool, tuple[Path, object]]) -> None:
    pdf, _ = pdfs[False]
    text = flat(pages_text(pdf))
    at = text.index("表1在线率排名（视频监控）")
    for row in FIRST_TABLE:  # one after the other, every cell as printed
        found = text.find("".join(row), at)
        assert found >= 0, row
        at = found
    tables = text.index("情况见表1至表7。") + len("情况见表1至表7。")
    for n, ranking in enumerate(RANKINGS, 1):
        start = text.index(f"表{n}", tables)
        end = text.index(f"表{n + 1}", start)
        table = text[start:end]
        spots = [table.find(f"{x.county_name}{x.devices}"
                            f"{'未监测' if x.ratio is None else f'{x.ratio * 100:.2f}%'}")
                 for x in ranking.rows]
        assert -1 not in spots and spots == sorted(spots), (n, spots)


def test_praised_and_named_counties(pdfs: dict[bool, tuple[Path, object]]) -> None:
    pdf, _ = pdfs[False]
    text = flat(pages_text(pdf))
    praise, blame = text.index("五、通报表扬"), text.index("六、通报批评")
    assert "（一）东区：各项指标均达到目标值" in text[praise:blame]
    assert "（一）南区：视频监控在线率91.24%，低于目标值95.00%；逾期未整改事项6项。" in \
        text[blame:text.index("七、有关要求")]


def test_demonstration_only_when_flagged_and_then_on_every_page(
        pdfs: dict[bool, tuple[Path, object]]) -> None:
    plain, demo = pages_text(pdfs[False][0]), pages_text(pdfs[True][0])
    assert "演示数据" not in flat(plain)
    assert all("演示数据（非正式文件）" in "".join(t.split()) for t in demo)
    first = "".join(demo[0].split())
    assert first.startswith("演示数据（非正式文件）")  # the running header, then the banner
    assert first.index("运行情况的通报演示数据（非正式文件）") > first.index("示公科信通")


def test_page_numbers_and_embedded_fonts(pdfs: dict[bool, tuple[Path, object]]) -> None:
    for pdf, _ in pdfs.values():
        texts = pages_text(pdf)
        assert len(texts) >= 3
        for n, page in enumerate(texts, 1):
            assert re.search(rf"—\s*{n}\s*—", page), (n, page[-80:])
        fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True,
                               text=True).stdout.splitlines()[2:]
        assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts
        assert any("CJK" in line for line in fonts)


def test_same_record_same_bytes(pdfs: dict[bool, tuple[Path, CircularRecord]]) -> None:
    """A circular is written once and compared when written again: the same bytes."""
    pdf, r = pdfs[True]
    assert render_pdf(r) == pdf.read_bytes()
    other = record(seq=12, number="示公科信通〔2026〕12号")
    assert render_pdf(other) != pdfs[False][0].read_bytes()
