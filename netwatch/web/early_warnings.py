"""``GET /api/v1/warnings``: the early warnings (预警) raised now, narrowed to the token's counties.

Answered from the store for every county alike (``device_warnings``, written by each
county's active instance when a warning is raised or cleared, ``netwatch.monitor.trends``),
so any instance gives the same answer. A warning is no fault: it has no episode, no
deadline and no notice item.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from netwatch.inventory import KINDS
from netwatch.monitor import current_warnings
from netwatch.vocab import Warning
from netwatch.web.api import Clock, one
from netwatch.web.auth import visible_counties
from netwatch.web.deps import WebDeps
from netwatch.web.openapi_parts import BEARER, COUNTY, KIND, errors, json_body, query, stamps


def routes(deps: WebDeps) -> list[web.RouteDef]:
    """This module's routes, bound to the daemon's parts."""

    async def warnings(request: web.Request) -> web.Response:
        """GET /api/v1/warnings: the warnings raised now that the token may see, filtered."""
        inventory = deps.monitor.inventory
        counties = visible_counties(request, request.query.getall("county", []),
                                    inventory.counties)
        kind = one(request, "kind", KINDS)
        warning = one(request, "warning", Warning)
        found = await deps.monitor.db.call(
            current_warnings, sorted(inventory.counties if counties is None else counties))
        clock = Clock(inventory.timezone)
        names = {d.id: d.name for d in inventory.devices}
        items: list[dict[str, Any]] = []
        for w in found:
            if (kind is None or w.kind == kind) and (warning is None or w.warning == warning):
                item: dict[str, Any] = {"device": w.device, "name": names.get(w.device, ""),
                                        "county": w.county, "kind": w.kind,
                                        "warning": w.warning, "figures": w.figures}
                clock.stamp(item, "since", w.since)
                items.append(item)
        return web.json_response({"count": len(items), "warnings": items})

    return [web.get("/api/v1/warnings", warnings)]


OPENAPI_SCHEMAS: dict[str, Any] = {
    "EarlyWarning": {"type": "object", "properties": {
        "device": {"type": "string"}, "name": {"type": "string"},
        "county": {"type": "string"}, "kind": {"type": "string"},
        "warning": {"type": "string", "enum": list(Warning)},
        "figures": {"type": "object", "additionalProperties": {"type": "number"},
                    "description": "what it was judged on: baseline and recent (loss ratio, "
                                   "RTT seconds), errors, count, changes, seconds_per_day…"},
        **stamps("since")}},
    "EarlyWarningList": {"type": "object", "properties": {
        "count": {"type": "integer"},
        "warnings": {"type": "array", "items": {"$ref": "#/components/schemas/EarlyWarning"}}}},
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/warnings": {"get": {
        "summary": "Early warnings (预警) raised now: trends short of a fault",
        "security": BEARER,
        "parameters": [
            COUNTY, KIND,
            query("warning", "Only this warning.", {"type": "string", "enum": list(Warning)})],
        "responses": {"200": {"description": "warnings, by county and device",
                              **json_body("EarlyWarningList")},
                      **errors(400, 401, 403, 429, 503)}}},
}
