"""Declared outages (停机报备) over the API: declare, list, read, shorten or end, cancel.

``POST /api/v1/outages`` (a county token declares for its county; an admin names the
county), ``GET /api/v1/outages`` (a county sees its own; an admin all, by county and
time), ``GET /api/v1/outages/{id}`` and its ``/audit`` (another county's is 404, as if
it did not exist), ``PATCH /api/v1/outages/{id}`` (a new, earlier ``end``, or ``"now"``)
and ``POST /api/v1/outages/{id}/cancel`` (admin only: the route table refuses the
others). The rules are ``netwatch.monitor.declared``'s, on the database thread; a
refusal comes back with its status (``outage_pages.REFUSAL_STATUS``) naming the field,
the devices or the other declaration. After every write the monitor's view of the
declarations is read again at once. The page is ``outage_pages``.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from netwatch.monitor import (
    REASONS,
    AuditEntry,
    Declaration,
    Refused,
    Wanted,
    audit_trail,
    cancel_declaration,
    declaration,
    declare,
    end_declaration,
    find_declarations,
    shorten_declaration,
)
from netwatch.notices import words
from netwatch.store import StoreThread
from netwatch.vocab import Role
from netwatch.web.api import integer, one
from netwatch.web.auth import ApiError, path_id, principal, store_away, visible_counties
from netwatch.web.bodies import parse_json
from netwatch.web.deps import WebDeps
from netwatch.web.openapi_parts import BEARER, errors, json_body, query
from netwatch.web.outage_pages import OutagePages, actor_of, moment, refusal_error

LIMIT = (200, 1000)  # default and largest page of GET /api/v1/outages
KEYS = frozenset({"county", "devices", "under", "site", "start", "end", "reason", "note"})


def as_json(d: Declaration, zone: ZoneInfo, now: float) -> dict[str, Any]:
    """A declaration as the API answers it (times ISO in the inventory's zone and Unix)."""

    def stamp(when: float | None) -> str | None:
        return None if when is None else datetime.fromtimestamp(when, zone).isoformat()

    return {"id": d.id, "county": d.county, "selector": d.selector,
            "devices": sorted(d.devices), "start": stamp(d.starts), "start_unix": d.starts,
            "end": stamp(d.ends), "end_unix": d.ends, "reason": d.reason,
            "reason_words": words.word(words.OUTAGE_REASONS, d.reason, "zh"), "note": d.note,
            "made_at": stamp(d.made_at), "made_by": d.made_by,
            "cancelled_at": stamp(d.cancelled_at), "cancelled_by": d.cancelled_by,
            "state": d.state(now)}


def audit_json(a: AuditEntry, zone: ZoneInfo) -> dict[str, Any]:
    def stamp(when: float | None) -> str | None:
        return None if when is None else datetime.fromtimestamp(when, zone).isoformat()

    return {"id": a.id, "action": a.action, "at": stamp(a.at), "at_unix": a.at,
            "actor": a.actor, "end_before": stamp(a.ends_before),
            "end_after": stamp(a.ends_after), "detail": a.detail}


def _body(raw: bytes) -> dict[str, Any]:
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise ApiError(400, "body must be a JSON object", None)
    return body


def routes(deps: WebDeps) -> list[web.RouteDef]:
    """This module's routes, bound to the daemon's parts."""

    def store() -> StoreThread:
        if deps.db is None:
            raise ApiError(503, "outages unavailable", "this daemon runs without a store")
        if not deps.db.status().up:
            raise store_away()
        return deps.db

    def zone() -> ZoneInfo:
        return ZoneInfo(deps.monitor.inventory.timezone)

    async def written() -> None:
        await deps.monitor.declared.refresh(force=True)

    async def found(request: web.Request) -> Declaration:
        """The declaration of the path; 404 when missing or another county's."""
        outage_id = path_id(request, "declaration")
        got = await store().call(declaration, outage_id)
        if got is None or not principal(request).can_see(got.county):
            raise ApiError(404, "no such declaration", {"id": outage_id})
        return got

    async def post(request: web.Request) -> web.Response:
        body = _body(await request.read())
        unknown = sorted(set(body) - KEYS)
        if unknown:
            raise ApiError(400, "unknown field", {"field": unknown[0], "known": sorted(KEYS)})
        info, inventory, now = principal(request), deps.monitor.inventory, time.time()
        county = body.get("county")
        if county is None and info.role != Role.ADMIN and len(info.counties) == 1:
            county = next(iter(info.counties))
        if not isinstance(county, str) or not county:
            raise ApiError(400, "county: name the county", {"field": "county"})
        for name in ("reason", "note"):
            if not isinstance(body.get(name, ""), str):
                raise ApiError(400, f"{name}: expected text", {"field": name})
        selector: dict[str, Any] = {k: body[k] for k in ("devices", "under", "site")
                                    if k in body}
        wanted = Wanted(county, selector,
                        moment(body.get("start", "now"), "start", inventory.timezone, now),
                        moment(body.get("end"), "end", inventory.timezone, now),
                        body.get("reason", ""), body.get("note", ""))
        try:
            made = await store().call(declare, inventory, wanted, actor_of(request), now)
        except Refused as exc:
            raise refusal_error(exc) from None
        await written()
        return web.json_response(as_json(made, zone(), now), status=201,
                                 headers={"Location": f"/api/v1/outages/{made.id}"})

    async def listing(request: web.Request) -> web.Response:
        counties = visible_counties(request, request.query.getall("county", []),
                                    deps.monitor.inventory.counties)
        now, tz = time.time(), deps.monitor.inventory.timezone
        start, end = one(request, "from"), one(request, "to")
        lo = None if start is None else moment(start, "from", tz, now)
        hi = None if end is None else moment(end, "to", tz, now)
        limit = integer(request, "limit", LIMIT[0], 1, LIMIT[1])
        got = await store().call(find_declarations, None if counties is None
                                 else sorted(counties), lo, hi, limit)
        return web.json_response({"total": len(got),
                                  "outages": [as_json(d, zone(), now) for d in got]})

    async def get_one(request: web.Request) -> web.Response:
        return web.json_response(as_json(await found(request), zone(), time.time()))

    async def audit(request: web.Request) -> web.Response:
        got = await found(request)
        trail = await store().call(audit_trail, got.id)
        return web.json_response({"id": got.id,
                                  "audit": [audit_json(a, zone()) for a in trail]})

    async def patch(request: web.Request) -> web.Response:
        got = await found(request)
        body = _body(await request.read())
        if set(body) != {"end"}:
            raise ApiError(400, 'send {"end": "ISO 8601 time"} or {"end": "now"}',
                           {"field": "end"})
        now = time.time()
        try:
            if body["end"] == "now":
                changed = await store().call(end_declaration, got.id, actor_of(request), now)
            else:
                new_end = moment(body["end"], "end", deps.monitor.inventory.timezone, now)
                changed = await store().call(shorten_declaration, got.id, new_end,
                                             actor_of(request), now)
        except Refused as exc:
            raise refusal_error(exc) from None
        await written()
        return web.json_response(as_json(changed, zone(), now))

    async def cancel(request: web.Request) -> web.Response:
        got = await found(request)
        raw = await request.read()
        note = _body(raw).get("note", "") if raw.strip() else ""
        if not isinstance(note, str):
            raise ApiError(400, "note: expected text", {"field": "note"})
        now = time.time()
        try:
            changed = await store().call(cancel_declaration, got.id, actor_of(request), now,
                                         note)
        except Refused as exc:
            raise refusal_error(exc) from None
        await written()
        return web.json_response(as_json(changed, zone(), now))

    pages = OutagePages(deps, store, written)
    return [
        web.post("/api/v1/outages", post),
        web.get("/api/v1/outages", listing),
        web.get(r"/api/v1/outages/{id:[0-9]+}", get_one),
        web.patch(r"/api/v1/outages/{id:[0-9]+}", patch),
        web.get(r"/api/v1/outages/{id:[0-9]+}/audit", audit),
        web.post(r"/api/v1/outages/{id:[0-9]+}/cancel", cancel),
        web.get("/outages", pages.list),
        web.post("/outages", pages.declare),
        web.post(r"/outages/{id:[0-9]+}/end", pages.end),
    ]


_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
_TIME = {"type": "string", "format": "date-time",
         "description": "ISO 8601; without an offset, the inventory's time zone"}

OPENAPI_SCHEMAS: dict[str, Any] = {
    "OutageIn": {"type": "object", "additionalProperties": False,
                 "required": ["end", "reason"],
                 "description": "exactly one of devices, under, site",
                 "properties": {
                     "county": {"type": "string", "description": "an admin must name it; a "
                                "county token of one county may leave it out"},
                     "devices": {"type": "array", "items": {"type": "string"}},
                     "under": {"type": "string",
                               "description": "a device: it and every device below it"},
                     "site": {"type": "string", "description": "every device of the site"},
                     "start": {**_TIME, "description": "not before now (a minute past is "
                               "taken as now), at most outages.max_ahead ahead; default now"},
                     "end": {**_TIME, "description": "after start, at most "
                             "outages.max_length later"},
                     "reason": {"type": "string", "enum": list(REASONS)},
                     "note": {"type": "string", "maxLength": 500,
                              "description": "required when reason is other"}}},
    "Outage": {"type": "object", "properties": {
        "id": {"type": "integer"}, "county": {"type": "string"},
        "selector": {"type": "object"},
        "devices": {"type": "array", "items": {"type": "string"}},
        "start": _TIME, "start_unix": {"type": "number"}, "end": _TIME,
        "end_unix": {"type": "number"}, "reason": {"type": "string", "enum": list(REASONS)},
        "reason_words": {"type": "string"}, "note": {"type": "string"},
        "made_at": _TIME, "made_by": {"type": "string", "description": "token id"},
        "cancelled_at": {"type": ["string", "null"]},
        "cancelled_by": {"type": ["string", "null"]},
        "state": {"type": "string", "enum": ["upcoming", "active", "ended", "cancelled"]}}},
    "OutageList": {"type": "object", "properties": {
        "total": {"type": "integer"},
        "outages": {"type": "array", "items": {"$ref": "#/components/schemas/Outage"}}}},
    "OutageAudit": {"type": "object", "properties": {
        "id": {"type": "integer"}, "audit": {"type": "array", "items": {
            "type": "object", "properties": {
                "id": {"type": "integer"},
                "action": {"type": "string", "enum": ["declare", "shorten", "end", "cancel"]},
                "at": _TIME, "at_unix": {"type": "number"},
                "actor": {"type": "string", "description": "token id"},
                "end_before": {"type": ["string", "null"]},
                "end_after": {"type": ["string", "null"]},
                "detail": {"type": "object"}}}}}},
}

_REFUSED = {"409": {"description": "overlaps a live declaration (detail.declaration names "
                    "it), over the county's monthly cap, or already ended or cancelled",
                    **json_body("Error")},
            "422": {"description": "a rule refused a field (detail.field names it), or an "
                    "unknown device or site", **json_body("Error")}}
OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/outages": {
        "post": {"summary": "A county declares a planned outage (停机报备) of its devices",
                 "security": BEARER,
                 "requestBody": {"required": True, "content": {"application/json": {
                     "schema": {"$ref": "#/components/schemas/OutageIn"}}}},
                 "responses": {"201": {"description": "recorded", **json_body("Outage")},
                               **errors(400, 401, 403, 413, 429, 503), **_REFUSED}},
        "get": {"summary": "Declared outages, newest first (a county token sees its own)",
                "security": BEARER,
                "parameters": [
                    query("county", "Only these counties (repeatable).",
                          {"type": "string", "minLength": 1}, repeat=True),
                    query("from", "Covering time from (ISO 8601).", {"type": "string"}),
                    query("to", "Covering time before (ISO 8601).", {"type": "string"}),
                    query("limit", "Most declarations returned.",
                          {"type": "integer", "minimum": 1, "maximum": LIMIT[1],
                           "default": LIMIT[0]})],
                "responses": {"200": {"description": "declarations", **json_body("OutageList")},
                              **errors(400, 401, 403, 429, 503)}}},
    "/api/v1/outages/{id}": {
        "get": {"summary": "One declaration", "security": BEARER, "parameters": [_ID],
                "responses": {"200": {"description": "the declaration", **json_body("Outage")},
                              **errors(401, 404, 429, 503)}},
        "patch": {"summary": "Shorten a declaration (a new, earlier end) or end it now",
                  "security": BEARER, "parameters": [_ID],
                  "requestBody": {"required": True, "content": {"application/json": {
                      "schema": {"type": "object", "required": ["end"],
                                 "additionalProperties": False,
                                 "properties": {"end": {"type": "string", "description":
                                     "ISO 8601, earlier than the current end and not before "
                                     "now; or \"now\" (ending one not begun withdraws it)"}}}}}},
                  "responses": {"200": {"description": "changed", **json_body("Outage")},
                                **errors(400, 401, 403, 404, 429, 503), **_REFUSED}}},
    "/api/v1/outages/{id}/audit": {"get": {
        "summary": "Every declaration, change and cancellation of one declaration, who and when",
        "security": BEARER, "parameters": [_ID],
        "responses": {"200": {"description": "its audit trail", **json_body("OutageAudit")},
                      **errors(401, 404, 429, 503)}}},
    "/api/v1/outages/{id}/cancel": {"post": {
        "summary": "An admin cancels a declaration (a county token gets 403)",
        "security": BEARER, "parameters": [_ID],
        "requestBody": {"required": False, "content": {"application/json": {"schema": {
            "type": "object", "properties": {"note": {"type": "string"}}}}}},
        "responses": {"200": {"description": "cancelled", **json_body("Outage")},
                      **errors(400, 401, 403, 404, 429, 503), **_REFUSED}}},
    "/outages": {
        "get": {"summary": "Declared outages as a page, with the form to declare one",
                "security": BEARER,
                "responses": {"200": {"description": "text/html"}, **errors(401, 429)}},
        "post": {"summary": "The page's declaration form (session and csrf_token)",
                 "security": [{"session": []}],
                 "requestBody": {"required": True, "content": {
                     "application/x-www-form-urlencoded": {"schema": {
                         "type": "object", "required": ["what", "end", "reason", "csrf_token"],
                         "properties": {
                             "county": {"type": "string"},
                             "how": {"type": "string", "enum": ["devices", "under", "site"]},
                             "what": {"type": "string", "description": "device ids, a switch "
                                      "or a site, as how says"},
                             "start": {"type": "string"}, "end": {"type": "string"},
                             "reason": {"type": "string", "enum": list(REASONS)},
                             "note": {"type": "string"}, "csrf_token": {"type": "string"}}}}}},
                 "responses": {"303": {"description": "recorded: back to the list"},
                               "400": {"description": "refused: the page again, saying why"},
                               **errors(401, 403, 429), **_REFUSED}}},
    "/outages/{id}/end": {"post": {
        "summary": "The page's form to end a declaration early (session and csrf_token)",
        "security": [{"session": []}], "parameters": [_ID],
        "requestBody": {"required": True, "content": {
            "application/x-www-form-urlencoded": {"schema": {
                "type": "object", "required": ["csrf_token"],
                "properties": {"csrf_token": {"type": "string"}}}}}},
        "responses": {"303": {"description": "ended: back to the list"},
                      **errors(401, 403, 404, 429), **_REFUSED}}},
}
