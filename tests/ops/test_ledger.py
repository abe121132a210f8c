"""``netwatch inventory import``: messy ledgers made here become device CSVs ``check`` accepts."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from netwatch.inventory.ledger import LedgerMap, coordinate, kind_of, not_live

HEADERS = ["序号", "设备名称", "设备编号", "IP地址", "设备类型", "安装位置", "经度", "纬度",
           "所属派出所", "上级设备"]


def netwatch(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "netwatch", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def inventory_for(tmp_path: Path, csv_name: str) -> Path:
    path = tmp_path / "inventory.yaml"
    path.write_text(
        "city: {name: 测试市, timezone: Asia/Shanghai}\n"
        "counties:\n  - {id: xingan, name: 兴安区, receiving_unit: 兴安区公安分局}\n"
        "defaults:\n  switch: {checks: [icmp]}\n  trunking_site: {checks: [icmp]}\n"
        f"device_files:\n  - {{path: {csv_name}}}\n", encoding="utf-8")
    return path


def rows_of(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return {r["id"]: r for r in csv.DictReader(f)}


def save(book: openpyxl.Workbook, path: Path) -> Path:
    book.save(path)
    return path


def test_title_row_fullwidth_dms_spaces_duplicates(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Sheet1"
    ws.append(["兴安区视频监控设备台账（2026年）"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADERS))
    ws.append([" 设备名称 " if h == "设备名称" else h for h in HEADERS])
    ws.append([1, "核心交换机 ", "XA-SW-01", "１２７．６７．１．１", "交换机", "分局机房", 106.153,
               38.5867, "北塔派出所", None])
    ws.append([2, "球机", "34010000001320000001", "127。67。1。２ ", "球机 ", "人民路与黄河路路口",
               "106°13'53.4\"", "38°35'9\"", "北塔派出所 ", "核心交换机"])
    ws.append([3, "球机", "34010000001320000001", "127。67。1。２ ", "球机 ", "人民路与黄河路路口",
               "106°13'53.4\"", "38°35'9\"", "北塔派出所 ", "核心交换机"])  # pasted twice
    ws.append([None] * len(HEADERS))
    ws.append([4, "卡口", "34010000001320000002", "127.67.1.3", "卡口", None, "E106度1分30秒",
               "N38度30分", "新华派出所", "XA-SW-01"])
    ledger = save(book, tmp_path / "台账.xlsx")
    run = netwatch("inventory", "import", ledger, "--county", "xingan", "--out", "devices.csv",
                   cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "1 duplicate row(s) dropped" in run.stderr
    rows = rows_of(tmp_path / "devices.csv")
    assert list(rows) == ["XA-SW-01", "34010000001320000001", "34010000001320000002"]
    assert rows["XA-SW-01"] | {} == {**rows["XA-SW-01"], "address": "127.67.1.1",
                                     "kind": "switch", "name": "分局机房核心交换机"}
    cam = rows["34010000001320000001"]
    assert (cam["address"], cam["kind"], cam["site"], cam["parent"]) == (
        "127.67.1.2", "camera", "北塔派出所", "XA-SW-01")
    assert (cam["lon"], cam["lat"]) == ("106.2315", "38.585833")
    assert rows["34010000001320000002"]["lon"] == "106.025"
    check = netwatch("check", inventory_for(tmp_path, "devices.csv"), cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert "OK: 3 devices" in check.stdout


def test_two_level_merged_header_and_merged_station(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "设备"
    ws.append(["基本信息", None, "网络", None, "坐标", None, "管理"])
    ws.append(["设备名称", "设备编号", "IP地址", "设备类型", "经度", "纬度", "所属派出所"])
    for a, b in ((1, 2), (3, 4), (5, 6)):
        ws.merge_cells(start_row=1, start_column=a, end_row=1, end_column=b)
    ws.append(["会议终端一", "xa-vc-01", "127.67.2.1", "视频会议终端", 106.1, 38.5, "北塔派出所"])
    ws.append(["会议终端二", "xa-vc-02", "127.67.2.2", "视频会议终端", 106.2, 38.6, None])
    ws.merge_cells("G3:G4")  # one station for both rows, as ledgers often do
    ledger = save(book, tmp_path / "vc.xlsx")
    run = netwatch("inventory", "import", ledger, "--county", "xingan", "--out", "vc.csv",
                   cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    rows = rows_of(tmp_path / "vc.csv")
    assert [r["site"] for r in rows.values()] == ["北塔派出所", "北塔派出所"]
    assert [r["kind"] for r in rows.values()] == ["vc_endpoint", "vc_endpoint"]
    assert netwatch("check", inventory_for(tmp_path, "vc.csv"), cwd=tmp_path).returncode == 0


def test_bad_rows_reported_by_sheet_and_row_and_left_out(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Sheet1"
    ws.append(HEADERS)
    ws.append([1, "交换机", "sw-1", "127.67.3.1", "交换机", "", "", "", "", ""])
    ws.append([2, "坏地址", "cam-1", "127.67.3.300", "球机", "", "", "", "", "sw-1"])   # R3
    ws.append([3, "未知类型", "cam-2", "127.67.3.3", "打印机", "", "", "", "", "sw-1"])  # R4
    ws.append([4, "球机", "sw-1", "127.67.3.9", "球机", "", "", "", "", ""])           # R5
    ws.append([5, "坏坐标", "cam-3", "127.67.3.5", "球机", "", "200", "38", "", ""])    # R6
    ws.append([6, "坏交换机", "sw-2", "localhost", "交换机", "", "", "", "", ""])         # R7
    ws.append([7, "下挂球机", "cam-4", "127.67.3.7", "球机", "", "", "", "", "坏交换机"])  # R8
    ws.append([8, "好球机", "cam-5", "127.67.3.8", "球机", "", "", "", "", "sw-1"])
    ledger = save(book, tmp_path / "LEDGER.xlsx")
    run = netwatch("inventory", "import", ledger, "--county", "xingan", "--out", "out.csv",
                   cwd=tmp_path)
    assert run.returncode == 2
    problems = [ln for ln in run.stderr.splitlines() if ln.startswith("LEDGER.xlsx:")]
    assert [p.split(":", 2)[1] for p in problems] == [
        "Sheet1!R3", "Sheet1!R4", "Sheet1!R5", "Sheet1!R6", "Sheet1!R7", "Sheet1!R8"]
    assert "127.67.3.300" in problems[0] and "打印机" in problems[1]
    assert "first at R2" in problems[2] and "200" in problems[3]
    assert "上级设备 坏交换机 (R7) was left out" in problems[5]
    assert list(rows_of(tmp_path / "out.csv")) == ["sw-1", "cam-5"]
    assert netwatch("check", inventory_for(tmp_path, "out.csv"), cwd=tmp_path).returncode == 0


def test_gbk_csv_with_a_mapping_file_and_a_chosen_sheet(tmp_path: Path) -> None:
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns:\n  点位名称: name\n  国标编码: id\n  管理IP: address\n"
                       "  类别: kind\n  重点区域: key_area\nkinds:\n  高清卡口: camera\n",
                       encoding="utf-8")
    ledger = tmp_path / "ledger.csv"
    ledger.write_bytes("点位名称,国标编码,管理IP,类别,重点区域\n"
                       "火车站卡口,pc-cam-1,127.67.4.1,高清卡口,是\n".encode("gbk"))
    run = netwatch("inventory", "import", ledger, "--map", mapping, "--county", "xingan",
                   "--out", "pc.csv", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert rows_of(tmp_path / "pc.csv")["pc-cam-1"]["key_area"] == "true"

    book = openpyxl.Workbook()
    book.active.append(["说明：第二页是设备"])
    second = book.create_sheet("设备清单")
    second.append(["设备名称", "设备编号", "IP地址", "设备类型"])
    second.append(["基站", "ts-1", "127.67.4.2", "PDT基站"])
    xlsx = save(book, tmp_path / "two.xlsx")
    first = netwatch("inventory", "import", xlsx, "--county", "xingan", "--out", "x.csv",
                     cwd=tmp_path)
    assert first.returncode == 2 and "no header row" in first.stderr
    chosen = netwatch("inventory", "import", xlsx, "--sheet", "设备清单", "--county", "xingan",
                      "--out", "x.csv", cwd=tmp_path)
    assert chosen.returncode == 0, chosen.stderr
    assert rows_of(tmp_path / "x.csv")["ts-1"]["kind"] == "trunking_site"


@pytest.mark.parametrize(("text", "value"), [
    ("106°13'53.4\"", 106.2315), ("106度13分53.4秒", 106.2315), ("E106°13′53.4″", 106.2315),
    ("38.5", 38.5), ("西106度30分", -106.5), ("106° 30'", 106.5),
])
def test_coordinates(text: str, value: float) -> None:
    assert coordinate(text, -180, 180) == pytest.approx(value, abs=1e-6)


def test_coordinate_out_of_range_or_garbage() -> None:
    for text in ("200", "abc", "38度99"):
        with pytest.raises(ValueError):
            coordinate(text, -180, 180)


PC_INVENTORY = (
    "city: {name: 测试市, timezone: Asia/Shanghai}\n"
    "counties:\n"
    "  - {id: pingchuan, name: 平川县, receiving_unit: 平川县公安局, code: 640121}\n"
    "  - {id: xingan, name: 兴安区, receiving_unit: 兴安区公安分局}\n"
    "device_files:\n  - {path: pc.csv}\n")


def usual_ledger(path: Path, rows: list[list[object]], status: bool = False) -> Path:
    """The usual shape: title, 填报 line, two-level header, 国标编码 and 点位名称, 备注."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Sheet1"
    ws.append(["平川县视频监控点位台账"])
    ws.append(["填报单位：平川县公安局  填报日期：2026年11月"])
    ws.append(["序号", "点位信息", None, None, "网络", "设备编号", "备注"]
              + (["设备状态"] if status else []))
    ws.append([None, "国标编码", "点位名称", "设备类型", "IP地址", None, None])
    for cells in ("B3:D3", "A3:A4", "F3:F4"):  # 备注 and 设备状态 are left unmerged
        ws.merge_cells(cells)
    for row in rows:
        ws.append(row)
    return save(book, path)


