"""Device ledgers (设备台账) → the inventory's device CSV.

Counties keep their devices in Excel sheets whose headers are Chinese and whose
cells are typed by hand: full-width digits and dots in addresses, coordinates
in 度分秒, trailing spaces, a title row and merged header cells above the real
headers, the same row pasted twice, devices long removed still listed.
``read_ledger`` finds the header row, maps the headers to inventory fields
through a ``LedgerMap``, normalises each cell and returns the devices it could
map plus one ``LedgerProblem`` per row it could not, a note per row it leaves
out on purpose (removed, not connected) and a warning per row it keeps with a
doubt. Nothing is guessed silently: a row is either written as it will be
monitored or reported with its sheet and row number. The file itself is opened
by ``ledger_files`` (sizes capped, the sheet streamed); the GB/T 28181 code
(国标编码) is read by ``gb28181``.
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

from netwatch.inventory import gb28181
from netwatch.inventory.formulas import neutralise
from netwatch.inventory.ledger_files import LedgerError, ledger_rows
from netwatch.inventory.model import KINDS
from netwatch.inventory.yaml_lines import YamlSyntaxError, load_yaml

# header (normalised) → field. ``code`` (国标编码) is the id when a row has one, else
# ``id`` (设备编号); ``location`` and ``point`` are folded into the name; ``status``
# and ``note`` say whether the device is still there.
DEFAULT_COLUMNS: dict[str, str] = {
    "设备名称": "name", "设备编号": "id", "IP地址": "address", "设备类型": "kind",
    "安装位置": "location", "经度": "lon", "纬度": "lat", "所属派出所": "site",
    "上级设备": "parent", "国标编码": "code", "国标编号": "code", "国标ID": "code",
    "设备国标编码": "code", "点位名称": "point", "备注": "note", "状态": "status",
    "设备状态": "status", "使用状态": "status", "建设状态": "status",
}
_CAMERAS = (
    "摄像机", "摄像头", "球机", "枪机", "半球", "半球机", "筒机", "云台",
    "网络摄像机", "高清摄像机", "IPC", "视频监控", "抓拍机",
    "卡口", "治安卡口", "车辆卡口", "人像卡口", "人脸卡口", "公路卡口", "电子警察",
    "人脸抓拍", "人脸抓拍机", "人脸识别", "人脸识别机", "人像抓拍", "人像抓拍机",
    "全景", "全景机", "全景摄像机", "鹰眼", "高点监控",
    "高空瞭望", "高空瞭望机", "高空瞭望摄像机",
    "热成像", "热成像机", "热成像仪", "热成像摄像机", "红外热成像",
)
DEFAULT_KINDS: dict[str, str] = {
    **dict.fromkeys(_CAMERAS, "camera"),
    "视频会议终端": "vc_endpoint", "会议终端": "vc_endpoint", "视频会议": "vc_endpoint",
    "基站": "trunking_site", "集群基站": "trunking_site", "PDT基站": "trunking_site",
    "交换机": "switch", "接入交换机": "switch", "核心交换机": "switch", "汇聚交换机": "switch",
    **{k: k for k in KINDS},
}
# a type name not listed: its ending decides (高清治安卡口, 星光摄像机, 三层交换机, …)
SUFFIX_KINDS: tuple[tuple[str, str], ...] = (
    ("摄像机", "camera"), ("摄像头", "camera"), ("相机", "camera"), ("卡口", "camera"),
    ("抓拍机", "camera"), ("球机", "camera"), ("枪机", "camera"), ("交换机", "switch"),
    ("会议终端", "vc_endpoint"), ("基站", "trunking_site"),
)
# a 状态 or 备注 saying one of these: the device is not (or no longer) on the network.
# 未停用 and 待拆除 are still there; 在建 counts alone (在建中), not in 在建设路口.
NOT_LIVE = re.compile(r"(?<![未不待])(?:拆除|已拆|停用|报废|已移除)|未联网|未接入"
                      r"|^在建(?=$|中|[，,。.;；:：\s(（])")
FIELDS = ("id", "code", "name", "point", "address", "kind", "location", "lat", "lon", "site",
          "parent", "key_area", "status", "note")
ID_FIELDS = {"id": "设备编号", "code": "国标编码", "parent": "上级设备"}
OUTPUT_COLUMNS = ("id", "kind", "county", "address", "name", "lat", "lon", "parent", "site",
                  "key_area")
HEADER_SCAN_ROWS = 15  # a title, a date line, a two-level header: the headers are near the top
_ID = re.compile(r"[\w.:-]+")
_SCIENTIFIC = re.compile(r"[0-9](?:\.[0-9]+)?[eE][+]?[0-9]+")
EXACT_DIGITS = 15  # what Excel keeps of a number: a longer code typed as one loses the rest
_DMS = re.compile(r"^([NSEW北南东西]?)\D*?(\d+(?:\.\d+)?)\s*[°度]\s*(?:(\d+(?:\.\d+)?)\s*['′’分])?"
                  r"\s*(?:(\d+(?:\.\d+)?)\s*(?:\"|″|”|''|′′|秒))?\s*([NSEW北南东西]?)$")
_TRUE = {"true", "yes", "1", "是", "y", "重点"}
_FALSE = {"false", "no", "0", "否", "n", ""}


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
    problems: list[LedgerProblem] = field(default_factory=list)  # rows left out: errors
    notes: list[LedgerProblem] = field(default_factory=list)  # rows left out: not live
    warnings: list[LedgerProblem] = field(default_factory=list)  # rows kept, with a doubt
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
    """A mapping file: ``columns: {表头: field}`` and ``kinds: {类型: kind}``, both optional.

    Read by the inventory's own YAML reader, with its limits on aliases and size."""
    try:
        doc = load_yaml(path.read_text(encoding="utf-8"))[0] or {}
    except (OSError, UnicodeDecodeError) as exc:
        raise LedgerError(f"{path}: cannot read the mapping: {exc}") from None
    except YamlSyntaxError as exc:
        raise LedgerError(f"{path}:{exc.line}: {exc.message}") from None
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
    def has_headers(i: int) -> bool:
        return 0 <= i < len(rows) and any(header_key(v) in mapping.columns for v in rows[i])

    # a two-level header: group cells (some headers among them) above their sub-headers
    header_rows = ([best_at, best_at + 1] if has_headers(best_at + 1)
                   else [best_at - 1, best_at] if has_headers(best_at - 1) else [best_at])
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


