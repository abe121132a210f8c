"""``netwatch inventory import``: messy ledgers made here become device CSVs ``check`` accepts."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from netwatch.inventory.ledger import coordinate

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
