"""Issuing the month's circular: once, never a second number, a month not over refused, and
numbered in the notices' sequence table under its own prefix."""

from __future__ import annotations

from dataclasses import replace

import pytest

from netwatch.circulars import CircularError, circular_by_id, every_circular, issue_circular
from netwatch.notices.issue import issue_notices
from netwatch.store import Store
from tests.circulars.history import END, MONTH, inventory, november
from tests.notices.city import at, fault, recover

BOTH_ENGINES = True  # the issuing transaction holds on SQLite and on PostgreSQL


def test_issued_once_and_immutable(store: Store) -> None:
    """A second call finds the month's circular: same id, number and record, even after
    history changed meanwhile; the stored JSON is the record."""
    november(store)
    first = issue_circular(store, inventory(), MONTH, END + 3600)
    assert first.created and first.record.number == "示公通〔2026〕1号"
    assert circular_by_id(store, first.circular_id) == first.record.to_json()
    recover(store, fault(store, "cam-8", at("2026-11-10", 0), county="west"),
            at("2026-11-20", 0))  # a late-recorded outage: the issued circular stays
    again = issue_circular(store, inventory(), "2026-11", END + 7200)
    assert (again.circular_id, again.record, again.created) == (
        first.circular_id, first.record, False)
    assert len(every_circular(store)) == 1


def test_a_month_not_over_a_bad_month_and_no_prefix_are_refused(store: Store) -> None:
    with pytest.raises(CircularError, match=r"month 2026-11: not over until "
                                            r"2026-12-01T00:00:00\+08:00"):
        issue_circular(store, inventory(), MONTH, END - 1)
    for bad in ("2026-13", "2026/11", "11-2026", ""):
        with pytest.raises(CircularError, match="expected YYYY-MM"):
            issue_circular(store, inventory(), bad, END)
    plain = inventory()
    plain = replace(plain, notices=replace(plain.notices, circular=replace(
        plain.notices.circular, prefix="")))
    with pytest.raises(CircularError, match="notices.circular.prefix is not set"):
        issue_circular(store, plain, MONTH, END)
    assert every_circular(store) == []
    assert store.query("SELECT * FROM notice_sequences") == []  # no number spent


def test_numbered_beside_the_notices_under_its_own_prefix(store: Store) -> None:
    """A notice and two circulars: the notice keeps 示公科信's sequence (1, then 2), the
    circulars run 示公通 1, 2 in the issue year; January's circular starts the new year."""
    inv = inventory()
    fault(store, "cam-1", at("2026-10-01", 0))
    [east] = [o for o in issue_notices(store, inv, now=at("2026-10-05")) if o.record]
    october = issue_circular(store, inv, "2026-10", at("2026-11-02"))
    november_ = issue_circular(store, inv, "2026-11", at("2026-12-01"))
    [east2] = [o for o in issue_notices(store, inv, now=at("2026-12-07")) if o.record]
    december = issue_circular(store, inv, "2026-12", at("2027-01-04"))
    assert east.record is not None and east.record.number == "示公科信〔2026〕1号"
    assert east2.record is not None and east2.record.number == "示公科信〔2026〕2号"
    assert [c.record.number for c in (october, november_, december)] == [
        "示公通〔2026〕1号", "示公通〔2026〕2号", "示公通〔2027〕1号"]
    assert sorted((r["prefix"], r["year"], r["last_seq"]) for r in store.query(
        "SELECT prefix, year, last_seq FROM notice_sequences")) == [
        ("示公科信", 2026, 2), ("示公通", 2026, 2), ("示公通", 2027, 1)]
    assert [r["month"] for r in every_circular(store)] == ["2026-12", "2026-11", "2026-10"]


def test_the_record_names_every_county_and_states_the_rule(store: Store) -> None:
    november(store)
    record = issue_circular(store, inventory(), MONTH, END + 3600).record
    assert [(r.county, r.receiving_unit) for r in record.recipients] == [
        ("east", "东区公安分局"), ("west", "西区公安分局")]
    assert (record.period_start, record.period_end) == (
        "2026-11-01T00:00:00+08:00", "2026-12-01T00:00:00+08:00")
    assert (record.issue_date, record.month, record.prefix) == ("2026-12-01", MONTH, "示公通")
    assert record.header == "示例市公安局科技信息化支队" and not record.demonstration
    assert record.praise_rule.endswith("予以通报表扬。")
    assert record.criticism_rule.endswith("予以通报批评。")
    assert [(t.measure, t.kind) for t in record.rankings] == [
        ("online", "camera_key_area"), ("online", "trunking_site"), ("online", "camera"),
        ("online", "switch"), ("video", "camera_key_area"), ("video", "camera"),
        ("clock", "camera_key_area"), ("clock", "camera")]
