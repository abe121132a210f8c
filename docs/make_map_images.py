"""Draws the README's map images from the demo city: ``docs/img/plan-map.png`` (a construction
plan's map) and ``docs/img/notice-map.png`` (a notice's map page, from its PDF).

临河县 of the shipped demo inventory gets blind readings in a dozen places (some
served by a site that is down, some by a site whose uplink is down, the rest true
holes) and a few devices down; the plan is analysed and the notice issued as
netwatch does it, in a database of a temporary directory, at a fixed time, so the
images change only when the drawing does. No network at all.

    PYTHONPATH=. python docs/make_map_images.py
"""

from __future__ import annotations

import random
import subprocess
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

from netwatch.coverage import analyse, candidates_of, plan_rows
from netwatch.coverage.plan import plan_map
from netwatch.inventory import demo_inventory_path, load_inventory, use_demo_secrets
from netwatch.maps import DISCLAIMER, render_svg, svg_to_png
from netwatch.notices import issue_notices
from netwatch.notices.pdf import render_pdf
from netwatch.store import FaultLog, NewEpisode, Store
from netwatch.survey import ingest

IMG = Path(__file__).resolve().parent / "img"
COUNTY = "linhe"
NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC).timestamp()  # 10:00 in the city
# (lat, lon, serving site named by the testers' phones, RSSI dBm): the blind places
BLIND = [(38.33, 105.88, "lh-ts-01", -116.0), (38.31, 105.95, "lh-ts-01", -119.0),
         (38.36, 105.92, "lh-ts-01", -113.0), (38.22, 106.18, "lh-ts-02", -115.0),
         (38.19, 106.22, "lh-ts-02", -121.0), (38.07, 105.86, None, -118.0),
         (38.05, 105.97, None, -114.0), (38.12, 106.05, None, -124.0),
         (38.27, 106.27, None, -112.0), (38.09, 106.25, None, -117.0),
         (38.38, 106.12, None, -113.5), (38.15, 105.83, None, -116.5)]
DOWN = [("lh-ts-01", "trunking_site", "unreachable"), ("lh-ts-02", "trunking_site",
                                                        "uplink_down")]


def readings() -> list[dict[str, object]]:
    rng = random.Random(26)
    rows: list[dict[str, object]] = []
    for n, (lat, lon, site, rssi) in enumerate(BLIND):
        for k in range(4):
            row: dict[str, object] = {
                "lat": round(lat + rng.uniform(-0.0005, 0.0005), 6),
                "lon": round(lon + rng.uniform(-0.0005, 0.0005), 6),
                "technology": "pdt", "rssi_dbm": rssi + k - 1.5,
                "taken_at": datetime.fromtimestamp(NOW - (n + 24 * k + 2) * 3600,
                                                   UTC).isoformat(),
                "client_id": f"images-{n}-{k}"}
            if site:
                row["serving_site"] = site
            rows.append(row)
    return rows


def faults(store: Store, devices: list[tuple[str, str, str]]) -> None:
    FaultLog(store).apply([NewEpisode(
        device=dev, county=COUNTY, kind=kind, fault=fault, first_seen=NOW - 3 * 86400,
        opened_at=NOW - 3 * 86400 + 180, suppressed_by=None, detail="icmp: timeout",
        evidence={"failed_checks": ["icmp: timeout"], "last_good": NOW - 3 * 86400 - 60})
        for dev, kind, fault in devices], [], [])


def main() -> None:
    use_demo_secrets()
    inventory = load_inventory(demo_inventory_path())
    cameras = [d for d in inventory.devices if d.county == COUNTY and d.kind == "camera"
               and d.lat is not None][:6]
    with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp) / "images.db") as store:
        ingest(store, inventory, "images", readings(), "import", NOW)
        faults(store, DOWN + [(c.id, "camera", "unreachable") for c in cameras])
        report = analyse(store, inventory, NOW)
        rows = plan_rows(report, inventory, COUNTY)
        plan_svg = render_svg(plan_map(rows, inventory, COUNTY))
        (IMG / "plan-map.png").write_bytes(svg_to_png(plan_svg, 1400))
        [outcome] = issue_notices(store, inventory, issue_date=date(2026, 12, 7), now=NOW,
                                  counties=[COUNTY], extra=candidates_of(report, inventory),
                                  coverage_judged=True)
        assert outcome.record is not None
        pdf = Path(tmp) / "notice.pdf"
        pdf.write_bytes(render_pdf(outcome.record))
        text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True,
                              capture_output=True, text=True).stdout.split("\f")
        page = next(n for n, words in enumerate(text, 1) if DISCLAIMER in words)
        subprocess.run(["pdftoppm", "-r", "90", "-f", str(page), "-l", str(page), "-png",
                        "-singlefile", str(pdf), str(IMG / "notice-map")], check=True)
    print(f"wrote {IMG / 'plan-map.png'} ({len(rows)} blind spots) and "
          f"{IMG / 'notice-map.png'} (page {page} of the notice)")


if __name__ == "__main__":
    main()
