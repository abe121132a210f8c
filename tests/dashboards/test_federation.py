"""A city Prometheus over two netwatch instances, a provincial Prometheus federating it.

Two ``netwatch run`` instances over one database share a city by leases: ``a`` is
started for north and east, ``b`` for south and west (``--counties``), each active for
its own, so a county's series come from one instance only. They watch small ICMP-only
counties on 127.77.1.x and 127.77.2.x, played by the device lab (root and nft: a few
devices dropped, so the counties rank apart). A real Prometheus (copies of
``dashboards/prometheus``: the city's config and rules, the province's federation, every
interval one second) scrapes both, and a second one federates its recording rules as the
province does. The province ranks every county with its ``city``; every province panel
answers, through Grafana's own transformations.

Then a failover: a third instance ``c`` is started for a's counties and stands by (it
exports none of their series: nothing counted twice, one active instance per county);
``a`` stops and ``c`` takes its counties over (another ``instance`` label). Every county
keeps one series in the city's dashboards, the rules and the province. Everything is
stopped by PID.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from netwatch.lab.process import LabProcess
from tests.daemon.test_daemon_e2e import poll
from tests.dashboards.grafana_node import FILES, PROVINCE, dashboards, panel_report
from tests.dashboards.test_live import Child, free_port, get, grafana_to_promql
from tests.dashboards.test_structure import federation_match
from tests.lab.labkit import queue_number

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("nft") or not shutil.which("prometheus"),
    reason="the lab needs root and nft; the check needs /usr/bin/prometheus")

PROMETHEUS_DIR = Path(__file__).resolve().parents[2] / "dashboards" / "prometheus"
NET = "127.77"
HOSTS = {"a": f"{NET}.0.1", "b": f"{NET}.0.2", "c": f"{NET}.0.5"}  # c takes over a's counties
CITY_HOST, PROVINCE_HOST = f"{NET}.0.3", f"{NET}.0.4"
ENV = {**os.environ, "NETWATCH_ALLOWED_NETS": f"{NET}.0.0/16"}
CITY = "fedtown"
COUNTIES = {"a": ("north", "east"), "b": ("south", "west")}
KINDS = (("camera", "cam", 4), ("switch", "sw", 2), ("vc_endpoint", "vc", 2))
DOWN = {"east": ("ea-cam-1",), "south": ("so-cam-1", "so-cam-2"),
        "west": ("we-cam-1", "we-sw-1", "we-vc-1")}
NO_COORDINATES = "no-cam-4"
DEVICES_PER_COUNTY = sum(n for _, _, n in KINDS)
RATES = {c: 1 - len(DOWN.get(c, ())) / DEVICES_PER_COUNTY
         for owned in COUNTIES.values() for c in owned}  # north 1, east .875, south .75, ...
TARGETS = {"camera": 0.95, "switch": 0.98, "vc_endpoint": 0.95}  # the inventory defaults
SETTLE_SECONDS = 60.0
ALL = ".*"


def devices(county: str, subnet: int, first: int) -> list[str]:
    """The county's inventory lines: each kind's devices on 127.77.<subnet>.<first + i>."""
    lines = []
    n = first
    for kind, tag, count in KINDS:
        for i in range(1, count + 1):
            ident = f"{county[:2]}-{tag}-{i}"
            place = "" if ident == NO_COORDINATES else f", lat: 38.{n:02d}, lon: 106.{n:02d}"
            lines.append(f"  - {{id: {ident}, kind: {kind}, county: {county}, "
                         f"address: {NET}.{subnet}.{n}, name: {county} {kind} {i}{place}}}\n")
            n += 1
    return lines


def inventory(counties: tuple[str, ...]) -> str:
    """Counties of Fedtown, every device ICMP only, swept every second."""
    text = "city: {name: Fedtown, timezone: Asia/Shanghai}\ncounties:\n"
    text += "".join(f"  - {{id: {c}, name: {c.title()}, receiving_unit: {c.title()} PSB}}\n"
                    for c in counties)
    text += "defaults:\n" + "".join(f"  {kind}: {{checks: [icmp], interval: 1s, timeout: 500ms}}\n"
                                    for kind, _, _ in KINDS)
    text += "devices:\n"
    for instance, owned in COUNTIES.items():
        subnet = 1 if instance == "a" else 2
        for index, county in enumerate(owned):
            if county in counties:
                text += "".join(devices(county, subnet, 1 + 20 * index))
    return text


def scenario() -> str:
    return "faults:\n" + "".join(f"  - {{device: {d}, fault: unreachable}}\n"
                                 for down in DOWN.values() for d in down)


def city_config(root: Path, ports: dict[str, int]) -> Path:
    """dashboards/prometheus for this city: every instance a target, one-second intervals."""
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    assert config["global"]["external_labels"] == {"city": "CITY_ID"}
    config["global"].update(scrape_interval="1s", evaluation_interval="1s",
                            external_labels={"city": CITY})
    [job] = config["scrape_configs"]
    assert job["job_name"] == "netwatch"
    job["static_configs"] = [{"targets": [f"{HOSTS[i]}:{ports[i]}"],
                              "labels": {"instance": f"netwatch-{i}"}} for i in HOSTS]
    (root / "rules").mkdir(parents=True)
    shutil.copy(PROMETHEUS_DIR / "rules" / "netwatch.rules.yml", root / "rules")
    (root / "prometheus.yml").write_text(yaml.safe_dump(config))
    return root / "prometheus.yml"


def province_config(root: Path, city_url: str) -> Path:
    """province.yml federating this city's Prometheus every second (its match[] as shipped)."""
    config = yaml.safe_load((PROMETHEUS_DIR / "province.yml").read_text())
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    [job] = config["scrape_configs"]
    assert job["job_name"] == "netwatch-federate"
    job["static_configs"] = [{"targets": [city_url.removeprefix("http://")],
                              "labels": {"city": CITY}}]
    root.mkdir(parents=True)
    (root / "province.yml").write_text(yaml.safe_dump(config))
    return root / "province.yml"


