"""Writes netwatch's Grafana dashboards (``dashboards/grafana/*.json``) from this one file.

The JSON files are generated so that every dashboard shares the same datasource,
``county`` variable and layout rules; edit this script and run it again
(``python dashboards/build.py``), never the JSON by hand: a test compares the two.
Names and coordinates come only from ``netwatch_device_info`` and
``netwatch_coverage_point_info`` joins (docs/metrics.md). The datasource is the provisioned
uid ``prometheus`` (no ``${DS_PROMETHEUS}`` input, which file provisioning leaves
unresolved). Some panels read the recording rules in
``prometheus/rules/netwatch.rules.yml`` (names with colons). A county's series come from
whichever instance is active for it (``one`` takes the ``instance`` label away), and the
province dashboard reads only the rules a provincial Prometheus federates from the cities
(``prometheus/province.yml``).

The county map needs nothing from the internet: its base layer is the county
boundaries (``BOUNDARIES_SRC``, written into Grafana's public maps folder by
``netwatch maps boundaries``), not a tile server. ``--tile-url URL`` writes the
dashboards with an internal XYZ tile server under the boundaries instead.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "grafana"
SCHEMA_VERSION = 39  # Grafana 11.6 (what dashboards/check checks against) migrates it on load
DS = {"type": "prometheus", "uid": "prometheus"}
GRID_WIDTH = 24

Json = dict[str, Any]

# What each probe family means for the eye (dashboards/README.md, 'Grafana'): the default
# limits of docs/inventory.md, and where each comes from.
VC_RTT_SECONDS = 0.3  # ITU-T G.114: 150 ms one way, so 300 ms round trip
VC_JITTER_SECONDS = 0.03  # Cisco interactive video
VC_LOSS_MAJOR, VC_LOSS_CRITICAL = 0.01, 0.05  # Polycom RMX defaults
CAMERA_TARGET, KEY_AREA_TARGET = 0.95, 0.98  # 发改高技〔2015〕996号


def sel(metric: str, *matchers: str) -> str:
    """``metric{county=~"$county", ...}``."""
    return metric + "{" + ", ".join(('county=~"$county"',) + matchers) + "}"


def one(metric: str, *matchers: str) -> str:
    """A county's series whichever instance exports them: ``sel`` with ``instance`` aggregated
    away, so a failover (the county's series from another instance) keeps one series per
    county or device, and the moment two instances both export it counts once."""
    return f"max without (instance) ({sel(metric, *matchers)})"


def named(expr: str, on: str = "device", info: str = "netwatch_device_info",
          extra: str = "name") -> str:
    """``expr`` with the inventory's ``name`` (and ``extra`` labels) joined from an info series."""
    return f"{expr} * on ({on}) group_left ({extra}) max by ({on}, {extra}) ({info})"


def target(expr: str, legend: str = "", *, instant: bool = False, table: bool = False,
           ref: str = "A") -> Json:
    t: Json = {"datasource": DS, "refId": ref, "expr": expr, "range": not instant,
               "instant": instant, "legendFormat": legend or "__auto"}
    if table:
        t["format"] = "table"
    return t


def thresholds(*steps: tuple[str, float | None]) -> Json:
    return {"mode": "absolute", "steps": [{"color": c, "value": v} for c, v in steps]}


def panel(kind: str, title: str, targets: Sequence[Json], *, w: int, h: int = 8,
          unit: str = "", description: str = "", steps: Json | None = None,
          ratio: bool = False, options: Json | None = None,
          custom: Json | None = None, mappings: list[Json] | None = None,
          overrides: list[Json] | None = None, transformations: list[Json] | None = None
          ) -> Json:
    """One panel without id and position (``layout`` assigns them); ``ratio``: 0–100 %."""
    defaults: Json = {"unit": "percentunit", "min": 0, "max": 1} if ratio else {}
    if unit:
        defaults["unit"] = unit
    if steps:
        defaults["thresholds"] = steps
    if custom:
        defaults["custom"] = custom
    if mappings:
        defaults["mappings"] = mappings
    p: Json = {"type": kind, "title": title, "description": description, "datasource": DS,
               "targets": list(targets), "gridPos": {"w": w, "h": h},
               "fieldConfig": {"defaults": defaults, "overrides": overrides or []},
               "options": options or {}}
    if transformations:
        p["transformations"] = transformations
    return p


Cell = Json | list[Json]  # a panel, or panels stacked in one column of the first one's width


def layout(rows: Sequence[Sequence[Cell]]) -> list[Json]:
    """Ids in order and positions row by row; a row's widths must fit the 24 columns."""
    out: list[Json] = []
    y = 0
    for row in rows:
        x, height = 0, 0
        for cell in row:
            column = cell if isinstance(cell, list) else [cell]
            top = y
            for p in column:
                p["id"] = len(out) + 1
                p["gridPos"].update(x=x, y=top)
                top += p["gridPos"]["h"]
                out.append(p)
            x += column[0]["gridPos"]["w"]
            height = max(height, top - y)
        if x > GRID_WIDTH:
            raise ValueError(f"row at y={y} is {x} columns wide")
        y += height
    return out


COUNTY_VARIABLE: Json = {
    "name": "county", "label": "County", "type": "query", "datasource": DS,
    "query": {"query": "label_values(netwatch_device_info, county)", "refId": "county"},
    "refresh": 1, "includeAll": True, "multi": True, "allValue": ".*", "sort": 1,
    "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
    "options": [], "regex": "", "hide": 0,
}


def dashboard(uid: str, title: str, description: str, rows: Sequence[Sequence[Cell]],
              variables: Sequence[Json] = (COUNTY_VARIABLE,)) -> Json:
    return {
        "id": None, "uid": uid, "title": title, "description": description,
        "tags": ["netwatch"], "timezone": "browser", "editable": False, "graphTooltip": 1,
        "time": {"from": "now-6h", "to": "now"}, "refresh": "1m",
        "schemaVersion": SCHEMA_VERSION, "version": 1, "fiscalYearStartMonth": 0,
        "liveNow": False, "weekStart": "",
        "annotations": {"list": []},
        "links": [{"title": "Netwatch", "type": "dashboards", "tags": ["netwatch"],
                   "asDropdown": True, "includeVars": True, "keepTime": True}],
        "templating": {"list": list(variables)},
        "panels": layout(rows),
    }


UP_DOWN = [{"type": "value", "options": {"0": {"text": "down", "color": "red"},
                                         "1": {"text": "up", "color": "green"}}}]


def table_hide(*labels: str) -> Json:
    """Hides a table's Time column and these label columns (each must be in the answer)."""
    return {"id": "organize",
            "options": {"excludeByName": dict.fromkeys(("Time", *labels), True)}}


SCRAPE_LABELS = ("job",)  # what ``one`` keeps of the scrape (a join on it too)
LINES_AT = {"thresholdsStyle": {"mode": "line+area"}}


def display_name(field: str, name: str) -> Json:
    """The column header for a table's value column (Grafana's table framing calls it Value)."""
    return {"matcher": {"id": "byName", "options": field},
            "properties": [{"id": "displayName", "value": name}]}


def target_steps(target_ratio: float) -> Json:
    return thresholds(("red", None), ("green", target_ratio))


# Series named "... trunking_site" or "... switch" turn green at 98 %, the others at 95 %.
STRICT_KINDS = [{"matcher": {"id": "byRegexp", "options": ".* (trunking_site|switch)$"},
                 "properties": [{"id": "thresholds", "value": target_steps(KEY_AREA_TARGET)}]}]


# ---------------------------------------------------------------- city overview

def overview() -> Json:
    online = one("netwatch_online_ratio")
    rows = [
        [panel("bargauge", "Online rate by county and kind", [
            target(online, "{{county}} {{kind}}", instant=True)], w=12, h=9, ratio=True,
            steps=target_steps(CAMERA_TARGET),
            description="Devices up ÷ devices expected (maintenance left out, suppressed "
                        "children counted down), from the latest sweep.",
            options={"orientation": "horizontal", "displayMode": "gradient"},
            overrides=STRICT_KINDS),
         panel("timeseries", "Online rate vs target", [
             target(online, "{{county}} {{kind}}"),
             target("kind:netwatch_online_target_ratio:max", "target {{kind}}", ref="B")],
            w=12, h=9, ratio=True,
            description="Targets from the inventory's notices.online_targets "
                        "(kind:netwatch_online_target_ratio:max, the same on every instance).",
            overrides=[{"matcher": {"id": "byFrameRefID", "options": "B"},
                        "properties": [{"id": "custom.lineStyle",
                                        "value": {"fill": "dash", "dash": [10, 10]}}]}])],
        [panel("bargauge", "County ranking (all kinds, weighted by devices)", [
            target("sort_desc(" + sel("county:netwatch_online_ratio:weighted") + ")", "{{county}}",
                   instant=True)], w=8, ratio=True, steps=target_steps(CAMERA_TARGET),
            options={"orientation": "horizontal", "displayMode": "lcd"}),
         panel("piechart", "Open faults by kind", [
             target("sum by (kind) (" + one("netwatch_open_faults") + ")", "{{kind}}",
                    instant=True)], w=8,
            description="Open faults that are not suppressed.",
            options={"pieType": "donut", "legend": {"displayMode": "table",
                                                    "placement": "right", "values": ["value"]}}),
         panel("stat", "Blind spots", [
             target("sum by (county) (" + one("netwatch_blind_spots") + ")", "{{county}}",
                    instant=True)], w=8,
            steps=thresholds(("green", None), ("red", 1)))],
        [panel("stat", "Notices issued", [
            target(one("netwatch_notices_issued_total"), "{{county}}", instant=True)], w=8,
            steps=thresholds(("blue", None))),
         panel("bargauge", "Notice items open and overdue", [
             target(one("netwatch_notice_items_open"), "{{county}} open", instant=True),
             target(one("netwatch_notice_items_overdue"), "{{county}} overdue", instant=True,
                    ref="B")], w=8, steps=thresholds(("green", None), ("orange", 1)),
            options={"orientation": "horizontal"}),
         panel("stat", "Latest notice issued", [
             target(one("netwatch_notice_last_issued_timestamp_seconds") + " * 1000",
                    "{{county}}", instant=True)], w=8, unit="dateTimeAsIso",
            steps=thresholds(("blue", None)))],
        [panel("timeseries", "Sweep duration vs interval", [
            target("netwatch_sweep_duration_seconds", "{{instance}} {{group}} duration"),
            target("netwatch_sweep_interval_seconds", "{{instance}} {{group}} interval",
                   ref="B")],
            w=8, unit="s", description="A sweep longer than its interval overruns."),
         panel("timeseries", "Sweep overruns", [
             target("increase(netwatch_sweep_overruns_total[$__rate_interval])",
                    "{{instance}} {{group}}")],
            w=8, unit="short", steps=thresholds(("green", None), ("red", 1)), custom=LINES_AT),
         panel("stat", "Last sweep age", [
             target("time() - netwatch_sweep_last_run_timestamp_seconds",
                    "{{instance}} {{group}}", instant=True)], w=8, unit="s",
            steps=thresholds(("green", None), ("red", 300)))],
        [panel("stat", "netwatch scrape", [
            target('up{job="netwatch"}', "{{instance}}", instant=True)], w=8,
            mappings=UP_DOWN, steps=thresholds(("red", None), ("green", 1))),
         panel("timeseries", "Notice deliveries pending", [
             target("netwatch_notice_deliveries_pending", "{{instance}} {{channel}}")], w=8,
            unit="short"),
         panel("timeseries", "Notice delivery failures", [
             target("increase(netwatch_notice_delivery_failures_total[$__rate_interval])",
                    "{{instance}} {{channel}}")], w=8, unit="short")],
    ]
    return dashboard("netwatch-overview", "Netwatch / City overview",
                     "Online rate per county and kind against the target, county ranking, "
                     "faults, blind spots, notices and the monitor's own health.", rows)


# ---------------------------------------------------------------- county drill-down

# Only devices with coordinates: an empty lat/lon label would become 0 °N 0 °E on the map.
DEVICE_STATE = (
    "max by (county, kind, device, name, site, lat, lon) ("
    + sel("netwatch_device_info", 'lat!=""', 'lon!=""') + ")"
    " * on (device) group_left () max by (device) (netwatch_device_up)")
OFF_THE_MAP = ("count(max by (device) (" + sel("netwatch_device_info") + ") unless max by (device) "
               '(netwatch_device_info{lat!="", lon!=""})) or vector(0)')
CLASS_CODES = (("good", 4), ("fair", 3), ("weak", 2), ("blind", 1), ("unsurveyed", 0))
POINT_CLASS = (
    "max by (county, point, name, technology, lat, lon) ("
    + sel("netwatch_coverage_point_info") + ") * on (county, point) group_left () "
    "max by (county, point) ("
    + " or ".join(f'netwatch_coverage_point_class{{class="{c}"}} * {n}' for c, n in CLASS_CODES)
    + ")")
CLASS_MAPPING = [{"type": "value", "options": {
    str(n): {"text": c, "color": color} for (c, n), color in zip(
        CLASS_CODES, ("green", "yellow", "orange", "red", "gray"), strict=True)}}]


def value_named(ref: str, name: str) -> Json:
    """Names query ``ref``'s value column ``name`` in one frame, whatever Grafana called it.

    Grafana's Prometheus table framing calls it ``Value #<refId>`` when several table
    queries returned data and plain ``Value`` when only one did: neither is safe to name.
    """
    return {"id": "renameByRegex", "filter": {"id": "byRefId", "options": ref},
            "options": {"regex": f"^Value( #{ref})?$", "renamePattern": name}}


BOUNDARIES_SRC = "public/maps/netwatch-counties.geojson"  # `netwatch maps boundaries` writes it


def boundaries_layer() -> Json:
    """The counties' outlines from the static GeoJSON, named: no tiles, nothing fetched
    from outside Grafana."""
    return {"type": "geojson", "name": "County boundaries", "tooltip": True,
            "config": {"src": BOUNDARIES_SRC, "rules": [],
                       "style": {"color": {"fixed": "blue"}, "opacity": 0.08,
                                 "lineWidth": 2,
                                 "text": {"mode": "field", "field": "name", "fixed": ""}}}}


def tiles_layer(url: str) -> Json:
    """An internal XYZ tile server as the base layer (``--tile-url``)."""
    return {"type": "xyz", "name": "Internal tiles",
            "config": {"url": url, "attribution": "internal tile server"}}


def geomap_layer(name: str, ref: str, color_field: str) -> Json:
    return {"type": "markers", "name": name, "tooltip": True,
            "filterData": {"id": "byRefId", "options": ref},
            "location": {"mode": "coords", "latitude": "lat", "longitude": "lon"},
            "config": {"showLegend": True,
                       "style": {"size": {"fixed": 7},
                                 "color": {"field": color_field, "fixed": "green"},
                                 "symbol": {"mode": "fixed",
                                            "fixed": "img/icons/marker/circle.svg"}}}}


DEVICE_STATE_FIELD, POINT_CLASS_FIELD = "Device up", "Coverage class"


def worst(metric: str, *matchers: str, k: int = 10) -> str:
    """Every sample of the ``k`` devices with the highest average over the whole range.

    ``topk`` in a range query ranks each step apart and so draws more than ``k`` lines;
    ranking ``avg_over_time`` at the range's end (``@ end()``) picks one set for all steps.
    A device whose series moved to another instance in the range is ranked once (its
    higher average).
    """
    rank = f"max by (device) (avg_over_time({sel(metric, *matchers)}[$__range] @ end()))"
    return f"({named(one(metric, *matchers))}) and on (device) topk({k}, {rank})"


def county(tile_url: str = "") -> Json:
    device_steps = thresholds(("red", None), ("green", 1))
    point_steps = thresholds(("gray", None), ("red", 1), ("orange", 2), ("yellow", 3),
                             ("green", 4))
    layers = [geomap_layer("Devices", "A", DEVICE_STATE_FIELD),
              geomap_layer("Coverage points", "B", POINT_CLASS_FIELD)]
    basemap = boundaries_layer()
    if tile_url:
        basemap, layers = tiles_layer(tile_url), [boundaries_layer(), *layers]
    fault = sel("netwatch_fault_since_timestamp_seconds")
    rows: list[list[Cell]] = [
        [panel("geomap", "Devices and coverage points", [
            target(DEVICE_STATE, instant=True, table=True),
            target(POINT_CLASS, instant=True, table=True, ref="B")], w=16, h=16,
            description="Devices: green up, red down (latest sweep). Coverage points: "
                        "green good, yellow fair, orange weak, red blind, gray unsurveyed. "
                        "Devices without coordinates are left off (counted beside the map). "
                        "The base layer is the county boundaries (netwatch maps boundaries), "
                        "no tiles from the internet (README).",
            steps=device_steps,
            transformations=[value_named("A", DEVICE_STATE_FIELD),
                             value_named("B", POINT_CLASS_FIELD),
                             {"id": "convertFieldType", "options": {"conversions": [
                {"targetField": "lat", "destinationType": "number"},
                {"targetField": "lon", "destinationType": "number"}]}}],
            overrides=[{"matcher": {"id": "byFrameRefID", "options": "B"},
                        "properties": [{"id": "thresholds", "value": point_steps},
                                       {"id": "mappings", "value": CLASS_MAPPING}]}],
            options={"view": {"id": "fit", "allLayers": True},
                     "controls": {"showZoom": True, "mouseWheelZoom": True},
                     "basemap": basemap,
                     "layers": layers}),
         [panel("bargauge", "Online rate", [
             target(one("netwatch_online_ratio"), "{{county}} {{kind}}", instant=True)],
             w=8, h=12, ratio=True, steps=target_steps(CAMERA_TARGET), overrides=STRICT_KINDS,
             options={"orientation": "horizontal", "displayMode": "basic"}),
          panel("stat", "Devices not on the map", [target(OFF_THE_MAP, "", instant=True)],
                w=8, h=4, steps=thresholds(("green", None), ("orange", 1)),
                description="Devices the inventory gives no coordinates: the map leaves "
                            "them off. Add lat/lon to place them.")]],
        [panel("table", "Open faults", [
            target(named(f"max by (county, kind, device, fault, suppressed) ({fault})",
                         extra="name, site") + " * 1000", instant=True, table=True),
            target(named(f"time() - max by (county, kind, device, fault, suppressed) ({fault})",
                         extra="name, site"), instant=True, table=True, ref="B")],
            w=24, h=10, description="First seen and how long each open fault has lasted; "
                                    "suppressed=true under a failing parent or in maintenance.",
            transformations=[{"id": "merge", "options": {}}, table_hide(),
                             {"id": "sortBy", "options": {"sort": [{"field": "Value #B",
                                                                    "desc": True}]}}],
            overrides=[
                {"matcher": {"id": "byName", "options": "Value #A"},
                 "properties": [{"id": "displayName", "value": "first seen"},
                                {"id": "unit", "value": "dateTimeAsIso"}]},
                {"matcher": {"id": "byName", "options": "Value #B"},
                 "properties": [{"id": "displayName", "value": "duration"},
                                {"id": "unit", "value": "s"}]}])],
        [panel("table", "Early warnings (预警)", [
            target(named(f"max by (county, device, warning) ({sel('netwatch_warning')})",
                         extra="name, site"), instant=True, table=True)],
            w=24, h=8, description="Trends short of a fault, one row per warning raised now: "
                                   "loss or RTT above the device's own baseline, uplink "
                                   "errors growing, reboots, quiet flapping, clock drift "
                                   "(docs/inventory.md). No deadline, no notice item.",
            transformations=[table_hide("Value"),
                             {"id": "sortBy", "options": {"sort": [{"field": "device"}]}}])],
        [panel("timeseries", "Endpoint round-trip time (worst 10)", [
            target(worst("netwatch_icmp_rtt_seconds"), "{{name}}")], w=12, unit="s",
            description="The ten endpoints with the highest average over the time range."),
         panel("timeseries", "Endpoint packet loss (worst 10)", [
             target(worst("netwatch_icmp_packet_loss_ratio"), "{{name}}")], w=12,
            ratio=True, description="The ten endpoints with the highest average over the "
                                    "time range.")],
        [panel("state-timeline", "Site uplink state", [
            target(named(one("netwatch_uplink_up")), "{{name}}")], w=24, h=10,
            mappings=UP_DOWN, steps=thresholds(("red", None), ("green", 1)),
            description="ifOperStatus of the uplink of trunking sites and switches.",
            options={"showValue": "never", "mergeValues": True})],
    ]
    return dashboard("netwatch-county", "Netwatch / County drill-down",
                     "One county (or several): map, open faults, early warnings, endpoint "
                     "RTT and loss, site uplinks.", rows)


# ---------------------------------------------------------------- trunking

def trunking() -> Json:
    site = 'kind="trunking_site"'
    point_name = {"on": "county, point", "info": "netwatch_coverage_point_info"}
    rows = [
        [panel("stat", "Sites up", [
            target("sum by (county) (" + one("netwatch_device_up", site) + ")",
                   "{{county}} up", instant=True),
            target("count by (county) (" + one("netwatch_device_up", site) + ")",
                   "{{county}} probed", instant=True, ref="B")], w=8,
            steps=thresholds(("blue", None))),
         panel("stat", "Blind spots by technology", [
             target("sum by (county, technology) (" + one("netwatch_blind_spots") + ")",
                    "{{county}} {{technology}}", instant=True)], w=8,
            steps=thresholds(("green", None), ("red", 1))),
         panel("piechart", "Coverage point classes", [
             target("count by (class) (" + one("netwatch_coverage_point_class") + " == 1)",
                    "{{class}}", instant=True)], w=8,
            options={"pieType": "donut", "legend": {"displayMode": "table",
                                                    "placement": "right", "values": ["value"]}})],
        [panel("state-timeline", "Uplink state", [
            target(named(one("netwatch_uplink_up", site)), "{{name}}")], w=12, h=10,
            mappings=UP_DOWN, steps=thresholds(("red", None), ("green", 1)),
            options={"showValue": "never", "mergeValues": True}),
         panel("timeseries", "Uplink speed", [
             target(named(one("netwatch_uplink_speed_bytes_per_second", site)) + " * 8",
                    "{{name}}")], w=12, h=10, unit="bps")],
        [panel("table", "Coverage points", [
            target(named(one("netwatch_coverage_point_signal_dbm"), **point_name),
                   instant=True, table=True),
            target(named(one("netwatch_coverage_point_readings"), **point_name),
                   instant=True, table=True, ref="B")], w=12, h=10,
            description="Median signal of the recent readings per point, and how many.",
            transformations=[{"id": "merge", "options": {}}, table_hide(*SCRAPE_LABELS)],
            overrides=[
                {"matcher": {"id": "byName", "options": "Value #A"},
                 "properties": [{"id": "displayName", "value": "signal"},
                                {"id": "unit", "value": "dBm"}]},
                {"matcher": {"id": "byName", "options": "Value #B"},
                 "properties": [{"id": "displayName", "value": "readings"}]}]),
         panel("timeseries", "Survey readings received", [
             target("sum by (county) (increase(" + sel("netwatch_survey_readings_received_total")
                    + "[$__rate_interval]))", "{{county}}")], w=6, h=10, unit="short"),
         panel("timeseries", "Site SNMP uptime", [
             target(named(one("netwatch_snmp_uptime_seconds", site)), "{{name}}")],
            w=6, h=10, unit="s", description="A drop means the site restarted.")],
    ]
    return dashboard("netwatch-trunking", "Netwatch / Trunking radio",
                     "PDT / broadband trunking sites, their uplinks and the coverage survey.",
                     rows)


# ---------------------------------------------------------------- video conference

def video() -> Json:
    vc = 'kind="vc_endpoint"'
    rows = [
        [panel("timeseries", "Round-trip time", [
            target(named(one("netwatch_icmp_rtt_seconds", vc)), "{{name}}")], w=12, unit="s",
            steps=thresholds(("green", None), ("red", VC_RTT_SECONDS)), custom=LINES_AT,
            description="Red above 300 ms round trip (ITU-T G.114: 150 ms one way)."),
         panel("timeseries", "Packet loss", [
             target(named(one("netwatch_icmp_packet_loss_ratio", vc)), "{{name}}")], w=12,
            unit="percentunit", custom=LINES_AT,
            steps=thresholds(("green", None), ("orange", VC_LOSS_MAJOR),
                             ("red", VC_LOSS_CRITICAL)),
            description="Under 1 % normal, 1–5 % major, over 5 % critical.")],
        [panel("timeseries", "Jitter", [
            target(named(one("netwatch_icmp_jitter_seconds", vc)), "{{name}}")], w=12,
            unit="s", steps=thresholds(("green", None), ("red", VC_JITTER_SECONDS)),
            custom=LINES_AT, description="Red above 30 ms."),
         panel("table", "SIP answer", [
             target(named(one("netwatch_sip_status_code", vc)), instant=True, table=True)],
            w=12, description="Any SIP status line (200, 401, 403, 405) proves signalling "
                              "is alive; no sample means no answer.",
            overrides=[display_name("Value", "SIP status")],
            transformations=[table_hide(*SCRAPE_LABELS)])],
        [panel("bargauge", "Endpoints online", [
            target(one("netwatch_online_ratio", vc), "{{county}}", instant=True)], w=24,
            h=6, ratio=True, steps=target_steps(CAMERA_TARGET),
            options={"orientation": "vertical", "displayMode": "gradient"})],
    ]
    return dashboard("netwatch-vc", "Netwatch / Video conference",
                     "Endpoint RTT, loss and jitter against the default limits.", rows)


# ---------------------------------------------------------------- cameras

def cameras() -> Json:
    cam = 'kind="camera"'
    outage = 'fault=~"unreachable|service_down"'
    rows = [
        [panel("timeseries", "Camera online rate", [
            target(one("netwatch_online_ratio", cam), "{{county}}")], w=16, h=9, ratio=True,
            custom=LINES_AT, steps=thresholds(("red", None), ("orange", CAMERA_TARGET),
                                              ("green", KEY_AREA_TARGET)),
            description="National target: 95 % (98 % in key public areas)."),
         panel("stat", "Cameras offline now", [
             target("sum by (county) (1 - " + one("netwatch_device_up", cam) + ")",
                    "{{county}}", instant=True)], w=8, h=9,
            steps=thresholds(("green", None), ("red", 1)))],
        [panel("table", "Longest offline", [
            target(named("topk(20, time() - " + one("netwatch_fault_since_timestamp_seconds",
                                                     cam, outage) + ")",
                         extra="name, site"), instant=True, table=True)],
            w=16, h=10, unit="s", overrides=[display_name("Value", "offline for")],
            transformations=[table_hide(*SCRAPE_LABELS), {"id": "sortBy", "options": {
                "sort": [{"field": "Value", "desc": True}]}}]),
         panel("stat", "Camera online rate, time-weighted over the range", [
             target("avg_over_time((" + one("netwatch_online_ratio", cam) + ")[$__range:1m])",
                    "{{county}}", instant=True)], w=8, h=10, ratio=True,
            steps=target_steps(CAMERA_TARGET))],
        [panel("timeseries", "Video availability (cameras showing a picture)", [
            target(one("netwatch_video_available_ratio"), "{{county}}")], w=12, h=8,
            ratio=True, custom=LINES_AT, steps=target_steps(CAMERA_TARGET),
            description="Of the cameras whose video was sampled, the share whose latest "
                        "sample showed a picture (视频可用率); a camera without one is "
                        "still online."),
         panel("timeseries", "Clock accuracy (devices within their offset)", [
             target(one("netwatch_clock_accurate_ratio"), "{{county}}")], w=12, h=8,
            ratio=True, custom=LINES_AT, steps=target_steps(CAMERA_TARGET),
            description="Of the devices whose clock was read (ONVIF), the share within "
                        "their clock_offset (时钟准确率); not judged while netwatch's own "
                        "clock is unsynchronised.")],
    ]
    return dashboard("netwatch-cameras", "Netwatch / Cameras",
                     "Camera online rate (联网在线率) against the target, the longest "
                     "outages, video availability and clock accuracy.", rows)


# ---------------------------------------------------------------- province

PROVINCE_RULE = "county:netwatch_online_ratio:weighted"  # every city's counties, federated


def variable(name: str, label: str, query: str) -> Json:
    """A multi-select query variable with *All* (``.*``)."""
    return {**COUNTY_VARIABLE, "name": name, "label": label,
            "query": {"query": query, "refId": name}}


PROVINCE_VARIABLES = (
    variable("city", "City", f"label_values({PROVINCE_RULE}, city)"),
    variable("county", "County", f'label_values({PROVINCE_RULE}{{city=~"$city"}}, county)'),
)


def federated(rule: str, by: str) -> str:
    """A federated recording rule of the chosen cities and counties, one series per ``by``:
    the labels a city Prometheus (or a second replica of it) adds are aggregated away."""
    matchers = 'city=~"$city"' + (', county=~"$county"' if "county" in by.split(", ") else "")
    return f"max by ({by}) ({rule}{{{matchers}}})"


def province() -> Json:
    """The province's view: only the recording rules every city's Prometheus federates
    (``prometheus/province.yml``), each series labelled with its ``city``."""
    rates = federated("county_kind:netwatch_online_ratio:avg5m", "city, county, kind")
    targets = federated("kind:netwatch_online_target_ratio:max", "city, kind")
    under = f"{rates} < on (city, kind) group_left () {targets}"
    cities = federated("city:netwatch_online_ratio:weighted", "city")
    margin_steps = thresholds(("red", None), ("green", 0))
    rows = [
        [panel("bargauge", "City ranking (all kinds, weighted by devices)", [
            target(f"sort_desc({cities})", "{{city}}", instant=True)], w=8, h=10, ratio=True,
            steps=target_steps(CAMERA_TARGET),
            options={"orientation": "horizontal", "displayMode": "lcd"}),
         panel("bargauge", "County ranking (all kinds, weighted by devices)", [
             target("sort_desc(" + federated(PROVINCE_RULE, "city, county") + ")",
                    "{{city}} {{county}}", instant=True)], w=16, h=10, ratio=True,
            steps=target_steps(CAMERA_TARGET),
            description="Devices up ÷ devices expected over all kinds of each county, best "
                        "first; a county is named with its city (county ids repeat across "
                        "cities).",
            options={"orientation": "horizontal", "displayMode": "lcd"})],
        [panel("table", "Online rate against target, by county and kind (worst first)", [
            target(rates, instant=True, table=True),
            target(f"{rates} * 0 + on (city, kind) group_left () {targets}", instant=True,
                   table=True, ref="B"),
            target(f"{rates} - on (city, kind) group_left () {targets}", instant=True,
                   table=True, ref="C")], w=24, h=12,
            description="5-minute online rate of each county and kind, its city's target "
                        "(notices.online_targets) and the difference: under target in red, "
                        "the furthest under first.",
            transformations=[{"id": "merge", "options": {}}, table_hide(),
                             {"id": "sortBy", "options": {"sort": [{"field": "Value #C",
                                                                    "desc": False}]}}],
            overrides=[
                {"matcher": {"id": "byName", "options": "Value #A"},
                 "properties": [{"id": "displayName", "value": "online rate"},
                                {"id": "unit", "value": "percentunit"}]},
                {"matcher": {"id": "byName", "options": "Value #B"},
                 "properties": [{"id": "displayName", "value": "target"},
                                {"id": "unit", "value": "percentunit"}]},
                {"matcher": {"id": "byName", "options": "Value #C"},
                 "properties": [{"id": "displayName", "value": "against target"},
                                {"id": "unit", "value": "percentunit"},
                                {"id": "thresholds", "value": margin_steps},
                                {"id": "custom.cellOptions",
                                 "value": {"type": "color-text"}}]}])],
        [panel("timeseries", "City online rate", [
            target(cities, "{{city}}")], w=16, ratio=True, custom=LINES_AT,
            steps=target_steps(CAMERA_TARGET),
            description="All kinds, weighted by devices expected; the line at the camera "
                        "target, 95 %."),
         panel("stat", "Counties' kinds under target", [
             target(f"count by (city) ({under}) or on (city) (0 * {cities})", "{{city}}",
                    instant=True)], w=8,
            steps=thresholds(("green", None), ("red", 1)),
            description="Counties and kinds whose 5-minute online rate is under their "
                        "target, per city.")],
    ]
    return dashboard("netwatch-province", "Netwatch / Province",
                     "Online rate per city and per county against the targets, ranked, from "
                     "the recording rules each city's Prometheus federates.", rows,
                     PROVINCE_VARIABLES)


DASHBOARDS = {"netwatch-overview.json": overview, "netwatch-county.json": county,
              "netwatch-trunking.json": trunking, "netwatch-vc.json": video,
              "netwatch-cameras.json": cameras, "netwatch-province.json": province}


def render(tile_url: str = "") -> dict[str, str]:
    """File name → JSON text, exactly as written (``tile_url``: the county map's base layer is
    that XYZ tile server, under the boundaries)."""
    boards = {name: build() for name, build in DASHBOARDS.items()}
    if tile_url:
        boards["netwatch-county.json"] = county(tile_url)
    return {name: json.dumps(board, ensure_ascii=False, indent=2) + "\n"
            for name, board in boards.items()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write netwatch's Grafana dashboards.")
    parser.add_argument("--out", type=Path, default=OUT, help="directory (default: grafana/)")
    parser.add_argument("--tile-url", default="", metavar="URL",
                        help="an internal XYZ tile server for the county map, e.g. "
                             "https://TILE-SERVER/{z}/{x}/{y}.png (default: none; "
                             "the county boundaries are the base layer)")
    args = parser.parse_args(argv)
    args.out.mkdir(exist_ok=True)
    for name, text in render(args.tile_url).items():
        (args.out / name).write_text(text, encoding="utf-8")
        print(f"wrote {args.out / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
