"""Every dashboard query returns data from a real Prometheus scraping a real ``netwatch demo``.

The demo city is moved to 127.113.x.y and played by its lab (root and nft needed);
``netwatch demo`` listens on 127.113.0.1 and Prometheus on 127.113.0.2, both on free
ports, with a copy of ``dashboards/prometheus`` scraping every second and the alert
rules' ``for:`` shortened to a second. Both are stopped by PID (SIGINT for the demo,
so its lab removes its firewall rules).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from netwatch.circulars import DECLARED_TODAY
from netwatch.inventory import DEMO_SECRETS, Inventory, demo_inventory_path, load_inventory
from netwatch.lab.process import terminate
from netwatch.lab.scenario import FLAPPING, expected_faults, load_scenario
from tests.daemon.city import move
from tests.daemon.test_daemon_e2e import poll
from tests.dashboards.grafana_node import dashboards, panel_report

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("nft") or not shutil.which("prometheus"),
    reason="the lab needs root and nft; the check needs /usr/bin/prometheus")

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "dashboards"
NET = 113
DEMO_HOST, PROMETHEUS_HOST = f"127.{NET}.0.1", f"127.{NET}.0.2"
ENV = {**os.environ, **DEMO_SECRETS, "NETWATCH_ALLOWED_NETS": f"127.{NET}.0.0/16"}
# linhe has every kind both working and broken; xingan's endpoints all sit behind a dead switch.
COUNTY = "linhe"
GRAFANA = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "5m",
           "${county}": COUNTY, "$county": COUNTY}
ALL_COUNTIES = ".*"  # what Grafana sends for the variable's All
# A healthy camera whose coordinates the test removes: the map must leave it off and count it.
NO_COORDINATES = "lh-cam-021"
LAB_TABLE = f"netwatch_lab_live{os.getpid()}"  # this run's own, so concurrent runs never clash
OUTAGES = frozenset({"unreachable", "service_down"})
SETTLE_SECONDS = 240.0  # faults open in ~20 s; notice items and the minute's notices take longer


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def grafana_to_promql(expr: str, county: str = COUNTY) -> str:
    for variable, value in GRAFANA.items():
        expr = expr.replace(variable, county if "county" in variable else value)
    assert "$" not in expr, expr
    return expr


def panel_queries() -> list[tuple[str, str]]:
    """(where, PromQL) for every target of every city dashboard (the province's reads a
    provincial Prometheus: test_federation.py)."""
    out = []
    for name, board in dashboards().items():
        for panel in board["panels"]:
            for target in panel["targets"]:
                where = f"{name} / {panel['title']} / {target['refId']}"
                out.append((where, grafana_to_promql(target["expr"])))
    return out


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


class Child:
    """A subprocess writing to a log file, stopped by PID with a chosen signal."""

    def __init__(self, args: list[str], log: Path, stop_signal: signal.Signals,
                 env: dict[str, str] = ENV) -> None:
        self.log = log
        self.stop_signal = stop_signal
        with log.open("ab") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=out, env=env)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 20.0) -> int:
        return terminate(self.proc, timeout, self.stop_signal)


@dataclass(frozen=True, slots=True)
class Stack:
    prometheus: str
    demo: str
    inventory: Inventory
    root: Path  # demo.log, the demo's state directory (database, notices)

    def api(self, path: str, **params: str) -> Any:
        status, body = get(f"{self.prometheus}/api/v1/{path}?{urllib.parse.urlencode(params)}")
        answer = json.loads(body) if body else {}
        assert status == 200 and answer.get("status") == "success", (path, params, body[:500])
        return answer["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        return list(self.api("query", query=expr)["result"])

    def answer(self, target: dict[str, Any], county: str) -> dict[str, Any]:
        """What Prometheus answers a panel's target: instant, or the last five minutes."""
        expr = grafana_to_promql(target["expr"], county)
        if target["instant"]:
            return dict(self.api("query", query=expr))
        end = time.time()
        return dict(self.api("query_range", query=expr, start=str(end - 300), end=str(end),
                             step="15"))

    def firing(self, alertname: str) -> list[dict[str, str]]:
        return [a["labels"] for a in self.api("alerts")["alerts"]
                if a["labels"]["alertname"] == alertname and a["state"] == "firing"]