def kind_of(text: str, kinds: Mapping[str, str]) -> str | None:
    """The kind a type name means: listed (also with or without a final 机), else its ending."""
    for name in (text, text.replace(" ", "")):
        found = kinds.get(name)
        if found is None and name.endswith("机"):
            found = kinds.get(name[:-1])
        if found is None:
            found = kinds.get(name + "机")
        if found is not None:
            return found
    compact = text.replace(" ", "")
    return next((kind for suffix, kind in SUFFIX_KINDS if compact.endswith(suffix)), None)


def not_live(cells: Mapping[str, str]) -> str | None:
    """What the 状态 or 备注 says when the device is not on the network, else None."""
    for name in ("status", "note"):
        text = cells.get(name, "")
        if text and NOT_LIVE.search(text):
            return text if len(text) <= 40 else text[:40] + "…"
    return None


def lost_digits(raw: Mapping[str, Any]) -> str | None:
    """Why the id (or 上级设备) cannot be trusted: a long code Excel stored as a number."""
    used = ("code",) if raw.get("code") not in (None, "") else ("id",)
    for name in (*used, "parent"):
        label, value = ID_FIELDS[name], raw.get(name)
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int | float):
            if (isinstance(value, float) and not value.is_integer()
                    or abs(value) < 10**EXACT_DIGITS):
                continue
        elif not (isinstance(value, str) and _SCIENTIFIC.fullmatch(clean(value))):
            continue
        return (f"{label} {clean(value) if isinstance(value, str) else repr(value)} was stored as"
                f" a number and has lost digits (Excel keeps {EXACT_DIGITS}): format the"
                f" {label} column as text (设置单元格格式 → 文本), type the codes again and"
                " import again")
    return None


