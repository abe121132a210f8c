"""Device ledgers (设备台账) → the inventory's device CSV.

Counties keep their devices in Excel sheets whose headers are Chinese and whose
cells are typed by hand: full-width digits and dots in addresses, coordinates
in 度分秒, trailing spaces, a title row and merged header cells above the real
headers, the same row pasted twice. ``read_ledger`` finds the header row, maps
the headers to inventory fields through a ``LedgerMap``, normalises each cell
and returns the devices it could map plus one ``LedgerProblem`` per row it
could not. Nothing is guessed silently: a row is either written as it will be
monitored or reported with its sheet and row number.
"""

from __future__ import annotations

import csv
import ipaddress
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netwatch.inventory.model import KINDS

# header (normalised) → inventory field; ``location`` is folded into the name
DEFAULT_COLUMNS: dict[str, str] = {
    "设备名称": "name", "设备编号": "id", "IP地址": "address", "设备类型": "kind",
    "安装位置": "location", "经度": "lon", "纬度": "lat", "所属派出所": "site",
    "上级设备": "parent",
}
DEFAULT_KINDS: dict[str, str] = {
    "摄像机": "camera", "摄像头": "camera", "球机": "camera", "枪机": "camera",
    "半球": "camera", "卡口": "camera", "人脸抓拍": "camera", "人脸识别": "camera",
    "视频会议终端": "vc_endpoint", "会议终端": "vc_endpoint", "视频会议": "vc_endpoint",
    "基站": "trunking_site", "集群基站": "trunking_site", "PDT基站": "trunking_site",
    "交换机": "switch", "接入交换机": "switch", "核心交换机": "switch",
    **{k: k for k in KINDS},
}
FIELDS = ("id", "name", "address", "kind", "location", "lat", "lon", "site", "parent",
          "key_area")
OUTPUT_COLUMNS = ("id", "kind", "county", "address", "name", "lat", "lon", "parent", "site",
                  "key_area")
HEADER_SCAN_ROWS = 15  # a title, a date line, a two-level header: the headers are near the top
_ID = re.compile(r"[\w.:-]+")
_DMS = re.compile(r"^([NSEW北南东西]?)\D*?(\d+(?:\.\d+)?)\s*[°度]\s*(?:(\d+(?:\.\d+)?)\s*['′’分])?"
                  r"\s*(?:(\d+(?:\.\d+)?)\s*(?:\"|″|”|''|′′|秒))?\s*([NSEW北南东西]?)$")
_TRUE = {"true", "yes", "1", "是", "y", "重点"}
_FALSE = {"false", "no", "0", "否", "n", ""}


class LedgerError(Exception):
    """The ledger or its mapping cannot be read at all (not a per-row problem)."""


@dataclass(frozen=True, slots=True)
class LedgerMap:
    """Which header means which field, and which type names mean which kind."""

    columns: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_COLUMNS))
    kinds: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_KINDS))


@dataclass(frozen=True, slots=True)
class LedgerProblem:
    where: str  # LEDGER.xlsx:Sheet1!R12
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass(slots=True)
class LedgerResult:
    devices: list[dict[str, str]] = field(default_factory=list)
    problems: list[LedgerProblem] = field(default_factory=list)
    duplicates: int = 0  # identical rows dropped