def write_city(root: Path) -> Path:
    """The demo city moved to 127.113.x.y; returns its inventory."""
    demo = demo_inventory_path().parent
    for name in ("inventory.yaml", "cameras.csv"):
        (root / name).write_text(move((demo / name).read_text(encoding="utf-8"), NET),
                                 encoding="utf-8")
    cameras = (root / "cameras.csv").read_text(encoding="utf-8")
    placed = re.compile(rf"^({NO_COORDINATES},(?:[^,]*,){{4}})[^,]+,[^,]+,", re.M)
    cameras, count = placed.subn(r"\1,,", cameras)
    assert count == 1, "the demo's cameras changed shape"
    (root / "cameras.csv").write_text(cameras, encoding="utf-8")
    return root / "inventory.yaml"


def write_prometheus(root: Path, target: str) -> Path:
    """A copy of dashboards/prometheus scraping ``target`` every second, alerts after 1 s."""
    source = DASHBOARDS / "prometheus"
    config = (source / "prometheus.yml").read_text()
    for old, new in (("scrape_interval: 15s", "scrape_interval: 1s"),
                     ("evaluation_interval: 15s", "evaluation_interval: 1s"),
                     ("127.0.0.1:9810", target)):
        assert old in config, old
        config = config.replace(old, new)
    rules = (source / "rules" / "netwatch.rules.yml").read_text()
    fast, count = re.subn(r"^(\s+)for: \S+$", r"\1for: 1s", rules, flags=re.M)
    assert count == rules.count("for:"), "every for: is shortened"
    (root / "rules").mkdir(parents=True)
    (root / "rules" / "netwatch.rules.yml").write_text(fast)
    (root / "prometheus.yml").write_text(config)
    return root / "prometheus.yml"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("dashboards_live")
    (root / "city").mkdir()
    inventory_path = write_city(root / "city")
    demo_port, prometheus_port = free_port(DEMO_HOST), free_port(PROMETHEUS_HOST)
    demo_url = f"http://{DEMO_HOST}:{demo_port}"
    demo = Child([sys.executable, "-m", "netwatch", "demo", "--inventory",
                  str(inventory_path), "--listen", f"{DEMO_HOST}:{demo_port}",
                  "--state-dir", str(root / "state"), "--lab-table", LAB_TABLE],
                 root / "demo.log", signal.SIGINT)
    prometheus: Child | None = None
    try:
        poll("the demo's /metrics", lambda: not demo.alive() or get(demo_url + "/metrics")[0]
             == 200, 60.0)
        assert demo.alive(), (root / "demo.log").read_text()[-3000:]
        config = write_prometheus(root / "prometheus", f"{DEMO_HOST}:{demo_port}")
        prometheus_url = f"http://{PROMETHEUS_HOST}:{prometheus_port}"
        prometheus = Child(
            ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={root / 'tsdb'}",
             f"--web.listen-address={PROMETHEUS_HOST}:{prometheus_port}"],
            root / "prometheus.log", signal.SIGTERM)
        poll("Prometheus ready", lambda: not prometheus.alive()
             or get(prometheus_url + "/-/ready")[0] == 200, 60.0)
        assert prometheus.alive(), (root / "prometheus.log").read_text()[-3000:]
        inventory = load_inventory(inventory_path, env=ENV)
        live = Stack(prometheus_url, demo_url, inventory, root)
        poll("samples scraped from the demo", lambda: live.query(
            'up{job="netwatch"} == 1 and on () netwatch_ready == 1'), 60.0)
        yield live
    finally:
        if prometheus is not None:
            prometheus.stop()
        assert demo.stop() == 0, (root / "demo.log").read_text()[-3000:]


