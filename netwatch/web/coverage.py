"""Coverage API: ``GET /api/v1/blind-spots`` (JSON or GeoJSON).

Lists the coverage verdicts of points and surveyed cells, blind ones by default
(``class`` chooses others), narrowed to the token's counties. The verdicts are the
daemon's latest coverage analysis, which the instance running the city's duties
refreshes within seconds of a new reading or a site fault; a request only filters
them. An analysis of 100,000 readings takes about a second, so requests never start
one at will: on another instance a request refreshes the analysis only when its
inputs changed, and at most once per the duty's period (the daemon's
``Duties.current_coverage``). GeoJSON is a FeatureCollection of WGS-84 Points whose
properties are the JSON fields.
"""

from __future__ import annotations

import math
from typing import Any

from aiohttp import web

from netwatch.coverage import CLASSES, TECHNOLOGIES, TRENDS, Cause, Verdict
from netwatch.vocab import BlindCause
from netwatch.web.api import Clock, one
from netwatch.web.auth import ApiError, visible_counties
from netwatch.web.deps import WebDeps
from netwatch.web.openapi_parts import BEARER, COUNTY, errors, json_body, query, stamps

FORMATS = ("json", "geojson")
GEOJSON_TYPE = "application/geo+json"
COVERAGE_RETRY = 15  # seconds: the daemon's coverage duty runs this often


def _classes(request: web.Request) -> frozenset[str]:
    asked = request.query.getall("class", [])
    wrong = sorted({c for c in asked if c not in CLASSES})
    if wrong:
        raise ApiError(400, "query parameter 'class': unexpected value",
                       {"got": [c[:100] for c in wrong[:10]], "expected": list(CLASSES)})
    return frozenset(asked or ("blind",))


def describe(v: Verdict, cause: Cause | None, clock: Clock) -> dict[str, Any]:
    """One verdict as the API shows it (infinite depths, i.e. no signal, as null)."""
    under = v.current.under_db
    out: dict[str, Any] = {
        "subject_type": v.subject_type, "id": v.id, "county": v.county,
        "technology": v.technology, "name": v.name, "lat": v.lat, "lon": v.lon,
        "priority": v.priority, "class": v.klass, "median_dbm": v.current.median_dbm,
        "threshold_dbm": v.current.threshold_dbm,
        "under_db": None if math.isinf(under) else round(under, 2),
        "readings": v.current.readings, "trend": v.trend, "previous_class": v.previous.klass,
        "serving_site": cause.site if cause else v.serving_site,
        "cause": cause.kind if cause else None, "cause_fault": cause.fault if cause else None,
    }
    clock.stamp(out, "first_taken", v.first_taken)
    clock.stamp(out, "last_taken", v.last_taken)
    return out


def _feature(item: dict[str, Any]) -> dict[str, Any]:
    props = {k: v for k, v in item.items() if k not in ("lat", "lon")}
    return {"type": "Feature", "id": f"{item['subject_type']}:{item['id']}:{item['technology']}",
            "geometry": {"type": "Point", "coordinates": [item["lon"], item["lat"]]},
            "properties": props}


def routes(deps: WebDeps) -> list[web.RouteDef]:
    """This module's routes, bound to the daemon's parts."""

    async def blind_spots(request: web.Request) -> web.Response:
        """GET /api/v1/blind-spots: verdicts the token may see, filtered; JSON or GeoJSON."""
        inventory = deps.monitor.inventory
        counties = visible_counties(request, request.query.getall("county", []),
                                    inventory.counties)
        technology = one(request, "technology", TECHNOLOGIES)
        classes = _classes(request)
        fmt = one(request, "format", FORMATS) or "json"
        report = await deps.coverage()
        if report is None:
            raise ApiError(503, "coverage not analysed yet",
                           f"the daemon analyses coverage every {COVERAGE_RETRY} s; try again",
                           {"Retry-After": str(COVERAGE_RETRY)})
        causes = {(s.verdict.subject_type, s.verdict.id, s.verdict.technology): s.cause
                  for s in report.blind_spots}
        clock = Clock(inventory.timezone)
        items = [describe(v, causes.get((v.subject_type, v.id, v.technology)), clock)
                 for v in report.verdicts
                 if v.klass in classes and (counties is None or v.county in counties)
                 and (technology is None or v.technology == technology)]
        if fmt == "geojson":
            return web.json_response(
                {"type": "FeatureCollection", "features": [_feature(i) for i in items]},
                content_type=GEOJSON_TYPE)
        return web.json_response({"total": len(items), "window_seconds": report.window_seconds,
                                  "blind_spots": items})

    return [web.get("/api/v1/blind-spots", blind_spots)]


_NUMBER_OR_NULL = {"type": ["number", "null"]}
OPENAPI_SCHEMAS: dict[str, Any] = {
    "CoverageVerdict": {"type": "object", "properties": {
        "subject_type": {"type": "string", "enum": ["point", "cell"]},
        "id": {"type": "string"}, "county": {"type": "string"},
        "technology": {"type": "string", "enum": list(TECHNOLOGIES)},
        "name": {"type": "string"}, "lat": {"type": "number"}, "lon": {"type": "number"},
        "priority": {"type": "integer"}, "class": {"type": "string", "enum": list(CLASSES)},
        "median_dbm": {**_NUMBER_OR_NULL, "description": "null: unsurveyed or no signal"},
        "threshold_dbm": {"type": "number"},
        "under_db": {**_NUMBER_OR_NULL, "description": "null: no usable signal at all"},
        "readings": {"type": "integer"}, "trend": {"type": "string", "enum": list(TRENDS)},
        "previous_class": {"type": "string", "enum": list(CLASSES)},
        "serving_site": {"type": ["string", "null"]},
        "cause": {"type": ["string", "null"],
                  "enum": [*BlindCause, None]},
        "cause_fault": {"type": ["string", "null"]},
        **stamps("first_taken", "last_taken")}},
    "BlindSpotList": {"type": "object", "properties": {
        "total": {"type": "integer"}, "window_seconds": {"type": "number"},
        "blind_spots": {"type": "array",
                        "items": {"$ref": "#/components/schemas/CoverageVerdict"}}}},
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/blind-spots": {"get": {
        "summary": "Coverage verdicts of points and surveyed cells (blind ones by default)",
        "security": BEARER,
        "parameters": [
            COUNTY,
            query("technology", "Only this technology.",
                  {"type": "string", "enum": list(TECHNOLOGIES)}),
            query("class", "Only these classes (repeatable) [default: blind].",
                  {"type": "string", "enum": list(CLASSES)}, repeat=True),
            query("format", "json (default) or geojson (a FeatureCollection of Points).",
                  {"type": "string", "enum": list(FORMATS)})],
        "responses": {"200": {"description": "verdicts", "content": {
                          **json_body("BlindSpotList")["content"],
                          GEOJSON_TYPE: {"schema": {"type": "object",
                                                    "description": "a FeatureCollection"}}}},
                      **errors(400, 401, 403, 429, 503)}}},
}
