"""Hostile files for ``netwatch inventory import`` (and the inventory YAML): time, peak RSS.

Builds in a temporary directory each hostile file the audits used, small on disk
(tests/ops/hostile_ledgers.py writes the .xlsx zips by hand), then reads each in a
fresh process, so that its peak RSS is its own, and prints the wall time of the
read, the process's peak RSS (the interpreter and imports alone are printed as
the baseline) and the first words of the message it was refused with. A 50,000-
row ledger that is accepted is measured the same way for comparison. Printed,
never asserted; nothing is sent anywhere.

    python bench/bench_ledger.py [--bomb-bytes 2000000000] [--rows 50000]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.ops import hostile_ledgers as h  # noqa: E402


def peak_mib() -> float:
    """This process's peak RSS: VmHWM (ru_maxrss would carry the parent's over exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def read_one(path: Path) -> None:
    """In the child: import, read one file, print one line of figures."""
    from netwatch.inventory import InventoryError, load_inventory
    from netwatch.inventory.ledger import LedgerError, read_ledger

    baseline = peak_mib()
    start = time.perf_counter()
    try:
        if path.suffix == ".yaml":
            load_inventory(path, env={})
            outcome = "accepted"
        else:
            result = read_ledger(path, "xingan")
            outcome = f"accepted: {len(result.devices):,} devices"
    except (LedgerError, InventoryError) as exc:
        outcome = "refused: " + str(exc).replace(str(path.parent) + "/", "")
    took = time.perf_counter() - start
    print(f"{took:8.3f} s  {peak_mib():7.1f} MiB (baseline {baseline:.1f})  {outcome[:110]}")


def yaml_bomb(path: Path) -> Path:
    """A list key of aliases that stand for a 1 MB string (the audit's alias-bomb remainder)."""
    path.write_text(
        "city: {name: 测试市, timezone: Asia/Shanghai}\n"
        "counties:\n  - {id: xingan, name: 兴安区, receiving_unit: 兴安区公安分局}\n"
        f"big: &a {'x' * 1_000_000}\n"
        "b: &b [" + ", ".join(["*a"] * 10) + "]\n"
        "c: &c [" + ", ".join(["*b"] * 10) + "]\n"
        "devices:\n  ? [" + ", ".join(["*c"] * 50) + "]\n  : 1\n", encoding="utf-8")
    return path


def full_string_table(limit: int = 16 * 1024 * 1024) -> str:
    """A shared string table of distinct short strings, as many as fit under ``limit``."""
    parts, size, i = [f'<sst xmlns="{h.NS}">'], 40, 0
    while size < limit - 64:
        item = f"<si><t>点位{i}</t></si>"
        parts.append(item)
        size += len(item.encode())
        i += 1
    return "".join(parts) + "</sst>"


def cases(directory: Path, bomb_bytes: int, rows: int) -> dict[str, Callable[[], Path]]:
    d = directory
    return {
        "one merged range A5:XFD1048576": lambda: h.merged_over_the_sheet(d / "merged.xlsx"),
        "1,000,000 rows of devices": lambda: h.many_rows(d / "rows.xlsx", 1_000_000),
        "1,000,000 empty rows": lambda: h.write_xlsx(d / "empty.xlsx", h.sheet(
            h.row(1, h.HEADER) if i == 0 else f'<row r="{i + 1}"/>'
            for i in range(1_000_000))),
        "a row at 1048576": lambda: h.write_xlsx(d / "far.xlsx", h.sheet(
            [h.row(1, h.HEADER), '<row r="1048576"><c r="A1048576"><v>1</v></c></row>'])),
        "a cell at column XFD": lambda: h.write_xlsx(d / "wide.xlsx", h.sheet(
            [h.row(1, h.HEADER), '<row r="2"><c r="XFD2"><v>1</v></c></row>'])),
        f"zip bomb ({bomb_bytes:,} bytes of sheet)": lambda: h.zip_bomb(d / "bomb.xlsx",
                                                                        bomb_bytes),
        "member lying about its size": lambda: h.declare_size(
            h.zip_bomb(d / "liar.xlsx", 50_000_000), "xl/worksheets/sheet1.xml", 100_000),
        "XML entity expansion (billion laughs)": lambda: h.write_xlsx(d / "laughs.xlsx", h.sheet(
            h.usual_rows(), head='<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">'
                                '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>')),
        "shared strings just under the 16 MiB cap": lambda: h.write_xlsx(
            d / "strings.xlsx", h.sheet(h.usual_rows()), strings=full_string_table()),
        "YAML: aliases of a 1 MB string in a key": lambda: yaml_bomb(d / "bomb.yaml"),
        f"a real-looking ledger of {rows:,} rows": lambda: h.many_rows(d / "ok.xlsx", rows),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bomb-bytes", type=int, default=2_000_000_000)
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--read", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.read:
        read_one(args.read)
        return
    with tempfile.TemporaryDirectory(prefix="nw-bench-ledger-") as tmp:
        for label, build in cases(Path(tmp), args.bomb_bytes, args.rows).items():
            path = build()
            print(f"== {label}: {path.name}, {path.stat().st_size:,} bytes on disk", flush=True)
            subprocess.run([sys.executable, __file__, "--read", str(path)], check=True,
                           cwd=ROOT)
            path.unlink()


if __name__ == "__main__":
    main()
