"""A notice's period: no earlier than watching began, and time nothing watched in no rate."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import docx
import pytest

from netwatch.monitor import claim, leases, record_first_checks, release
from netwatch.notices.docx_file import render_docx
from netwatch.notices.issue import issue_notices
from netwatch.notices.pdf import render_pdf
from netwatch.notices.record import NoticeRecord
from netwatch.notices.render import render_html, render_markdown
from netwatch.notices.summary import figures
from netwatch.store import Store
from tests.notices.city import DAY, HOUR, at, city, fault, recover
from tests.notices.factory import record

# a period within one day names that day once
SHORT_ZH = ("根据示例市公安技术监测平台2026年12月6日的监测数据"
            "（监测自2026年12月6日8时10分起，本期不足7天），现将你单位存在的问题通报如下。")
SHORT_EN = ("Based on 示例市 police monitoring data of 2026-12-06 "
            "(monitored since 2026-12-06 08:10, shorter than the usual 7 days), we notify you:")
GAP_ZH = "（其中2小时10分钟未监测，不计入在线率）"
GAP_EN = "(2 h 10 min of it unwatched, left out of the online rates)"


COUNTIES = ("east", "west")


# the leases' lifetime here: one renewal stands for the daemon's rounds every few seconds
# (a lease that lapsed before its renewal would be a gap, nobody watching meanwhile)
WATCHING = 365 * DAY


def resume_watching(store: Store, when: float) -> None:
    """A daemon's start: it takes every county's lease (the time since its stop is a gap)."""
    claim(store, "nw", COUNTIES, {}, WATCHING, now=when)


def held(store: Store) -> dict[str, int]:
    return {s: lease.generation for s, lease in leases(store).items() if lease.holder == "nw"}


def beat(store: Store, when: float) -> None:
    """Still watching: the daemon renews its leases (as it did all along)."""
    claim(store, "nw", COUNTIES, held(store), WATCHING, now=when)


def stop_watching(store: Store, when: float) -> None:
    """A clean stop: the leases are released."""
    release(store, "nw", held(store), now=when)


def started(store: Store, when: float, devices: tuple[str, ...]) -> None:
    """What a daemon's first start records: its leases and its devices' first checks."""
    resume_watching(store, when)
    record_first_checks(store, [(d, when) for d in devices])


def texts(r: NoticeRecord, lang: str) -> dict[str, str]:
    """The notice's text in every format that carries the body: HTML, Markdown, Word."""
    word = docx.Document(io.BytesIO(render_docx(r, lang)))
    return {"html": render_html(r, lang), "md": render_markdown(r, lang).replace("\\", ""),
            "docx": "\n".join(p.text for p in word.paragraphs)}


def test_a_first_notice_minutes_after_the_first_start_reports_those_minutes(
        store: Store) -> None:
    """The daemon started at 08:10 on 6 December; a notice at 10:00 covers 08:10–10:00, not
    the week back from 29 November that nothing watched, and says so in every format."""
    began = at("2026-12-06", 8) + 10 * 60
    started(store, began, ("sw-1", "cam-1", "cam-2", "site-1"))
    fault(store, "site-1", began + 60, kind="trunking_site")
    beat(store, at("2026-12-06", 10))  # still watching
    [o] = issue_notices(store, city(), counties=["east"], now=at("2026-12-06", 10))
    r = o.record
    assert r is not None
    assert (r.period_start, r.period_end) == ("2026-12-06", "2026-12-06")
    assert (r.period_from, r.period_to) == ("2026-12-06T08:10:00+08:00",
                                            "2026-12-06T10:00:00+08:00")
    assert (r.short_period, r.usual_period_days, r.unwatched_seconds) == (True, 7, 0)
    for lang, sentence in (("zh", SHORT_ZH), ("en", SHORT_EN)):
        for fmt, text in texts(r, lang).items():
            assert sentence in text, (lang, fmt)
    stored = NoticeRecord.from_json(store.conn.execute("SELECT record FROM notices").fetchone()[0])
    assert stored == r
    # the trunking site was down 1 h 49 min of the 1 h 50 min watched
    [site] = [s for s in r.summary if s.kind == "trunking_site"]
    assert site.online_ratio == pytest.approx(60 / (110 * 60), abs=1e-6)


def test_the_pdf_says_the_period_is_short(store: Store, tmp_path: Path) -> None:
    began = at("2026-12-06", 8) + 10 * 60
    started(store, began, ("site-1",))
    fault(store, "site-1", began, kind="trunking_site")
    [o] = issue_notices(store, city(), counties=["east"], now=at("2026-12-06", 10))
    assert o.record is not None
    pdf = tmp_path / "n.pdf"
    pdf.write_bytes(render_pdf(o.record))
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    assert "本期不足7天" in "".join(text.split())