def test_gb_code_and_point_name_are_the_defaults(tmp_path: Path) -> None:
    """国标编码 is the id (before 设备编号, which serves a row without one); 点位名称 the name."""
    ledger = usual_ledger(tmp_path / "平川县.xlsx", [
        [1, "64012100001320000001", "人民路口", "球机", "127.62.1.1", "PC-001", None],
        [2, None, "平川县局机房", "交换机", "127.62.1.2", "PC-SW-01", None],
        [3, "64012100001310000002", "黄河路口", "枪机", "127.62.1.3", "PC-003", None],
    ])
    run = netwatch("inventory", "import", ledger, "--county", "pingchuan", "--out", "pc.csv",
                   cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    rows = rows_of(tmp_path / "pc.csv")
    assert [(r["id"], r["name"], r["kind"]) for r in rows.values()] == [
        ("64012100001320000001", "人民路口", "camera"), ("PC-SW-01", "平川县局机房", "switch"),
        ("64012100001310000002", "黄河路口", "camera")]


def test_the_type_code_stands_in_for_a_blank_or_unknown_type(tmp_path: Path) -> None:
    """Digits 11-13 give the kind when 设备类型 does not; 118 (NVR) is no netwatch kind."""
    ledger = usual_ledger(tmp_path / "LEDGER.xlsx", [
        [1, "64012100001320000001", "人民路口", None, "127.62.2.1"],
        [2, "64012100001310000002", "黄河路口", "星光智能", "127.62.2.2"],
        [3, "64012100001180000003", "录像机", None, "127.62.2.3"],
        [4, None, "无编码", None, "127.62.2.4", "PC-4"],
        [5, "64012100001330000005", "大屏", "显示屏", "127.62.2.5"],
    ])
    run = netwatch("inventory", "import", ledger, "--county", "pingchuan", "--out", "pc.csv",
                   cwd=tmp_path)
    assert run.returncode == 2
    lines = [ln for ln in run.stderr.splitlines() if ln.startswith("LEDGER.xlsx:")]
    assert lines == [
        "LEDGER.xlsx:Sheet1!R6: warning: 设备类型 '星光智能' is not a known type: camera from"
        " the 国标编码's type code 131 (摄像机)",
        "LEDGER.xlsx:Sheet1!R7: 国标编码 64012100001180000003: type code 118 (网络视频录像机 NVR)"
        " is no kind netwatch monitors (trunking_site, vc_endpoint, camera, switch)",
        "LEDGER.xlsx:Sheet1!R8: no 设备类型 (device type), and the id is no 20-digit 国标编码 to"
        " take it from",
        "LEDGER.xlsx:Sheet1!R9: 国标编码 64012100001330000005: type code 133 (显示器) is no kind"
        " netwatch monitors (trunking_site, vc_endpoint, camera, switch), and 设备类型 '显示屏'"
        " is not a known type",
    ]
    assert [r["kind"] for r in rows_of(tmp_path / "pc.csv").values()] == ["camera", "camera"]


def test_a_code_of_another_division_is_kept_with_a_warning(tmp_path: Path) -> None:
    """counties[].code 640121: a device coded 640104 is imported, and a warning says so."""
    (tmp_path / "inventory.yaml").write_text(PC_INVENTORY, encoding="utf-8")
    ledger = usual_ledger(tmp_path / "LEDGER.xlsx", [
        [1, "64012100001320000001", "人民路口", "球机", "127.62.3.1"],
        [2, "64010400001320000002", "兴安路口", "球机", "127.62.3.2"],
    ])
    run = netwatch("inventory", "import", ledger, "--county", "pingchuan", "--out", "pc.csv",
                   cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert ("LEDGER.xlsx:Sheet1!R6: warning: 国标编码 64010400001320000002 names division 640104,"
            " county pingchuan is 640121: kept") in run.stderr.splitlines()
    assert "1 warning(s)" in run.stderr and "not checked" not in run.stderr
    assert len(rows_of(tmp_path / "pc.csv")) == 2
    check = netwatch("check", "inventory.yaml", cwd=tmp_path)
    assert "OK: 2 devices" in check.stdout, check.stderr


def test_the_county_is_checked_against_the_inventory_or_said_unchecked(tmp_path: Path) -> None:
    (tmp_path / "inventory.yaml").write_text(PC_INVENTORY, encoding="utf-8")
    ledger = usual_ledger(tmp_path / "LEDGER.xlsx", [
        [1, "64012100001320000001", "人民路口", "球机", "127.62.4.1"]])
    wrong = netwatch("inventory", "import", ledger, "--county", "pingchaun", "--out", "pc.csv",
                     cwd=tmp_path)
    assert wrong.returncode == 2
    assert wrong.stderr.strip() == ('inventory.yaml: unknown county "pingchaun" (did you mean'
                                    ' "pingchuan"?) (counties: pingchuan, xingan)')
    assert not (tmp_path / "pc.csv").exists()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    unchecked = netwatch("inventory", "import", ledger, "--county", "pingchaun", "--out",
                         "pc.csv", cwd=elsewhere)
    assert unchecked.returncode == 0, unchecked.stderr
    assert unchecked.stderr.splitlines()[0] == (
        "county pingchaun: not checked (no inventory; --inventory checks it and the division"
        " codes of the devices)")
    given = netwatch("inventory", "import", ledger, "--county", "xingan", "--inventory",
                     tmp_path / "inventory.yaml", "--out", "pc.csv", cwd=elsewhere)
    assert given.returncode == 0 and "not checked" not in given.stderr


def test_out_into_a_missing_directory_is_a_message(tmp_path: Path) -> None:
    ledger = usual_ledger(tmp_path / "LEDGER.xlsx", [
        [1, "64012100001320000001", "人民路口", "球机", "127.62.5.1"]])
    run = netwatch("inventory", "import", ledger, "--county", "pingchuan", "--out",
                   "no/such/dir/pc.csv", cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.strip() == ("no/such/dir/pc.csv: the directory no/such/dir does not exist"
                                  " (create it first)")


def test_a_code_excel_stored_as_a_number_is_refused(tmp_path: Path) -> None:
    """3.401020000131e19 reads back as another code: the row says to format the column as text."""
    ledger = usual_ledger(tmp_path / "LEDGER.xlsx", [
        [1, 3.4010200001310001e19, "人民路口", "球机", "127.62.6.1"],
        [2, None, "黄河路口", "球机", "127.62.6.2", 6.4012100001320003e19],
        [3, "3.40102E+19", "文本里的科学计数", "球机", "127.62.6.3"],
        [4, "64012100001320000004", "好的", "球机", "127.62.6.4", 6.4012100001320003e19],
        [5, None, "短编号", "球机", "127.62.6.5", 12345],
    ])
    run = netwatch("inventory", "import", ledger, "--county", "pingchuan", "--out", "pc.csv",
                   cwd=tmp_path)
    assert run.returncode == 2
    lines = [ln for ln in run.stderr.splitlines() if ln.startswith("LEDGER.xlsx:")]
    assert lines[0] == (
        "LEDGER.xlsx:Sheet1!R5: 国标编码 3.401020000131e+19 was stored as a number and has lost"
        " digits (Excel keeps 15): format the 国标编码 column as text (设置单元格格式 → 文本),"
        " type the codes again and import again")
    assert lines[1].startswith("LEDGER.xlsx:Sheet1!R6: 设备编号 6.401210000132e+19 was stored")
    assert lines[2].startswith("LEDGER.xlsx:Sheet1!R7: 国标编码 3.40102E+19 was stored as")
    assert len(lines) == 3  # R8's 设备编号 is not its id: its 国标编码 is
    assert list(rows_of(tmp_path / "pc.csv")) == ["64012100001320000004", "12345"]
    csv_ledger = tmp_path / "ledger.csv"
    csv_ledger.write_text("国标编码,IP地址,设备类型\n3.40102E+19,127.62.6.5,球机\n",
                          encoding="utf-8")
    from_csv = netwatch("inventory", "import", csv_ledger, "--county", "pingchuan", "--out",
                        "c.csv", cwd=tmp_path)
    assert "ledger.csv:R2: 国标编码 3.40102E+19 was stored as a number" in from_csv.stderr


COMMON_TYPES = [
    "人脸抓拍机", "电子警察", "全景摄像机", "治安卡口", "车辆卡口", "人像卡口", "高空瞭望",
    "热成像", "电子警察机", "治安卡口机", "高空瞭望摄像机", "热成像机", "热成像仪", "半球机",
    "人脸抓拍", "星光摄像机", "高清治安卡口",
]


@pytest.mark.parametrize("name", COMMON_TYPES)
def test_common_camera_type_names_are_cameras(name: str) -> None:
    assert kind_of(name, LedgerMap().kinds) == "camera"


def test_type_names_by_ending_and_the_refused(tmp_path: Path) -> None:
    kinds = LedgerMap().kinds
    names = ("三层交换机", "PDT 基站", "高清视频会议终端", "打印机")
    assert [kind_of(n, kinds) for n in names] == ["switch", "trunking_site", "vc_endpoint", None]
    ledger = tmp_path / "types.csv"
    ledger.write_text("设备编号,IP地址,设备类型\n" + "".join(
        f"cam-{i},127.62.7.{i},{name}\n" for i, name in enumerate(COMMON_TYPES, start=1)),
        encoding="utf-8")
    run = netwatch("inventory", "import", ledger, "--county", "xingan", "--out", "t.csv",
                   cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert {r["kind"] for r in rows_of(tmp_path / "t.csv").values()} == {"camera"}


def test_removed_and_unconnected_devices_are_notes_not_devices(tmp_path: Path) -> None:
    """备注 已拆除 or 状态 停用/未联网/在建: left out with a note each; exit 0 all the same."""
    ledger = usual_ledger(tmp_path / "LEDGER.xlsx", [
        [1, "64012100001320000001", "人民路口", "球机", "127.62.8.1", None, None, "在用"],
        [2, "64012100001320000002", "老城门", "球机", "127.62.8.2", None, "已拆除", None],
        [3, "64012100001320000003", "新区一路", "球机", "127.62.8.3", None, None, "停用"],
        [4, "64012100001320000004", "新区二路", "球机", "127.62.8.4", None, None, "未联网"],
        [5, "64012100001320000005", "新区三路", "球机", None, None, None, "在建"],
        [6, "PC-SW-9", "旧机房交换机", "交换机", "127.62.8.9", None, "2025年已拆除", None],
        [7, "64012100001320000007", "机房门口", "球机", "127.62.8.7", None, None, None],
    ], status=True)
    book = openpyxl.load_workbook(ledger)
    book.active.cell(row=4, column=9, value="上级设备")
    book.active.cell(row=11, column=9, value="旧机房交换机")
    book.save(ledger)
    run = netwatch("inventory", "import", ledger, "--county", "pingchuan", "--out", "pc.csv",
                   cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    lines = [ln for ln in run.stderr.splitlines() if ln.startswith("LEDGER.xlsx:")]
    assert lines == [
        "LEDGER.xlsx:Sheet1!R6: 已拆除 — not imported",
        "LEDGER.xlsx:Sheet1!R7: 停用 — not imported",
        "LEDGER.xlsx:Sheet1!R8: 未联网 — not imported",
        "LEDGER.xlsx:Sheet1!R9: 在建 — not imported",
        "LEDGER.xlsx:Sheet1!R10: 2025年已拆除 — not imported",
        "LEDGER.xlsx:Sheet1!R11: warning: 上级设备 旧机房交换机 (R10) is not imported"
        " (2025年已拆除): imported without a parent",
    ]
    assert "0 row(s) left out, 5 not imported (removed or not connected)" in run.stderr
    rows = rows_of(tmp_path / "pc.csv")
    assert list(rows) == ["64012100001320000001", "64012100001320000007"]
    assert rows["64012100001320000007"]["parent"] == ""


@pytest.mark.parametrize(("text", "live"), [
    ("已拆除", False), ("2025年已拆除", False), ("停用", False), ("未联网", False),
    ("未接入", False), ("在建", False), ("在建中", False), ("报废", False), ("在用", True),
    ("正常", True), ("未停用", True), ("待拆除", True), ("安装在建设路口", True), ("", True),
])
def test_which_status_or_note_means_not_on_the_network(text: str, live: bool) -> None:
    assert (not_live({"status": text}) is None) == live
    assert (not_live({"note": text}) is None) == live


def test_formula_text_is_neutralised_in_the_device_csv(tmp_path: Path) -> None:
    """安装位置 + 设备名称 joined as ``@SUM(1)=HYPERLINK(…)`` is written quoted; 所属派出所 too."""
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(
        "设备编号,设备名称,安装位置,IP地址,设备类型,所属派出所\n"
        'cam-1,"=HYPERLINK(""http://x"")",@SUM(1),127.62.9.1,球机,＝1+1\n'
        "cam-2,\u200b+球机,,127.62.9.2,球机, -1\n", encoding="utf-8")
    run = netwatch("inventory", "import", ledger, "--county", "xingan", "--out", "n.csv",
                   cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    rows = rows_of(tmp_path / "n.csv")
    assert rows["cam-1"]["name"] == "'@SUM(1)=HYPERLINK(\"http://x\")"
    assert rows["cam-1"]["site"] == "'=1+1"
    assert rows["cam-2"]["name"] == "'\u200b+球机" and rows["cam-2"]["site"] == "'-1"
