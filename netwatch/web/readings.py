"""``GET /api/v1/readings``: a tester's own readings, newest first (an admin sees everyone's).

A tester checks here what reached the server from the field; other testers' readings
(their positions and times) stay out of sight, and county tokens read coverage through
blind spots, not raw positions. The tester of a reading is the token's name (or id),
as ``POST /api/v1/readings`` stored it.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from netwatch.survey import readings_page
from netwatch.vocab import Role
from netwatch.web.api import Clock, integer
from netwatch.web.auth import ApiError, principal
from netwatch.web.deps import WebDeps
from netwatch.web.openapi_parts import BEARER, errors, json_body, query, stamps

LIMIT = (100, 1000)  # default and maximum page size
FIELDS = ("id", "tester", "county", "point", "lat", "lon", "technology", "rssi_dbm", "ber",
          "rsrp_dbm", "sinr_db", "no_service", "serving_site", "note", "source")


def routes(deps: WebDeps) -> list[web.RouteDef]:
    """This module's routes, bound to the daemon's parts."""

    async def own_readings(request: web.Request) -> web.Response:
        if deps.db is None:
            raise ApiError(503, "readings unavailable", "this daemon runs without a store")
        info = principal(request)
        limit = integer(request, "limit", LIMIT[0], 1, LIMIT[1])
        offset = integer(request, "offset", 0, 0, 10**9)
        tester = None if info.role == Role.ADMIN else info.name or info.id
        total, rows = await deps.db.call(readings_page, tester, limit, offset)
        clock = Clock(deps.monitor.inventory.timezone)
        out = []
        for row in rows:
            item: dict[str, Any] = {name: row[name] for name in FIELDS}
            item["no_service"] = bool(item["no_service"])
            clock.stamp(item, "taken_at", row["taken_at"])
            clock.stamp(item, "received_at", row["received_at"])
            out.append(item)
        return web.json_response({"total": total, "offset": offset, "limit": limit,
                                  "readings": out})

    return [web.get("/api/v1/readings", own_readings)]


_NUMBER_OR_NULL = {"type": ["number", "null"]}
_TEXT_OR_NULL = {"type": ["string", "null"]}
OPENAPI_SCHEMAS: dict[str, Any] = {
    "Reading": {"type": "object", "properties": {
        "id": {"type": "integer"}, "tester": {"type": "string"}, "county": {"type": "string"},
        "point": _TEXT_OR_NULL, "lat": {"type": "number"}, "lon": {"type": "number"},
        "technology": {"type": "string"}, "rssi_dbm": _NUMBER_OR_NULL, "ber": _NUMBER_OR_NULL,
        "rsrp_dbm": _NUMBER_OR_NULL, "sinr_db": _NUMBER_OR_NULL,
        "no_service": {"type": "boolean"}, "serving_site": _TEXT_OR_NULL,
        "note": _TEXT_OR_NULL, "source": {"type": "string", "enum": ["api", "form", "import"]},
        **stamps("taken_at", "received_at")}},
    "ReadingPage": {"type": "object", "properties": {
        "total": {"type": "integer"}, "offset": {"type": "integer"},
        "limit": {"type": "integer"},
        "readings": {"type": "array", "items": {"$ref": "#/components/schemas/Reading"}}}},
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/readings": {"get": {
        "summary": "The token's own readings, newest first (an admin token sees all)",
        "security": BEARER,
        "parameters": [
            query("limit", "Page size.", {"type": "integer", "minimum": 1,
                                          "maximum": LIMIT[1], "default": LIMIT[0]}),
            query("offset", "Readings to skip.", {"type": "integer", "minimum": 0,
                                                  "default": 0})],
        "responses": {"200": {"description": "a page of readings", **json_body("ReadingPage")},
                      **errors(400, 401, 403, 429, 503)}}},
}
