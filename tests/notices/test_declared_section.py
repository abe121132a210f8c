"""The declared outages (停机报备) in a notice: counted and their hours summed over the period
(clipped, a cancelled one until its cancellation), said in every rendering; a record from
before them writes back byte for byte and says nothing of them."""

from __future__ import annotations

import io
import json
import textwrap
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import docx

from netwatch.inventory import load_inventory
from netwatch.monitor import Actor, Wanted, cancel_declaration, declare
from netwatch.notices import issue_notices
from netwatch.notices.docx_file import render_docx
from netwatch.notices.record import NoticeRecord
from netwatch.notices.render import render_html, render_markdown
from netwatch.store import FaultLog, NewEpisode, Store
from tests.notices.factory import record

BOTH_ENGINES = True
ZONE = ZoneInfo("Asia/Shanghai")
H = 3600.0
LINE = "本期报备停机3次，累计41小时（报备时段不计入在线率）"


def at(day: str, hour: float = 0.0) -> float:
    return datetime.fromisoformat(day).replace(tzinfo=ZONE).timestamp() + hour * H


def test_every_rendering_says_how_many_and_how_long() -> None:
    r = record(declared_outages=3, declared_seconds=int(41 * H))
    assert LINE in render_html(r) and LINE in render_markdown(r)
    texts = [p.text for p in docx.Document(io.BytesIO(render_docx(r))).paragraphs]
    assert any(LINE in t for t in texts)
    english = render_html(r, "en")
    assert "3 outages declared in the period, 41 h in all (left out of the online rates)" \
        in english
    data = json.loads(r.to_json())
    assert (data["declared_outages"], data["declared_seconds"]) == (3, 41 * 3600)
    assert NoticeRecord.from_json(r.to_json()) == r
    none = record(declared_outages=0, declared_seconds=0)
    assert "报备停机" not in render_html(none)


def test_a_record_from_before_keeps_its_bytes() -> None:
    old = record()
    text = old.to_json()
    assert "declared_outages" not in text and "declared_seconds" not in text
    back = NoticeRecord.from_json(text)
    assert back.to_json() == text and back.declared_outages is None
    assert "报备停机" not in render_html(back)
    assert replace(back, declared_outages=1, declared_seconds=7200).to_json() != text


def test_the_issued_notice_counts_the_declarations_within_its_period(tmp_path: Path,
                                                                     store: Store) -> None:
    """Period 2026-11-21 .. the issue at 2026-11-28 09:00 (a week back, no earlier notice):
    one declaration wholly inside (10 h), one begun before the period's start (its 20 h
    inside count), one cancelled after 11 h of its 30, and one of another county (not
    counted): 3 declarations, 41 hours."""
    path = tmp_path / "inventory.yaml"
    path.write_text(textwrap.dedent("""\
        city: {name: 示例市, timezone: Asia/Shanghai}
        counties:
          - {id: east, name: 东区, receiving_unit: 东区公安分局}
          - {id: west, name: 西区, receiving_unit: 西区公安分局}
        devices:
          - {id: cam-1, kind: camera, county: east, address: 127.31.30.1}
          - {id: cam-2, kind: camera, county: east, address: 127.31.30.2}
          - {id: cam-3, kind: camera, county: east, address: 127.31.30.3}
          - {id: cam-w, kind: camera, county: west, address: 127.31.30.9}
        """), encoding="utf-8")
    inv = load_inventory(path, env={})
    east, admin = Actor("tok-east", frozenset({"east"})), Actor("tok-admin", None)
    start = at("2026-11-21")
    declare(store, inv, Wanted("east", {"devices": ["cam-1"]}, start - 4 * H, start + 20 * H,
                               "power"), east, start - 5 * H)  # 20 h inside the period
    declare(store, inv, Wanted("east", {"devices": ["cam-2"]}, at("2026-11-24", 8),
                               at("2026-11-24", 18), "roadworks"), east, at("2026-11-24"))
    gone = declare(store, inv, Wanted("east", {"devices": ["cam-3"]}, at("2026-11-25", 0),
                                      at("2026-11-26", 6), "relocation"), east, at("2026-11-24"))
    cancel_declaration(store, gone.id, admin, at("2026-11-25", 11))
    declare(store, inv, Wanted("west", {"devices": ["cam-w"]}, at("2026-11-24", 8),
                               at("2026-11-24", 18), "power"), admin, at("2026-11-24"))
    # something to report, or no notice is issued
    FaultLog(store).apply([NewEpisode("cam-2", "east", "camera", "unreachable",
                                      at("2026-11-27", 1), at("2026-11-27", 1), None, "x")],
                          [], [])
    [east_notice] = issue_notices(store, inv, issue_date=date(2026, 11, 28),
                                  counties=["east"], now=at("2026-11-28", 9))
    assert east_notice.record is not None
    assert east_notice.record.declared_outages == 3
    assert east_notice.record.declared_seconds == 41 * 3600
    assert LINE in render_html(east_notice.record)