@dataclass(frozen=True, slots=True)
class Prometheus:
    url: str

    def api(self, path: str, **params: str) -> Any:
        status, body = get(f"{self.url}/api/v1/{path}?{urllib.parse.urlencode(params)}")
        assert status == 200, (path, params, body[:500])
        return json.loads(body)["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        return list(self.api("query", query=expr)["result"])

    def values(self, expr: str, *labels: str) -> dict[tuple[str, ...], float]:
        return {tuple(r["metric"].get(n, "") for n in labels): float(r["value"][1])
                for r in self.query(expr)}

    def answer(self, target: dict[str, Any], seconds: float = 300.0) -> dict[str, Any]:
        """A panel target's answer with every variable at *All*: instant, or a range."""
        expr = grafana_to_promql(target["expr"].replace("$city", ALL), ALL)
        if target["instant"]:
            return dict(self.api("query", query=expr))
        end = time.time()
        return dict(self.api("query_range", query=expr, start=str(end - seconds),
                             end=str(end), step="1"))


@dataclass(slots=True)
class Federation:
    root: Path
    city: Prometheus
    province: Prometheus
    ports: dict[str, int]
    started: float
    instances: dict[str, Child] = field(default_factory=dict)

    def start_instance(self, name: str, counties: tuple[str, ...]) -> Child:
        """``netwatch run`` over the city's one inventory and database, for ``counties``."""
        child = Child([sys.executable, "-m", "netwatch", "run", str(self.root / "lab.yaml"),
                       "--listen", f"{HOSTS[name]}:{self.ports[name]}",
                       "--db", str(self.root / "city.db"), "--counties", ",".join(counties),
                       "--instance", f"netwatch-{name}", "--lease-ttl", "15",
                       "--notices-dir", str(self.root / f"notices-{name}")],
                      self.root / f"{name}.log", signal.SIGTERM, ENV)
        self.instances[name] = child
        url = f"http://{HOSTS[name]}:{self.ports[name]}/metrics"
        poll(f"instance {name}'s /metrics", lambda: not child.alive() or get(url)[0] == 200)
        assert child.alive(), (self.root / f"{name}.log").read_text()[-3000:]
        return child


def start_prometheus(config: Path, server: Prometheus, started: list[Child]) -> None:
    """Prometheus on ``config`` (its data and log beside it) as ``server``, until ready;
    ``started`` gets it, to be stopped."""
    log = config.with_suffix(".log")
    child = Child(["prometheus", f"--config.file={config}",
                   f"--storage.tsdb.path={config.parent / 'tsdb'}",
                   f"--web.listen-address={server.url.removeprefix('http://')}"],
                  log, signal.SIGTERM, ENV)
    started.append(child)
    poll("Prometheus ready",
         lambda: not child.alive() or get(server.url + "/-/ready")[0] == 200)
    assert child.alive(), log.read_text()[-3000:]


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    root = tmp_path_factory.mktemp("federation")
    ports = {name: free_port(host) for name, host in HOSTS.items()}
    (root / "lab.yaml").write_text(inventory(tuple(c for cs in COUNTIES.values() for c in cs)))
    (root / "scenario.yaml").write_text(scenario())
    prometheus: list[Child] = []
    with LabProcess(root / "lab.yaml", root / "scenario.yaml", table=f"nwfed{os.getpid()}",
                    env=ENV, extra_args=("--queue", str(queue_number(7)))):
        town = Federation(root, *(Prometheus(f"http://{host}:{free_port(host)}")
                                  for host in (CITY_HOST, PROVINCE_HOST)), ports, time.time())
        try:
            for name in ("a", "b"):
                town.start_instance(name, COUNTIES[name])
            start_prometheus(city_config(root / "city", ports), town.city, prometheus)
            start_prometheus(province_config(root / "province", town.city.url), town.province,
                             prometheus)
            yield town
        finally:
            for child in prometheus[::-1]:
                child.stop()
            statuses = {name: child.stop() for name, child in town.instances.items()}
            assert set(statuses.values()) <= {0}, statuses


def ranking_target() -> dict[str, Any]:
    board = dashboards(FILES)[PROVINCE]
    [panel] = [p for p in board["panels"] if p["title"].startswith("County ranking")]
    [target] = panel["targets"]
    return dict(target)


def ranked(town: Federation) -> list[tuple[str, str, float]]:
    answer = town.province.answer(ranking_target())
    return [(r["metric"].get("city", ""), r["metric"]["county"], float(r["value"][1]))
            for r in answer["result"]]


def expected_ranking() -> list[tuple[str, str, float]]:
    return sorted(((CITY, c, rate) for c, rate in RATES.items()), key=lambda r: -r[2])


def as_expected(rows: list[tuple[str, str, float]]) -> bool:
    expected = expected_ranking()
    return ([r[:2] for r in rows] == [e[:2] for e in expected]
            and [r[2] for r in rows] == pytest.approx([e[2] for e in expected]))


def test_a_province_query_ranks_every_county_of_both_instances(federation: Federation) -> None:
    """The dashboard's county ranking at the province: every county of both instances,
    labelled with its city, best first, each at its share of devices up."""
    got = poll("every county ranked at the province", lambda: (
        rows if as_expected(rows := ranked(federation)) else None), SETTLE_SECONDS)
    assert {county for _, county, _ in got} == {c for cs in COUNTIES.values() for c in cs}
    assert all(city == CITY and 0 <= value <= 1 for city, _, value in got)
    values = [value for _, _, value in got]
    assert values == sorted(values, reverse=True) and len(set(values)) == len(values)
    assert [county for _, county, _ in got] == ["north", "east", "south", "west"]


def test_the_province_holds_the_recording_rules_only(federation: Federation) -> None:
    """Only what province.yml's match[] selects crosses: no per-device series, nothing a
    netwatch instance exports itself (besides the province's own scrape series)."""
    match = federation_match()
    names = set(federation.province.api("label/__name__/values"))
    federated = {n for n in names if n != "up" and not n.startswith("scrape_")}
    assert federated and all(match.fullmatch(n) for n in federated), names
    assert federation.province.query('{__name__=~".+", device!=""}') == []


def test_every_province_panel_answers_through_grafanas_own_code(
        federation: Federation, tmp_path: Path) -> None:
    """Every target of the province dashboard returns data from the province Prometheus
    (all cities, all counties); Grafana's transformations and overrides find every field
    they name; the cities' kinds under target are counted."""
    board = dashboards(FILES)[PROVINCE]

    def answered() -> dict[int, dict[str, Any]] | None:
        answers = {panel["id"]: {t["refId"]: federation.province.answer(t)
                                 for t in panel["targets"]} for panel in board["panels"]}
        return answers if all(a["result"] for panel in answers.values()
                              for a in panel.values()) else None

    answers = poll("every province panel answered", answered, SETTLE_SECONDS)
    report = panel_report({PROVINCE: board}, {PROVINCE: answers}, tmp_path)
    assert [(p["where"], p["missing"]) for p in report["panels"] if p["missing"]] == []
    assert [(p["where"], p["unnamed"]) for p in report["panels"] if p["unnamed"]] == []
    [under] = [p for p in board["panels"] if p["title"].endswith("kinds under target")]
    expected = sum(1 for county, down in DOWN.items() for kind, tag, count in KINDS
                   if 1 - sum(f"-{tag}-" in d for d in down) / count < TARGETS[kind])
    assert expected == 5
    poll("the kinds under target counted", lambda: federation.province.values(
        grafana_to_promql(under["targets"][0]["expr"].replace("$city", ALL), ALL), "city"
    ) == {(CITY,): expected}, SETTLE_SECONDS)


def county_series_with_instance(town: Federation) -> list[str]:
    """City dashboard answers (all counties) where a county's or device's series still
    carries the instance that exported it."""
    out = []
    for name, board in dashboards().items():
        for panel in board["panels"]:
            for target in panel["targets"]:
                for series in town.city.answer(target)["result"]:
                    labels = series["metric"]
                    if "instance" in labels and ({"county", "device"} & set(labels)):
                        out.append(f"{name} / {panel['title']}: {labels}")
    return out


def test_a_failover_counts_nothing_twice_and_keeps_one_series_per_county(
        federation: Federation) -> None:
    """Instance c stands by for a's counties while a runs, then takes them over when a
    stops. The rules, the city's dashboards and the province see each county once."""
    city = federation.city
    takeover = time.time()
    federation.start_instance("c", COUNTIES["a"])
    poll("c scraped, standing by for north and east", lambda: city.values(
        "netwatch_county_active", "instance", "county") == {
        ("netwatch-a", "north"): 1.0, ("netwatch-a", "east"): 1.0,
        ("netwatch-b", "south"): 1.0, ("netwatch-b", "west"): 1.0,
        ("netwatch-c", "north"): 0.0, ("netwatch-c", "east"): 0.0}, SETTLE_SECONDS)
    poll("the rules count one active instance per county", lambda: city.values(
        "county:netwatch_county_active:sum", "county") == {(c,): 1.0 for c in RATES},
        SETTLE_SECONDS)
    # the standby exports none of its counties' series
    assert city.values('count by (county) (netwatch_devices{kind="camera"})', "county") == {
        ("north",): 1, ("east",): 1, ("south",): 1, ("west",): 1}
    assert city.values('netwatch_open_faults{county="east", kind="camera"}', "instance") == {
        ("netwatch-a",): 1.0}
    # the rules count each county once
    assert city.values("county:netwatch_devices_expected:sum", "county") == {
        (c,): DEVICES_PER_COUNTY for c in RATES}
    assert city.values("county:netwatch_online_ratio:weighted", "county") == pytest.approx(
        {(c,): rate for c, rate in RATES.items()})
    assert city.values("city:netwatch_online_ratio:weighted") == pytest.approx(
        {(): sum(RATES.values()) / len(RATES)})
    # and so do the city dashboards' counts
    boards = dashboards()

    def panel_values(board: str, title: str, *labels: str) -> dict[tuple[str, ...], float]:
        [panel] = [p for p in boards[board]["panels"] if p["title"] == title]
        return city.values(grafana_to_promql(panel["targets"][0]["expr"], ALL), *labels)

    assert panel_values("netwatch-overview", "Open faults by kind", "kind") == {
        ("camera",): 4, ("switch",): 1, ("vc_endpoint",): 1, ("trunking_site",): 0}
    assert panel_values("netwatch-cameras", "Cameras offline now", "county") == {
        (c,): sum("-cam-" in d for d in DOWN.get(c, ())) for c in RATES}
    assert panel_values("netwatch-county", "Devices not on the map") == {(): 1}
    assert county_series_with_instance(federation) == []

    assert federation.instances["a"].stop() == 0  # a clean stop releases its leases
    poll("instance a gone", lambda: city.values('up{instance="netwatch-a"}') == {(): 0.0})
    gone = time.time()
    poll("c active for a's counties", lambda: city.values(
        'netwatch_county_active{instance="netwatch-c"}', "county") == {
        ("north",): 1.0, ("east",): 1.0}, SETTLE_SECONDS)
    poll("c's faults of east exported", lambda: city.values(
        'netwatch_open_faults{county="east", kind="camera"}', "instance") == {
        ("netwatch-c",): 1.0}, SETTLE_SECONDS)
    poll("the province ranks every county once, c's counties from c",
         lambda: as_expected(ranked(federation)), SETTLE_SECONDS)
    # the 5-minute window holds a's samples and c's, yet one series per county and kind
    per_kind = federation.province.values(
        "count by (city, county, kind) (county_kind:netwatch_online_ratio:avg5m)",
        "city", "county", "kind")
    assert per_kind == {(CITY, c, kind): 1 for c in RATES for kind, _, _ in KINDS}
    # one county series from before c came, across the overlap, to after a left
    poll("a recorded sample after a left", lambda: city.query(
        f'timestamp(county:netwatch_online_ratio:weighted{{county="north"}}) > {gone}'))
    seconds = int(time.time() - federation.started) + 1
    [span] = city.query(f'county:netwatch_online_ratio:weighted{{county="north"}}[{seconds}s]')
    times = [float(at) for at, _ in span["values"]]
    assert times[0] < takeover and times[-1] > gone
    assert {value for _, value in span["values"]} == {"1"}
    assert county_series_with_instance(federation) == []