def test_a_later_notice_or_a_long_watch_keeps_the_usual_period(store: Store) -> None:
    """Watching began before the usual start: the period is the week, nothing said."""
    started(store, at("2026-11-01"), ("sw-1", "cam-1", "cam-2", "site-1"))
    fault(store, "site-1", at("2026-12-05"), kind="trunking_site")
    beat(store, at("2026-12-06", 10))
    [o] = issue_notices(store, city(), counties=["east"], now=at("2026-12-06", 10))
    r = o.record
    assert r is not None
    assert (r.period_start, r.period_from, r.short_period) == (
        "2026-11-29", "2026-11-29T00:00:00+08:00", False)
    assert "本期不足" not in render_html(r) and "未监测" not in render_html(r)


def test_time_the_daemon_was_down_is_in_no_rate_and_the_notice_says_how_long(
        store: Store) -> None:
    """cam-9 went down at 10:00 on the 3rd; the daemon stopped at 12:00 and started again at
    14:10, when cam-9 answered again. The 2 h 10 min nobody watched count neither as online
    (cam-8) nor as offline (cam-9's open fault, closed at the restart)."""
    started(store, at("2026-11-16", 0), ("cam-8", "cam-9"))
    stop_watching(store, at("2026-11-18", 12))
    resume_watching(store, at("2026-11-18", 14) + 10 * 60)
    ep = fault(store, "cam-9", at("2026-11-18", 10), county="west")
    recover(store, ep, at("2026-11-18", 14) + 10 * 60)
    fault(store, "cam-8", at("2026-11-22"), "degraded_link", county="west")  # the item
    beat(store, at("2026-11-23"))
    [o] = issue_notices(store, city(), counties=["west"], now=at("2026-11-23"))
    r = o.record
    assert r is not None and r.unwatched_seconds == 2 * HOUR + 10 * 60
    period = 7 * DAY + 9 * HOUR - (2 * HOUR + 10 * 60)  # watched: the week less the gap
    rows = {s.kind: s for s in r.summary}
    assert rows["camera_key_area"].online_ratio == pytest.approx(1 - 2 * HOUR / period,
                                                                 abs=1e-6)
    assert rows["camera"].online_ratio == pytest.approx(1 - 2 * HOUR / (2 * period),
                                                        abs=1e-6)
    for lang, words in (("zh", GAP_ZH), ("en", GAP_EN)):
        for fmt, text in texts(r, lang).items():
            assert words in text, (lang, fmt)


def test_a_notice_issued_while_the_daemon_is_down_counts_that_time_neither(
        store: Store) -> None:
    """Stopped cleanly at 06:00, a notice at 09:00 from the command line: the three hours
    since are a gap still open, left out like a recorded one."""
    started(store, at("2026-11-16", 0), ("cam-8", "cam-9"))
    fault(store, "cam-8", at("2026-11-22"), county="west")
    stop_watching(store, at("2026-11-23", 6))
    [o] = issue_notices(store, city(), counties=["west"], now=at("2026-11-23"))
    r = o.record
    assert r is not None and r.unwatched_seconds == 3 * HOUR
    watched = 7 * DAY + 6 * HOUR
    [cameras] = [s for s in r.summary if s.kind == "camera"]
    assert cameras.online_ratio == pytest.approx(1 - (DAY - 3 * HOUR) / (2 * watched),
                                                 abs=1e-6)


def test_a_county_gap_leaves_only_that_county(store: Store) -> None:
    """A gap naming a county (no instance watched it) takes its devices' time out, not the
    other county's."""
    started(store, at("2026-11-16", 0), ("cam-1", "cam-8"))
    with store.transaction() as tx:
        tx.execute("INSERT INTO monitoring_gaps (county, started, ended, reason) "
                   "VALUES ('west', ?, ?, 'daemon_down')", (at("2026-11-17"), at("2026-11-18")))
    fault(store, "cam-8", at("2026-11-17"), county="west")
    fault(store, "cam-1", at("2026-11-17"))
    end = at("2026-11-18")
    beat(store, end)
    by_county = figures(store, city(), at("2026-11-16", 0), end, now=end)
    assert by_county["west"]["camera"].ratio == 1.0  # its outage lay wholly in its gap
    # cam-1 down the last 24 of its 57 hours; cam-2 never checked
    assert by_county["east"]["camera"].ratio == pytest.approx(1 - 24 / 57, abs=1e-6)


def test_a_record_from_before_keeps_its_bytes_and_its_words() -> None:
    """A stored record without the period fields loads, writes back byte for byte (its files
    stay identical) and reads as it did."""
    old = record()
    text = old.to_json()
    assert "period_from" not in text and "unwatched_seconds" not in text
    back = NoticeRecord.from_json(text)
    assert back.to_json() == text and back.short_period is None
    assert "根据示例市公安技术监测平台2026年11月21日至2026年11月27日的监测数据，现将" in \
        render_html(back)
