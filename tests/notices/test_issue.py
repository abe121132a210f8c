"""Issuing: numbering, year boundary, idempotence, date order, carry-forward, summary, races."""

from __future__ import annotations

import math
import threading
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from netwatch.notices.issue import IssueError, issue_notices
from netwatch.notices.metrics import notice_families
from netwatch.notices.numbering import format_number
from netwatch.notices.record import NoticeRecord
from netwatch.notices.summary import county_summary, figures
from netwatch.store import Store
from tests.notices.city import DAY, HOUR, SETTINGS, at, city, fault, recover

BOTH_ENGINES = True  # the owners' rules hold on SQLite and on PostgreSQL


def numbers(store: Store) -> list[tuple[str, str, str]]:
    return [tuple(r) for r in store.execute(
        "SELECT county, issue_date, number FROM notices ORDER BY id")]


def test_number_format_has_no_leading_zeros() -> None:
    """Numbers read 示公科信〔2026〕7号: full year in 六角括号, no padding."""
    assert format_number("示公科信", 2026, 7) == "示公科信〔2026〕7号"


def test_one_notice_per_county_with_items_and_deadlines(store: Store) -> None:
    """Each county with items gets one numbered notice; deadlines follow rectify_within."""
    fault(store, "site-1", at("2026-11-20"), kind="trunking_site")
    fault(store, "cam-8", at("2026-11-20"), county="west")
    out = issue_notices(store, city(), issue_date=date(2026, 11, 23), now=at("2026-11-23"))
    assert [(o.county, o.created, o.record and o.record.number) for o in out] == [
        ("east", True, "示公科信〔2026〕1号"), ("west", True, "示公科信〔2026〕2号")]
    east = out[0].record
    assert east is not None and east.receiving_unit == "东区公安分局"
    [site] = east.items
    assert (site.subject, site.severity, site.deadline, site.state) == (
        "site-1", "critical", "2026-11-24", "open")
    assert site.first_seen == "2026-11-20T09:00:00+08:00" and site.duration_seconds == 3 * DAY
    assert site.evidence["last_good"] == "2026-11-20T08:59:00+08:00"
    assert (east.period_start, east.period_end, east.deadline) == (
        "2026-11-16", "2026-11-23", "2026-11-24")
    assert NoticeRecord.from_json(east.to_json()) == east


def test_numbering_restarts_across_the_year_boundary(store: Store) -> None:
    """2026-12-31 then 2027-01-01: the new year's sequence starts again at 1."""
    fault(store, "cam-8", at("2026-12-01"), county="west")
    fault(store, "site-1", at("2026-12-01"), kind="trunking_site")
    issue_notices(store, city(), issue_date=date(2026, 12, 31), now=at("2026-12-31"))
    fault(store, "cam-1", at("2026-12-31"))
    issue_notices(store, city(), issue_date=date(2027, 1, 1), now=at("2027-01-01"))
    assert [n for _, _, n in numbers(store)] == [
        "示公科信〔2026〕1号", "示公科信〔2026〕2号", "示公科信〔2027〕1号", "示公科信〔2027〕2号"]


def test_regenerating_the_same_day_returns_the_notice_and_rewrites_files(
        store: Store, tmp_path: Path) -> None:
    """A second run the same day gives the same notice and number, and restores lost files."""
    fault(store, "cam-8", at("2026-11-20"), county="west")
    out_dir = tmp_path / "notices"
    [first] = issue_notices(store, city(), counties=["west"], now=at("2026-11-23"),
                            out_dir=out_dir)
    assert first.created and first.paths
    for p in first.paths:
        p.unlink()
    fault(store, "cam-9", at("2026-11-20"), county="west")  # new today: waits for next notice
    [again] = issue_notices(store, city(), counties=["west"], now=at("2026-11-23", 15),
                            out_dir=out_dir)
    assert (again.created, again.notice_id, again.record) == (False, first.notice_id,
                                                              first.record)
    assert again.paths == first.paths and all(p.exists() for p in again.paths)
    assert len(numbers(store)) == 1
    assert store.execute("SELECT last_seq FROM notice_sequences").fetchone()[0] == 1


def test_an_earlier_date_than_the_last_notice_is_refused(store: Store) -> None:
    """--date before the last issued notice fails with a clear error and issues nothing."""
    fault(store, "cam-8", at("2026-11-20"), county="west")
    issue_notices(store, city(), issue_date=date(2026, 11, 23), now=at("2026-11-23"))
    with pytest.raises(IssueError, match=r"--date 2026-11-22: before the last issued notice "
                                         r"\(示公科信〔2026〕1号 of 2026-11-23\)"):
        issue_notices(store, city(), issue_date=date(2026, 11, 22), now=at("2026-11-23"))
    with pytest.raises(IssueError, match="county 'north': not in the inventory"):
        issue_notices(store, city(), counties=["north"], now=at("2026-11-23"))
    assert len(numbers(store)) == 1


