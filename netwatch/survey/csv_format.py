"""The readings CSV that test tools export: a header of the reading's field names, one row each.

The header names any subset of ``validate.FIELDS``, in any order: ``point, lat, lon,
datum, taken_at, technology, rssi_dbm, ber, rsrp_dbm, sinr_db, no_service,
serving_site, note, client_id`` (UTF-8, a BOM is tolerated).

``parse_csv`` turns the text into the same dicts a JSON client sends (numbers as
numbers, ``no_service`` as a boolean, empty cells left out), so one validator
serves both, and reports per row what cannot be converted. Text cells that a
spreadsheet would run as a formula (``= + - @`` first, also in their full-width
forms ＝ ＋ － ＠ and after spaces, line breaks or invisible characters such as
U+200B, or a leading tab, CR or LF) are stored neutralised, prefixed with ``'``,
so they never reach a notice, a plan or an export as live formulas (docs/security.md,
'Untrusted text'); ``neutralise`` is the inventory's, which the ledger importer uses too.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from netwatch.inventory import neutralise
from netwatch.survey.validate import ALL_FIGURES, FIELDS

NUMERIC = frozenset({"lat", "lon", *ALL_FIGURES})
TRUE, FALSE = frozenset({"true", "1", "yes"}), frozenset({"false", "0", "no", ""})
HEADER_ROW = 1  # rows are numbered as a spreadsheet shows them; data starts at row 2


@dataclass(frozen=True, slots=True)
class CsvProblem:
    row: int  # spreadsheet row number (the header is row 1)
    field: str
    reason: str


def _convert(name: str, cell: str) -> Any:
    if name in NUMERIC:
        return float(cell)
    if name == "no_service":
        word = cell.strip().lower()
        if word in TRUE:
            return True
        if word in FALSE:
            return False
        raise ValueError("must be true or false")
    return neutralise(cell)


def _put(row: dict[str, Any], name: str, cell: str) -> bool:
    """Convert one non-empty cell into ``row``; False when it does not convert."""
    try:
        row[name] = _convert(name, cell.strip() if name in NUMERIC else cell)
    except ValueError:
        return False
    return True


def parse_csv(text: str) -> tuple[list[tuple[int, dict[str, Any]]], list[CsvProblem]]:
    """``(row number, reading dict)`` per data row, and the problems of the rows that failed."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return [], [CsvProblem(HEADER_ROW, "", "empty file: expected a header row")]
    except csv.Error as exc:
        return [], [CsvProblem(HEADER_ROW, "", f"not CSV: {exc}")]
    problems = [CsvProblem(HEADER_ROW, name, "unknown column")
                for name in header if name not in FIELDS]
    problems += [CsvProblem(HEADER_ROW, name, "column given twice")
                 for i, name in enumerate(header) if name in header[:i]]
    if problems:
        return [], problems
    rows: list[tuple[int, dict[str, Any]]] = []
    try:
        for number, cells in enumerate(reader, start=HEADER_ROW + 1):
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                problems.append(CsvProblem(number, "", f"{len(cells)} cells, the header has "
                                                       f"{len(header)}"))
                continue
            row: dict[str, Any] = {}
            bad = [CsvProblem(number, name, "must be a number" if name in NUMERIC
                              else "must be true or false")
                   for name, cell in zip(header, cells, strict=True)
                   if cell.strip() and not _put(row, name, cell)]
            if bad:
                problems += bad
            else:
                rows.append((number, row))
    except csv.Error as exc:
        problems.append(CsvProblem(reader.line_num, "", f"not CSV: {exc}"))
    return rows, problems