def test_the_county_variable_lists_the_demo_counties(stack: Stack) -> None:
    values = stack.api("label/county/values", **{"match[]": "netwatch_device_info"})
    assert sorted(values) == sorted(stack.inventory.counties)
    assert COUNTY in values


def test_broken_devices_fire_device_down_but_suppressed_children_do_not(stack: Stack) -> None:
    inventory = stack.inventory
    scenario = load_scenario(demo_inventory_path().with_name("scenario.yaml"), inventory)
    faults = {d: f for d, f in expected_faults(inventory, scenario).items() if f}
    parents = {d.id: d.parent for d in inventory.devices}
    declared = {DECLARED_TODAY[1]}  # its county declared its outage when the demo started
    down = {d for d, f in faults.items() if f in OUTAGES and faults.get(parents[d] or "")
            not in OUTAGES} - declared
    children = {d for d, f in faults.items() if f in OUTAGES} - down - declared
    flapping = {d for d, f in faults.items() if f == FLAPPING}  # may be caught while down
    assert down and children, "the demo scenario changed shape"
    firing = poll("a NetwatchDeviceDown alert for every broken device", lambda: (
        (seen := {a["device"] for a in stack.firing("NetwatchDeviceDown")}) >= down and seen),
        SETTLE_SECONDS)
    assert firing - down <= flapping
    suppressed = {r["metric"]["device"] for r in stack.query(
        'netwatch_fault_open{suppressed="true"}')}
    assert children <= suppressed  # the children's faults are open, only suppressed
    assert declared <= suppressed and not declared & firing  # planned work, never an alert
    [county] = stack.query('netwatch_devices_in_maintenance{source="county"} > 0')
    assert (county["metric"]["county"], county["value"][1]) == (DECLARED_TODAY[0], "1")
    for alert in stack.firing("NetwatchDeviceDown"):
        assert alert["severity"] == "critical"
        assert alert["name"] and alert["site"] and alert["county"]


def test_every_panel_query_returns_data(stack: Stack) -> None:
    queries = panel_queries()
    assert len(queries) > 30

    def empty() -> list[str]:
        return [f"{where}: {expr}" for where, expr in queries if not stack.query(expr)]

    deadline = time.monotonic() + SETTLE_SECONDS
    missing = empty()
    while missing and time.monotonic() < deadline:
        time.sleep(1.0)
        missing = empty()
    assert missing == [], "queries without data:\n" + "\n".join(missing)


def document_text(path: Path) -> str:
    """A written notice's text: PDFs through pdftotext, Word and Excel files' XML parts."""
    if path.suffix == ".pdf":
        return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout
    if path.suffix in (".docx", ".xlsx"):
        with zipfile.ZipFile(path) as parts:
            return "".join(parts.read(n).decode() for n in parts.namelist() if n.endswith(".xml"))
    return path.read_text()


