"""The readings CSV: typed cells, per-row problems, formula-looking cells neutralised."""

from __future__ import annotations

import pytest

from netwatch.inventory import neutralise
from netwatch.survey.csv_format import CsvProblem, parse_csv


def test_rows_become_typed_dicts() -> None:
    """Numbers become floats, no_service a boolean, empty cells are left out; BOM tolerated."""
    text = ("\ufeffpoint,lat,lon,taken_at,technology,rssi_dbm,no_service,note\r\n"
            "n-cp-1,,,2026-11-20T11:30:00+08:00,pdt,-95.5,,gate\r\n"
            ",38.5,105.9,2026-11-20T11:31:00+08:00,pdt,,yes,\r\n")
    rows, problems = parse_csv(text)
    assert problems == []
    assert rows == [
        (2, {"point": "n-cp-1", "taken_at": "2026-11-20T11:30:00+08:00", "technology": "pdt",
             "rssi_dbm": -95.5, "note": "gate"}),
        (3, {"lat": 38.5, "lon": 105.9, "taken_at": "2026-11-20T11:31:00+08:00",
             "technology": "pdt", "no_service": True}),
    ]


def test_formula_cells_are_neutralised() -> None:
    """Text cells starting with = + - @ (or tab/CR) are stored quoted; numbers stay numbers."""
    text = ('point,note,client_id,rssi_dbm\n'
            'n-cp-1,"=HYPERLINK(""http://x"")",+cmd,-90\n'
            'n-cp-1,@SUM(A1),-1,-91\n'
            'n-cp-1,"\tx",ok,-92\n')
    rows, problems = parse_csv(text)
    assert problems == []
    notes = [(r["note"], r["client_id"], r["rssi_dbm"]) for _, r in rows]
    assert notes == [("'=HYPERLINK(\"http://x\")", "'+cmd", -90.0),
                     ("'@SUM(A1)", "'-1", -91.0), ("'\tx", "ok", -92.0)]
    assert neutralise("plain") == "plain"
    assert all(not r["note"].startswith(("=", "+", "-", "@")) for _, r in rows)


@pytest.mark.parametrize("cell", [
    "＝1+1", "＋cmd", "－1", "＠SUM(1)", "﹦1", " =1", "  +1", "\u3000=1", "\t=1", "\n=1",
    "\r\n@x", "\u200b=HYPERLINK(1)", "\u2060@SUM(1)", "\ufeff+1", "\u200e-1", " \u200b ＝1",
    "\u00a0=1", "\u2212 1",
])
def test_formula_look_alikes_and_hidden_starts_are_neutralised(cell: str) -> None:
    """Full-width ＝＋－＠, a leading space, line feed or zero-width character before = + - @."""
    assert neutralise(cell) == "'" + cell
    rows, problems = parse_csv('point,note\nn-cp-1,"' + cell + '"\n')
    assert problems == [] and rows[0][1]["note"] == "'" + cell


@pytest.mark.parametrize("cell", ["plain", "a=b", " text", "\u200bx", "巡检 @ 08:00", "１２３", ""])
def test_text_that_cannot_start_a_formula_is_kept(cell: str) -> None:
    assert neutralise(cell) == cell


def test_formula_in_a_number_column_is_a_problem() -> None:
    """A formula where a number belongs is refused, never stored."""
    rows, problems = parse_csv("point,rssi_dbm\nn-cp-1,=1+2\n")
    assert rows == [] and problems == [CsvProblem(2, "rssi_dbm", "must be a number")]


def test_problems_carry_spreadsheet_rows() -> None:
    """Bad cells and short rows are reported with their row; blank lines are skipped."""
    text = "point,lat,no_service\nn-cp-1,x,\n\nn-cp-1,38.5,maybe\nn-cp-1\nn-cp-1,38.5,no\n"
    rows, problems = parse_csv(text)
    assert problems == [CsvProblem(2, "lat", "must be a number"),
                        CsvProblem(4, "no_service", "must be true or false"),
                        CsvProblem(5, "", "1 cells, the header has 3")]
    assert rows == [(6, {"point": "n-cp-1", "lat": 38.5, "no_service": False})]


def test_header_problems() -> None:
    """Unknown and repeated columns, and an empty file, are refused at row 1."""
    assert parse_csv("point,tester,point\n")[1] == [
        CsvProblem(1, "tester", "unknown column"), CsvProblem(1, "point", "column given twice")]
    assert parse_csv("")[1] == [CsvProblem(1, "", "empty file: expected a header row")]
