"""Survey API: ``POST /api/v1/readings`` (field testers submit) and ``GET /api/v1/points``.

Readings come as a JSON object, a JSON array or ``text/csv``; the batch is
validated as a whole off the event loop (the web's pool), then stored in one
durable transaction on the database thread, so a 201 means the readings are on
disk. While the store is away the answer is 503 with ``Retry-After`` and nothing
is stored: the client sends the same batch again (its ``client_id`` keys make the
resubmission safe). The tester is the token's name (or id); the source is
``form`` when the phone form's session sent it (``netwatch.via_session``), else
``api``. Points are answered in WGS-84, the browser's datum.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from netwatch.inventory import TECHNOLOGIES, CoveragePoint
from netwatch.store import StoreThread
from netwatch.survey import (
    IngestError,
    Refusal,
    RowError,
    haversine_m,
    parse_csv,
    prepare,
    store_readings,
    to_wgs84,
)
from netwatch.vocab import Role
from netwatch.web.api import integer, one
from netwatch.web.auth import VIA_SESSION, ApiError, principal, store_away, visible_counties
from netwatch.web.bodies import parse_json
from netwatch.web.deps import WebDeps
from netwatch.web.openapi_parts import BEARER, COUNTY, errors, json_body, query
from netwatch.web.workers import offload

ROWS_LIMIT = 5000  # readings per request (docs/api.md)
POINTS_LIMIT = (20, 1000)  # default and maximum answers of /api/v1/points
REFUSAL_STATUS: dict[Refusal, int] = {
    Refusal.INVALID: 400, Refusal.OUTSIDE_SCOPE: 403, Refusal.CONFLICT: 409,
}
JSON_TYPE, CSV_TYPE = "application/json", "text/csv"


def _invalid(reason: str, row: int | None = None) -> ApiError:
    return ApiError(400, "invalid readings", [{"row": row, "field": "", "reason": reason}])


async def _rows(request: web.Request) -> tuple[list[Any], list[int] | None]:
    """The submitted readings (and CSV row numbers), from a body read within the size limit."""
    kind = request.content_type
    if kind not in (JSON_TYPE, CSV_TYPE):
        raise ApiError(415, "unsupported content type",
                       f"send {JSON_TYPE} (an object or an array) or {CSV_TYPE}")
    body = await request.read()  # read (within 1 MiB and the body timeout) by the app
    if kind == CSV_TYPE:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise _invalid("the body is not UTF-8") from None
        parsed, problems = parse_csv(text)
        if problems:
            raise ApiError(400, "invalid readings",
                           [RowError(p.row, p.field, p.reason).as_dict() for p in problems])
        return [row for _, row in parsed], [number for number, _ in parsed]
    try:
        data = parse_json(body)
    except ApiError as exc:
        raise _invalid(exc.error) from None
    if isinstance(data, dict):
        return [data], None
    if isinstance(data, list):
        return data, None
    raise _invalid("send a reading object or an array of them")


def _point_json(p: CoveragePoint, lat: float, lon: float,
                distance: float | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": p.id, "name": p.name, "county": p.county, "lat": round(lat, 7),
        "lon": round(lon, 7), "technology": p.technology, "serving_site": p.serving_site,
        "priority": p.priority}
    if distance is not None:
        out["distance_m"] = round(distance, 1)
    return out


def _coordinate(request: web.Request, name: str, bound: float) -> float | None:
    text = one(request, name)
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not -bound <= value <= bound:
        raise ApiError(400, f"query parameter {name!r}: not a coordinate",
                       {"got": text[:100], "min": -bound, "max": bound})
    return value


def routes(deps: WebDeps) -> list[web.RouteDef]:
    """This module's routes, bound to the daemon's parts."""

    def store() -> StoreThread:
        if deps.db is None:
            raise ApiError(503, "readings unavailable", "this daemon runs without a store")
        if not deps.db.status().up:  # refused at once, not queued behind a dead database
            raise store_away()
        return deps.db

    async def post_readings(request: web.Request) -> web.Response:
        info = principal(request)
        db = store()
        rows, numbers = await _rows(request)
        if not rows:
            raise _invalid("no readings in the body")
        if len(rows) > ROWS_LIMIT:
            raise ApiError(413, "too many readings", f"at most {ROWS_LIMIT} per request")
        inventory, now = deps.monitor.inventory, time.time()
        allowed = None if info.role == Role.ADMIN else info.counties
        try:
            accepted = await offload(request, lambda: prepare(
                inventory, rows, now, allowed=allowed, row_numbers=numbers))
            source = "form" if request.get(VIA_SESSION) else "api"
            ids = await db.call(store_readings, info.name or info.id, accepted, source, now)
        except IngestError as exc:
            problems = [p.as_dict() for p in exc.problems]
            raise ApiError(REFUSAL_STATUS[exc.refusal], exc.error, problems) from None
        return web.json_response({"ids": ids}, status=201)

    async def get_points(request: web.Request) -> web.Response:
        inventory = deps.monitor.inventory
        counties = visible_counties(request, request.query.getall("county", []),
                                    inventory.counties)
        technology = one(request, "technology", TECHNOLOGIES)
        limit = integer(request, "limit", POINTS_LIMIT[0], 1, POINTS_LIMIT[1])
        lat, lon = _coordinate(request, "lat", 90), _coordinate(request, "lon", 180)
        if (lat is None) != (lon is None):
            raise ApiError(400, "lat and lon go together", None)
        datum = inventory.coverage.datum
        found = []
        for p in inventory.points:
            if (counties is None or p.county in counties) and technology in (None, p.technology):
                plat, plon = to_wgs84(datum, p.lat, p.lon)
                far = None if lat is None or lon is None else haversine_m(lat, lon, plat, plon)
                found.append((far, p, plat, plon))
        if lat is not None:
            found.sort(key=lambda f: (f[0], f[1].id))
        points = [_point_json(p, plat, plon, far) for far, p, plat, plon in found[:limit]]
        return web.json_response({"points": points, "total": len(found)})

    return [web.post("/api/v1/readings", post_readings), web.get("/api/v1/points", get_points)]


_FIGURE = {"type": "number"}
OPENAPI_SCHEMAS: dict[str, Any] = {
    "ReadingIn": {"type": "object", "additionalProperties": False, "properties": {
        "point": {"type": "string", "description": "coverage point id (or give lat and lon)"},
        "lat": _FIGURE, "lon": _FIGURE,
        "datum": {"type": "string", "enum": ["wgs84", "gcj02", "bd09"], "default": "wgs84"},
        "taken_at": {"type": "string", "format": "date-time",
                     "description": "ISO 8601 with a UTC offset"},
        "technology": {"type": "string", "enum": list(TECHNOLOGIES)},
        "rssi_dbm": {"type": "number", "minimum": -140, "maximum": -20},
        "ber": {"type": "number", "minimum": 0, "maximum": 1},
        "rsrp_dbm": {"type": "number", "minimum": -140, "maximum": -44},
        "sinr_db": {"type": "number", "minimum": -20, "maximum": 40},
        "no_service": {"type": "boolean", "default": False},
        "serving_site": {"type": "string"}, "note": {"type": "string", "maxLength": 500},
        "client_id": {"type": "string", "maxLength": 64,
                      "description": "idempotency key (per tester)"}},
        "required": ["taken_at"]},
    "ReadingIds": {"type": "object", "properties": {
        "ids": {"type": "array", "items": {"type": "integer"}}}},
    "Point": {"type": "object", "properties": {
        "id": {"type": "string"}, "name": {"type": "string"}, "county": {"type": "string"},
        "lat": _FIGURE, "lon": _FIGURE, "technology": {"type": "string"},
        "serving_site": {"type": ["string", "null"]}, "priority": {"type": "integer"},
        "distance_m": {"type": "number", "description": "only when lat and lon are given"}}},
    "PointList": {"type": "object", "properties": {
        "total": {"type": "integer"},
        "points": {"type": "array", "items": {"$ref": "#/components/schemas/Point"}}}},
}

_READING = {"$ref": "#/components/schemas/ReadingIn"}
OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/readings": {"post": {
        "summary": "Submit survey readings (tester or admin token); all or nothing, idempotent",
        "security": BEARER,
        "requestBody": {"required": True, "content": {
            JSON_TYPE: {"schema": {"oneOf": [_READING, {"type": "array", "items": _READING,
                                                        "maxItems": ROWS_LIMIT}]}},
            CSV_TYPE: {"schema": {"type": "string",
                                  "description": "header row of the reading's field names"}}}},
        "responses": {"201": {"description": "stored (a resubmission returns the same ids)",
                              **json_body("ReadingIds")},
                      **errors(400, 401, 403, 409, 413, 429, 503),
                      "415": {"description": "not JSON or CSV", **json_body("Error")}}}},
    "/api/v1/points": {"get": {
        "summary": "Coverage points the token may see, nearest first given lat and lon (WGS-84)",
        "security": BEARER,
        "parameters": [
            query("lat", "Latitude (WGS-84).", {"type": "number"}),
            query("lon", "Longitude (WGS-84).", {"type": "number"}),
            query("limit", "At most this many points.",
                  {"type": "integer", "minimum": 1, "maximum": POINTS_LIMIT[1],
                   "default": POINTS_LIMIT[0]}),
            COUNTY,
            query("technology", "Only this technology.",
                  {"type": "string", "enum": list(TECHNOLOGIES)})],
        "responses": {"200": {"description": "points", **json_body("PointList")},
                      **errors(400, 401, 403, 429)}}},
}