@dataclass(frozen=True, slots=True)
class RowContext:
    """What every row of one ledger is read against."""

    county: str
    mapping: LedgerMap
    division: str = ""  # the county's division code, when the inventory gives one
    id_label: str = "设备编号"


def device_of(cells: dict[str, str], ctx: RowContext) -> tuple[dict[str, str], list[str]]:
    """One row's device and the doubts about it, or ValueError saying what is wrong."""
    dev_id = (cells.get("code") or cells.get("id", "")).replace(" ", "")
    if not dev_id:
        raise ValueError(f"no {ctx.id_label} (device id)")
    if not _ID.fullmatch(dev_id):
        raise ValueError(f"{ctx.id_label} {dev_id!r}: only letters, digits, '.', '_', ':', '-'")
    address = cells.get("address", "").replace(" ", "")
    try:
        address = str(ipaddress.ip_address(address))
    except ValueError:
        raise ValueError(f"IP地址 {address!r} is not an IP address") from None
    doubts: list[str] = []
    code = gb28181.parse(dev_id)
    kind = _kind(cells.get("kind", ""), code, ctx, doubts)
    if code is not None and ctx.division and code.division != ctx.division:
        doubts.append(f"国标编码 {dev_id} names division {code.division}, county {ctx.county}"
                      f" is {ctx.division}: kept")
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
    return {"id": dev_id, "kind": kind, "county": ctx.county, "address": address,
            "name": neutralise(_name(cells, dev_id)), "lat": lat, "lon": lon,
            "parent": cells.get("parent", "").replace(" ", ""),
            "site": neutralise(cells.get("site", "")),
            "key_area": "true" if key_area in _TRUE else "false"}, doubts


def _kind(text: str, code: gb28181.GbCode | None, ctx: RowContext, doubts: list[str]) -> str:
    """The 设备类型's kind; else the kind of the 国标编码's type code."""
    kind = kind_of(text, ctx.mapping.kinds) if text else None
    if kind is not None:
        return kind
    if code is None:
        if not text:
            raise ValueError("no 设备类型 (device type), and the id is no 20-digit 国标编码"
                             " to take it from")
        raise ValueError(f"设备类型 {text!r} is not a known type (add it under kinds: "
                         "in the mapping file)")
    if code.kind is None:
        raise ValueError(f"国标编码 {code.code}: type code {code.type_code} ({code.type_name})"
                         f" is no kind netwatch monitors ({', '.join(KINDS)})"
                         + (f", and 设备类型 {text!r} is not a known type" if text else ""))
    if text:
        doubts.append(f"设备类型 {text!r} is not a known type: {code.kind} from the 国标编码's"
                      f" type code {code.type_code} ({code.type_name})")
    return code.kind


def _name(cells: Mapping[str, str], dev_id: str) -> str:
    """设备名称, else 点位名称, else the id; 安装位置 (and 点位名称 beside a 设备名称) in front."""
    own = cells.get("name", "")
    name = own or cells.get("point", "") or dev_id
    for prefix in (cells.get("point", "") if own else "", cells.get("location", "")):
        if prefix and prefix not in name:
            name = f"{prefix}{name}"
    return name


def read_ledger(path: Path, county: str, mapping: LedgerMap | None = None,
                sheet: str | None = None, division: str = "") -> LedgerResult:
    """Every row of the ledger as a device, or a problem, note or warning naming its row.

    ``division`` is the county's 6-digit division code when known: a device whose
    国标编码 names another division is kept with a warning.
    """
    mapping = mapping or LedgerMap()
    with ledger_rows(path, sheet) as (name, rows):
        head: list[tuple[int, list[Any]]] = []
        for item in rows:
            head.append(item)
            if len(head) >= HEADER_SCAN_ROWS:
                break
        try:
            header_at, columns = find_header([r for _, r in head], mapping)
        except LedgerError as exc:
            raise LedgerError(f"{path}: {exc}") from None
        found = set(columns.values())
        for needed, label in ((("id", "code"), "id"), (("address",), "address"),
                              (("kind", "code"), "kind")):
            if not found & set(needed):
                raise LedgerError(f"{path}: no column for {label} (headers found: "
                                  f"{', '.join(sorted(found))})")
        id_label = " or ".join(ID_FIELDS[f] for f in ("code", "id") if f in found)
        ctx = RowContext(county, mapping, division, id_label)
        reading = _Reading(f"{path.name}:{name}!" if name else f"{path.name}:", ctx)
        for number, row in head[header_at + 1:]:
            reading.row(number, row, columns)
        for number, row in rows:
            reading.row(number, row, columns)
    return reading.finish()