def test_nothing_to_report_means_no_notice_and_no_number(store: Store) -> None:
    """A county without items gets no notice, and no number is used up."""
    fault(store, "cam-8", at("2026-11-23") - 600, county="west")  # within the grace period
    out = issue_notices(store, city(), now=at("2026-11-23"))
    assert [(o.county, o.record) for o in out] == [("east", None), ("west", None)]
    assert numbers(store) == []
    assert store.execute("SELECT count(*) FROM notice_sequences").fetchone()[0] == 0


def test_open_items_are_carried_forward_and_marked_overdue(store: Store) -> None:
    """Still-open items come back in the next notice, overdue past their deadline."""
    fault(store, "cam-8", at("2026-11-20"), county="west")
    ep = fault(store, "cam-9", at("2026-11-20"), county="west")
    issue_notices(store, city(), counties=["west"], now=at("2026-11-23"))
    recover(store, ep, at("2026-11-30", 8))  # still in its verification window at 12:00
    fault(store, "cam-9", at("2026-11-30"), fault="service_down", county="west")
    [o] = issue_notices(store, city(), counties=["west"], now=at("2026-11-30", 12))
    assert o.record is not None
    assert [(i.subject, i.problem) for i in o.record.items] == [("cam-9", "service_down")]
    by_subject = {i.subject: i for i in o.record.carried}
    assert (by_subject["cam-8"].overdue, by_subject["cam-8"].state) == (True, "open")
    assert (by_subject["cam-9"].overdue, by_subject["cam-9"].state) == (False, "rectified")
    assert o.record.period_start == "2026-11-23" and o.record.period_end == "2026-11-30"
    listed = store.execute("SELECT carried, overdue FROM notice_item_listings "
                                "WHERE notice_id = ? ORDER BY item_id", (o.notice_id,)).fetchall()
    assert sorted(tuple(r) for r in listed) == [(0, 0), (1, 0), (1, 1)]


def test_the_period_covers_the_items_it_lists(store: Store) -> None:
    """The period the body states ends at the issue time, so a fault first seen this
    morning is listed under it; a notice dated back with --date ends with its day, and an
    item first seen after that waits for the next notice."""
    fault(store, "cam-8", at("2026-11-20"), county="west")
    fault(store, "cam-9", at("2026-11-24", 3), county="west")  # after the dated-back day
    [o] = issue_notices(store, city(), counties=["west"], issue_date=date(2026, 11, 23),
                        now=at("2026-11-24"))
    assert o.record is not None and o.record.period_end == "2026-11-23"
    assert [i.subject for i in o.record.items] == ["cam-8"]
    assert all(i.first_seen < "2026-11-24" for i in o.record.items)
    fault(store, "site-1", at("2026-11-30", 3), kind="trunking_site")  # this morning
    [east, later] = issue_notices(store, city(), now=at("2026-11-30"))
    assert later.record is not None and later.record.period_start == "2026-11-23"
    assert later.record.period_end == "2026-11-30"
    assert [i.subject for i in later.record.items] == ["cam-9"]
    assert east.record is not None and [i.subject for i in east.record.items] == ["site-1"]


def test_deadlines_skip_holidays_and_weekends(store: Store) -> None:
    """A deadline falling on a listed holiday moves to the next working day: past Thursday
    and Friday's holidays and the weekend after them to Monday (before weekends were days
    off, it was the Saturday)."""
    settings = replace(SETTINGS, holidays=(date(2026, 11, 26), date(2026, 11, 27)))
    fault(store, "cam-8", at("2026-11-20"), county="west")
    [o] = issue_notices(store, city(settings=settings), counties=["west"],
                        now=at("2026-11-23"))
    assert o.record is not None and o.record.items[0].deadline == "2026-11-30"


def test_a_deadline_on_a_make_up_working_sunday_stays(store: Store) -> None:
    """Issued Thursday with three days to rectify: due Sunday, a make-up working day, so it
    stays; without the make-up day it moves to Monday."""
    fault(store, "cam-8", at("2026-11-20"), county="west")
    sunday = date(2026, 11, 29)
    [o] = issue_notices(store, city(settings=replace(SETTINGS, workdays=(sunday,))),
                        counties=["west"], now=at("2026-11-26"))
    assert o.record is not None and o.record.items[0].deadline == "2026-11-29"