def test_no_secret_in_log_metrics_api_or_notices(stack: Stack) -> None:
    """docs/security.md: the demo's SNMP secrets (v2c communities, v3 keys) appear in none of the
    demo's log, its metrics, its API answers or the notices it issued."""
    notices = stack.root / "state" / "notices"
    poll("a notice issued by the demo's schedule",
         lambda: any(notices.glob("*/*.json")), SETTLE_SECONDS + 60.0)
    log = (stack.root / "demo.log").read_text(errors="replace")
    token = re.search(r"admin token\s+(\S+)", log)
    assert token is not None, log[-2000:]
    texts = {"demo.log": log, "/metrics": get(stack.demo + "/metrics")[1].decode()}
    for path in ("/api/v1/devices?limit=1000", "/api/v1/faults?state=all",
                 "/api/v1/notices", "/api/v1/blind-spots", "/api/v1/points"):
        request = urllib.request.Request(stack.demo + path,
                                         headers={"Authorization": f"Bearer {token[1]}"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            texts[path] = answer.read().decode()
    # ".tmp-*" files are notices being written (temp file, then link): read finished ones
    texts |= {str(p): document_text(p) for p in notices.rglob("[!.]*") if p.is_file()}
    assert len(texts) > 7
    for secret in DEMO_SECRETS.values():
        assert [where for where, text in texts.items() if secret in text] == []


def scenario_outages(inventory: Inventory) -> tuple[set[str], set[str]]:
    """(devices the demo scenario takes down, devices it leaves without any fault)."""
    scenario = load_scenario(demo_inventory_path().with_name("scenario.yaml"), inventory)
    faults = expected_faults(inventory, scenario)
    return ({d for d, f in faults.items() if f in OUTAGES},
            {d.id for d in inventory.devices if not faults.get(d.id)})


def test_panels_read_real_answers_with_grafanas_own_code(stack: Stack, tmp_path: Path) -> None:
    """Every panel's real answers (all counties), framed as Grafana's Prometheus datasource
    frames them, through its transformations and field overrides with @grafana/data: every
    field a panel names exists, every table value column has a header, and the county map
    paints the scenario's down devices red and its blind points red; a worst-10 panel
    draws ten lines over the whole range."""
    down, healthy = scenario_outages(stack.inventory)
    poll("every device the scenario takes down reported down", lambda: {
        r["metric"]["device"] for r in stack.query("netwatch_device_up == 0")} >= down,
        SETTLE_SECONDS)
    boards = dashboards()

    def answered() -> dict[str, dict[int, dict[str, Any]]] | None:
        answers = {name: {panel["id"]: {t["refId"]: stack.answer(t, ALL_COUNTIES)
                                        for t in panel["targets"]} for panel in board["panels"]}
                   for name, board in boards.items()}
        return answers if all(a["result"] for board in answers.values()
                              for panel in board.values() for a in panel.values()) else None

    answers = poll("every panel query answered for all counties", answered, SETTLE_SECONDS)
    report = panel_report(boards, answers, tmp_path)
    worst = {(name, panel["title"]): len(answers[name][panel["id"]]["A"]["result"])
             for name, board in boards.items() for panel in board["panels"]
             if "(worst 10)" in panel["title"]}
    assert len(worst) == 2 and set(worst.values()) == {10}, worst  # ten lines over the range
    assert [(p["where"], p["missing"]) for p in report["panels"] if p["missing"]] == []
    assert [(p["where"], p["unnamed"]) for p in report["panels"] if p["unnamed"]] == []

    colour = {hex_: name for name, hex_ in report["palette"].items()}
    devices = {m["row"]["device"]: m for m in report["markers"] if m["layer"] == "Devices"}
    placed = {d.id for d in stack.inventory.devices} - {NO_COORDINATES}
    assert set(devices) == placed  # every device with coordinates, none without
    assert all(m["lat"] and m["lon"] for m in report["markers"]), "a marker at 0 °N 0 °E"
    painted = {d: colour.get(m["color"], m["color"]) for d, m in devices.items()}
    assert {d: painted[d] for d in down} == dict.fromkeys(down, "red")
    assert {d: painted[d] for d in healthy - {NO_COORDINATES}} == dict.fromkeys(
        healthy - {NO_COORDINATES}, "green")

    classes = poll("the demo's coverage analysed", lambda: {
        r["metric"]["point"]: r["metric"]["class"]
        for r in stack.query("netwatch_coverage_point_class == 1")}, SETTLE_SECONDS)
    points = {m["row"]["point"]: colour.get(m["color"], m["color"])
              for m in report["markers"] if m["layer"] == "Coverage points"}
    configured = {"good": "green", "fair": "yellow", "weak": "orange", "blind": "red",
                  "unsurveyed": "gray"}
    assert "blind" in classes.values(), "the demo has no blind point to show"
    assert points == {p: configured[c] for p, c in classes.items()}

    left_off = next(b for b in boards["netwatch-county"]["panels"]
                    if b["title"] == "Devices not on the map")
    counted = answers["netwatch-county"][left_off["id"]]["A"]["result"]
    assert [r["value"][1] for r in counted] == ["1"]