class _Reading:
    """The rows of one ledger on their way to devices, problems, notes and warnings."""

    def __init__(self, where: str, ctx: RowContext) -> None:
        self.where = where
        self.ctx = ctx
        self.result = LedgerResult()
        self.seen: dict[str, tuple[int, dict[str, str]]] = {}
        self.by_name: dict[str, str] = {}
        self.left_out: dict[str, tuple[int, str]] = {}  # id or name → (row, why)

    def row(self, number: int, row: list[Any], columns: Mapping[int, str]) -> None:
        raw = {f: row[c] for c, f in columns.items() if c < len(row)}
        cells = {f: clean(v) for f, v in raw.items()}
        if not any(cells.values()):
            return
        here = f"{self.where}R{number}"
        keys = [k for k in (cells.get("code", "").replace(" ", ""),
                            cells.get("id", "").replace(" ", ""), cells.get("name", ""),
                            cells.get("point", "")) if k]
        status = not_live(cells)
        if status is not None:
            self.result.notes.append(LedgerProblem(here, f"{status} — not imported"))
            for key in keys:
                self.left_out.setdefault(key, (number, f"is not imported ({status})"))
            return
        try:
            reason = lost_digits(raw)
            if reason is not None:
                raise ValueError(reason)
            device, doubts = device_of(cells, self.ctx)
        except ValueError as exc:
            self.result.problems.append(LedgerProblem(here, str(exc)))
            for key in keys:
                self.left_out.setdefault(key, (number, "was left out"))
            return
        first = self.seen.get(device["id"])
        if first is not None:
            if first[1] == device:
                self.result.duplicates += 1
            else:
                self.result.problems.append(LedgerProblem(
                    here, f"{self.ctx.id_label} {device['id']} again with different details"
                          f" (first at R{first[0]})"))
            return
        self.result.warnings += [LedgerProblem(here, doubt) for doubt in doubts]
        self.seen[device["id"]] = (number, device)
        for key in (cells.get("name", ""), cells.get("point", "")):
            if key:
                self.by_name.setdefault(key, device["id"])
        self.result.devices.append(device)

    def finish(self) -> LedgerResult:
        """Parents named by their name get their id; a device under a left-out one leaves."""
        result, rows = self.result, {d["id"]: n for n, d in self.seen.values()}
        alive = set(rows)
        for device in result.devices:
            parent = device["parent"]
            if parent and parent not in rows and parent in self.by_name:
                device["parent"] = self.by_name[parent]
        kept = list(result.devices)
        changed = True
        while changed:  # a child of a left-out device would fail the inventory's check
            changed = False
            for device in list(kept):
                parent = device["parent"]
                if not parent or parent in alive or parent not in self.left_out:
                    continue  # no parent, a kept one, or one the inventory check will name
                at, why = self.left_out[parent]
                here = f"{self.where}R{rows[device['id']]}"
                if why.startswith("is not imported"):  # the device is there, its parent not
                    device["parent"] = ""
                    result.warnings.append(LedgerProblem(
                        here, f"上级设备 {parent} (R{at}) {why}: imported without a parent"))
                    continue
                kept.remove(device)
                alive.discard(device["id"])
                self.left_out[device["id"]] = (rows[device["id"]], "was left out")
                result.problems.append(LedgerProblem(here, f"上级设备 {parent} (R{at}) {why}"))
                changed = True
        result.devices = kept
        return result


def write_devices(devices: Iterable[dict[str, str]], out: Path) -> None:
    """The device CSV that an inventory's ``device_files`` entry reads."""
    with out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, OUTPUT_COLUMNS)
        writer.writeheader()
        writer.writerows(devices)