def test_summary_is_time_weighted_and_ranked(store: Store) -> None:
    """Online ratio counts outage time in the period; key-area cameras are also their own row."""
    # west: cam-9 (key area) down 3.5 of the 7 days; east cameras healthy
    ep = fault(store, "cam-9", at("2026-11-16", 0), county="west")
    recover(store, ep, at("2026-11-19", 12))
    fault(store, "cam-8", at("2026-11-22"), county="west")
    [o] = issue_notices(store, city(), counties=["west"], now=at("2026-11-23"))
    assert o.record is not None
    rows = {s.kind: s for s in o.record.summary}
    key_area, cameras = rows["camera_key_area"], rows["camera"]
    period = 7 * DAY + 9 * HOUR  # from 16 Nov 00:00 to the issue time, 23 Nov 09:00
    assert (key_area.expected, key_area.online) == (1, 1)
    assert key_area.online_ratio == pytest.approx(1 - 3.5 * DAY / period, abs=1e-6)
    assert (key_area.target_ratio, key_area.rank, key_area.of) == (0.98, 1, 1)
    lost = 3.5 * DAY + DAY  # cam-9's outage plus cam-8's since 22 Nov 09:00
    assert cameras.online == 1
    assert cameras.online_ratio == pytest.approx(1 - lost / (2 * period), abs=1e-6)
    assert (cameras.rank, cameras.of) == (2, 2)  # east's cameras were up all week


def test_summary_counts_monitored_time_only(store: Store) -> None:
    """A camera first checked on Thursday counts from then, not the whole week; one never
    checked yet does not count at all (once the daemon has recorded first checks)."""
    with store.transaction() as conn:  # what the daemon records (netwatch.daemon.duties)
        conn.execute("INSERT INTO monitored_since (device, since) VALUES (?, ?)",
                     ("cam-9", at("2026-11-20", 0)))
    ep = fault(store, "cam-9", at("2026-11-21", 0), county="west")
    recover(store, ep, at("2026-11-22", 0))
    fault(store, "cam-8", at("2026-11-22"), county="west")  # cam-8: never recorded
    [o] = issue_notices(store, city(), counties=["west"], now=at("2026-11-23"))
    assert o.record is not None
    rows = {s.kind: s for s in o.record.summary}
    # 1 day down of the 3 days 9 hours watched (Thursday 00:00 to the issue time)
    assert rows["camera"].online_ratio == pytest.approx(1 - 24 / 81, abs=1e-6)
    assert rows["camera"].expected == 2  # both are expected; only cam-9's time counts
    by_county = figures(store, city(), at("2026-11-16", 0), at("2026-11-23", 0))
    assert math.isnan(by_county["east"]["camera"].ratio)  # never checked: no rate, no rank
    assert county_summary(city(), "east", by_county) == ()
    assert rows["camera"].rank == 1 and rows["camera"].of == 1


def test_concurrent_issuers_never_make_two_notices(store: Store) -> None:
    """Two issuers on their own connections at once: one notice and one number per county."""
    fault(store, "cam-8", at("2026-11-20"), county="west")
    fault(store, "site-1", at("2026-11-20"), kind="trunking_site")
    barrier = threading.Barrier(2)
    results: list[list[object]] = []
    errors: list[BaseException] = []

    def issuer() -> None:
        try:
            with Store.open(store.path) as own:
                barrier.wait(timeout=10)
                out = issue_notices(own, city(), now=at("2026-11-23"))
                results.append([(o.county, o.record and o.record.number) for o in out])
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=issuer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == [] and len(results) == 2
    assert results[0] == results[1]
    assert [n for _, _, n in numbers(store)] == ["示公科信〔2026〕1号", "示公科信〔2026〕2号"]


def test_metrics_count_issued_open_and_overdue(store: Store) -> None:
    """The provider gives issued, open, overdue and last-issued per inventory county."""
    fault(store, "cam-8", at("2026-11-20"), county="west")
    issue_notices(store, city(), now=at("2026-11-23"))
    text = "".join(f.text() for f in notice_families(store, city(), at("2026-11-30")))
    assert 'netwatch_notices_issued_total{county="west"} 1.0' in text
    assert 'netwatch_notices_issued_total{county="east"} 0.0' in text
    assert 'netwatch_notice_items_open{county="west"} 1.0' in text
    assert 'netwatch_notice_items_overdue{county="west"} 1.0' in text
    assert f'netwatch_notice_last_issued_timestamp_seconds{{county="west"}} ' \
           f'{at("2026-11-23")!r}' in text
    assert 'netwatch_notice_last_issued_timestamp_seconds{county="east"}' not in text