def clean(value: Any) -> str:
    """A cell as text: full-width forms folded (NFKC), spaces trimmed, inner runs collapsed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFKC", str(value)).replace("\u3002", ".")
    return re.sub(r"\s+", " ", text).strip()


def header_key(value: Any) -> str:
    """A header cell compared without spaces, line breaks or a parenthesised note."""
    return re.sub(r"[\s*]|\(.*?\)", "", clean(value))


def load_map(path: Path) -> LedgerMap:
    """A mapping file: ``columns: {表头: field}`` and ``kinds: {类型: kind}``, both optional."""
    import yaml

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise LedgerError(f"{path}: cannot read the mapping: {exc}") from None
    if not isinstance(doc, dict) or set(doc) - {"columns", "kinds"}:
        raise LedgerError(f"{path}: expected a mapping with keys columns and kinds")
    columns, kinds = dict(DEFAULT_COLUMNS), dict(DEFAULT_KINDS)
    for key, target, allowed in (("columns", columns, FIELDS), ("kinds", kinds, KINDS)):
        section = doc.get(key) or {}
        if not isinstance(section, dict):
            raise LedgerError(f"{path}: {key}: expected a mapping")
        for name, value in section.items():
            if value not in allowed:
                raise LedgerError(f"{path}: {key}: {name}: {value!r} is not one of "
                                  f"{', '.join(allowed)}")
            target[header_key(name) if key == "columns" else clean(name)] = value
    return LedgerMap(columns, kinds)


def coordinate(text: str, low: float, high: float) -> float:
    """Decimal degrees, or 度分秒 (``106°13'53.4"``, ``E106度13分53秒``); range-checked."""
    try:
        value = float(text)
    except ValueError:
        m = _DMS.match(text.replace(" ", ""))
        if m is None:
            raise ValueError(f"{text!r} is neither decimal degrees nor 度分秒") from None
        value = float(m[2]) + float(m[3] or 0) / 60 + float(m[4] or 0) / 3600
        if (m[1] or m[5]) in ("S", "W", "南", "西"):
            value = -value
    if not low <= value <= high:
        raise ValueError(f"{text!r} is outside {low:g}..{high:g}")
    return round(value, 6)


def sheet_rows(path: Path, sheet: str | None) -> tuple[str, list[list[Any]]]:
    """(sheet name, rows) with merged cells filled from their top-left cell."""
    if path.suffix.lower() == ".csv":
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                return "", list(csv.reader(raw.decode(encoding).splitlines()))
            except UnicodeDecodeError:
                continue
        raise LedgerError(f"{path}: neither UTF-8 nor GB18030 text")
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise LedgerError(f"{path}: cannot open as an Excel workbook: {exc}") from None
    if sheet is not None and sheet not in book.sheetnames:
        raise LedgerError(f"{path}: no sheet {sheet!r} (sheets: {', '.join(book.sheetnames)})")
    ws = book[sheet] if sheet is not None else book.worksheets[0]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    for merged in ws.merged_cells.ranges:
        top = rows[merged.min_row - 1][merged.min_col - 1]
        for r in range(merged.min_row, merged.max_row + 1):
            for c in range(merged.min_col, merged.max_col + 1):
                rows[r - 1][c - 1] = top
    return ws.title, rows


def find_header(rows: list[list[Any]], mapping: LedgerMap) -> tuple[int, dict[int, str]]:
    """(index of the last header row, column → field); two header rows are read together."""
    best, best_at = 0, -1
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        hits = len({mapping.columns[k] for k in map(header_key, row) if k in mapping.columns})
        if hits > best:
            best, best_at = hits, i
    if best_at < 0:
        raise LedgerError("no header row found (expected headers such as "
                          f"{', '.join(list(DEFAULT_COLUMNS)[:4])})")
    header_rows = [best_at]
    if best_at + 1 < len(rows) and any(header_key(v) in mapping.columns
                                       for v in rows[best_at + 1]):
        header_rows.append(best_at + 1)  # a merged group header above its sub-headers
    columns: dict[int, str] = {}
    for i in header_rows:
        for col, value in enumerate(rows[i]):
            name = mapping.columns.get(header_key(value))
            if name is not None and name not in columns.values():
                columns[col] = name
    for col, value in enumerate(rows[header_rows[-1]]):  # a sub-header wins over its group
        name = mapping.columns.get(header_key(value))
        if name is not None and columns.get(col) != name:
            columns = {c: n for c, n in columns.items() if n != name}
            columns[col] = name
    return header_rows[-1], columns


def device_of(cells: dict[str, str], county: str, mapping: LedgerMap) -> dict[str, str]:
    """One row's device, or ValueError saying what is wrong with it."""
    dev_id = cells.get("id", "").replace(" ", "")
    if not dev_id:
        raise ValueError("no 设备编号 (device id)")
    if not _ID.fullmatch(dev_id):
        raise ValueError(f"设备编号 {dev_id!r}: only letters, digits, '.', '_', ':', '-'")
    address = cells.get("address", "").replace(" ", "")
    try:
        address = str(ipaddress.ip_address(address))
    except ValueError:
        raise ValueError(f"IP地址 {address!r} is not an IP address") from None
    kind_text = cells.get("kind", "")
    kind = mapping.kinds.get(kind_text) or mapping.kinds.get(kind_text.replace(" ", ""))
    if kind is None:
        raise ValueError(f"设备类型 {kind_text!r} is not a known type (add it under kinds: "
                         "in the mapping file)")
    name = cells.get("name") or dev_id
    location = cells.get("location", "")
    if location and location not in name:
        name = f"{location}{name}"
    lat, lon = cells.get("lat", ""), cells.get("lon", "")
    if bool(lat) != bool(lon):
        raise ValueError("经度 and 纬度 must be given together")
    if lat:
        try:
            lat, lon = str(coordinate(lat, -90, 90)), str(coordinate(lon, -180, 180))
        except ValueError as exc:
            raise ValueError(f"coordinate {exc}") from None
    key_area = cells.get("key_area", "").lower()
    if key_area not in _TRUE | _FALSE:
        raise ValueError(f"key_area {key_area!r} is not yes/no")
    return {"id": dev_id, "kind": kind, "county": county, "address": address, "name": name,
            "lat": lat, "lon": lon, "parent": cells.get("parent", "").replace(" ", ""),
            "site": cells.get("site", ""), "key_area": "true" if key_area in _TRUE else "false"}


def read_ledger(path: Path, county: str, mapping: LedgerMap | None = None,
                sheet: str | None = None) -> LedgerResult:
    """Every row of the ledger as a device, or a problem naming its sheet and row."""
    mapping = mapping or LedgerMap()
    name, rows = sheet_rows(path, sheet)
    where = f"{path.name}:{name}!" if name else f"{path.name}:"
    try:
        header_at, columns = find_header(rows, mapping)
    except LedgerError as exc:
        raise LedgerError(f"{path}: {exc}") from None
    for needed in ("id", "address", "kind"):
        if needed not in columns.values():
            raise LedgerError(f"{path}: no column for {needed} (headers found: "
                              f"{', '.join(sorted(set(columns.values())))})")
    result = LedgerResult()
    seen: dict[str, tuple[int, dict[str, str]]] = {}
    by_name: dict[str, str] = {}
    left_out: dict[str, int] = {}  # id or name of a row reported → its row
    for number, row in enumerate(rows[header_at + 1:], start=header_at + 2):
        cells = {f: clean(row[c]) for c, f in columns.items() if c < len(row)}
        if not any(cells.values()):
            continue
        try:
            device = device_of(cells, county, mapping)
        except ValueError as exc:
            result.problems.append(LedgerProblem(f"{where}R{number}", str(exc)))
            for key in (cells.get("id", "").replace(" ", ""), cells.get("name", "")):
                if key:
                    left_out.setdefault(key, number)
            continue
        first = seen.get(device["id"])
        if first is not None:
            if first[1] == device:
                result.duplicates += 1
            else:
                result.problems.append(LedgerProblem(
                    f"{where}R{number}",
                    f"设备编号 {device['id']} again with different details (first at R{first[0]})"))
            continue
        seen[device["id"]] = (number, device)
        by_name.setdefault(cells.get("name", ""), device["id"])
        result.devices.append(device)
    row_of = {d["id"]: n for n, d in seen.values()}
    _resolve_parents(result, by_name, row_of, left_out, where)
    return result


def _resolve_parents(result: LedgerResult, by_name: Mapping[str, str], rows: Mapping[str, int],
                     left_out: dict[str, int], where: str) -> None:
    """上级设备 may name the parent by its 设备名称: use its id; a parent left out leaves too."""
    for device in result.devices:
        if device["parent"] and device["parent"] not in rows and device["parent"] in by_name:
            device["parent"] = by_name[device["parent"]]
    kept = list(result.devices)
    changed = True
    while changed:  # a child of a left-out device would fail the inventory's check
        changed = False
        for device in list(kept):
            parent = device["parent"]
            if parent and parent in left_out:
                kept.remove(device)
                left_out[device["id"]] = rows[device["id"]]
                result.problems.append(LedgerProblem(
                    f"{where}R{rows[device['id']]}",
                    f"上级设备 {parent} (R{left_out[parent]}) was left out"))
                changed = True
    result.devices = kept


def write_devices(devices: Iterable[dict[str, str]], out: Path) -> None:
    """The device CSV that an inventory's ``device_files`` entry reads."""
    with out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, OUTPUT_COLUMNS)
        writer.writeheader()
        writer.writerows(devices)
