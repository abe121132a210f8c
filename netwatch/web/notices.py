"""Notice API and routes: ``GET /api/v1/notices``, one notice's record and its formats.

The pages themselves (list, one notice, its files, the acknowledgement form) are
``netwatch.web.notice_pages``. Notices, items and acknowledgements are read and
written on the database thread.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

from aiohttp import web

from netwatch.notices import (
    LANGS,
    MEDIA,
    NOTE_MAX,
    AckError,
    NoticeRecord,
    acknowledge,
    every_notice,
    item_county,
    notice_by_id,
    title,
    with_links,
)
from netwatch.store import StoreThread
from netwatch.web.auth import ApiError, path_id, principal
from netwatch.web.bodies import parse_json
from netwatch.web.deps import WebDeps
from netwatch.web.notice_pages import NoticePages
from netwatch.web.openapi_parts import BEARER, errors, json_body, query


def routes(deps: WebDeps) -> list[web.RouteDef]:
    """This module's routes, bound to the daemon's parts."""

    def store() -> StoreThread:
        if deps.db is None:
            raise ApiError(503, "notices unavailable", "this daemon runs without a store")
        return deps.db

    async def found(request: web.Request) -> tuple[int, str]:
        """The notice named in the path (id, record JSON), 404 when missing or out of scope."""
        number = path_id(request, "notice")
        found = await store().call(notice_by_id, number)
        if found is None or not principal(request).can_see(found[0]):
            raise ApiError(404, "no such notice", {"id": number})
        return number, found[1]

    async def load(request: web.Request) -> tuple[int, NoticeRecord]:
        notice_id, text = await found(request)
        return notice_id, NoticeRecord.from_json(text)

    pages = NoticePages(load, store, lambda: deps.monitor.inventory.notices.timezone)

    async def listing(request: web.Request) -> list[dict[str, Any]]:
        """Summary fields of the notices the token may see, newest first, filtered."""
        info = principal(request)
        q = request.query
        county, start, end = q.get("county"), q.get("from"), q.get("to")
        if county == "":
            raise ApiError(400, "query parameter 'county': empty", "name a county or leave it out")
        if county is not None and not info.can_see(county):
            raise ApiError(403, "county outside this token's scope", {"counties": [county]})
        rows = await store().call(every_notice)
        out = []
        for r in rows:
            if not info.can_see(r["county"]) or (county and r["county"] != county):
                continue
            if (start and r["issue_date"] < start) or (end and r["issue_date"] > end):
                continue
            rec = NoticeRecord.from_json(r["record"])
            out.append({
                "id": r["id"], "number": rec.number, "county": rec.county,
                "county_name": rec.county_name, "issue_date": rec.issue_date,
                "deadline": rec.deadline, "title": title(rec, "zh"),
                "items": len(rec.items), "carried": len(rec.carried),
                "overdue": sum(1 for i in rec.carried if i.overdue)})
        return out

    async def api_list(request: web.Request) -> web.Response:
        notices = await listing(request)
        return web.json_response({"notices": notices, "total": len(notices)})

    async def api_one(request: web.Request) -> web.Response:
        """The record, plus ``formats``: where each rendering is served."""
        notice_id, text = await found(request)
        return web.Response(text=with_links(text, notice_id), content_type="application/json")

    async def page_list(request: web.Request) -> web.Response:
        return pages.page("notices.html", notices=await listing(request))

    async def api_ack(request: web.Request) -> web.Response:
        """A county acknowledges an item: a note and a promised date; the state never changes."""
        info = principal(request)
        item = path_id(request, "notice item")
        county = await store().call(item_county, item)
        if county is None or not info.can_see(county):
            raise ApiError(404, "no such notice item", {"id": item})
        body = parse_json(await request.read())
        if not isinstance(body, dict):
            raise ApiError(400, "body must be a JSON object",
                           'send {"note": "...", "promised_date": "YYYY-MM-DD"}')
        try:
            ack = await store().call(acknowledge, item, body.get("note", ""),
                                     body.get("promised_date", ""), info.id, time.time(),
                                     deps.monitor.inventory.notices.timezone)
        except AckError as exc:
            raise ApiError(400, "acknowledgement refused", str(exc)) from None
        except LookupError:
            raise ApiError(404, "no such notice item", {"id": item}) from None
        return web.json_response({"item": item, "acknowledgement": asdict(ack)})

    return [
        web.post(r"/api/v1/notice-items/{id:[0-9]+}/ack", api_ack),
        web.get("/api/v1/notices", api_list),
        web.get("/api/v1/notices/{id}", api_one),
        web.get("/notices", page_list),
        web.get(r"/notices/{id:[0-9]+}.{fmt:(html|md|pdf|docx|xlsx)}", pages.file),
        web.get(r"/notices/{id:[0-9]+}", pages.notice),
        web.post(r"/notices/{id:[0-9]+}/items/{item:[0-9]+}/ack", pages.ack),
    ]


_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
_LANG = query("lang", "Language of the rendering.", {"type": "string", "enum": list(LANGS),
              "default": "zh"})

OPENAPI_SCHEMAS: dict[str, Any] = {
    "NoticeSummary": {"type": "object", "properties": {
        "id": {"type": "integer"}, "number": {"type": "string"}, "county": {"type": "string"},
        "county_name": {"type": "string"}, "issue_date": {"type": "string", "format": "date"},
        "deadline": {"type": ["string", "null"]}, "title": {"type": "string"},
        "items": {"type": "integer"}, "carried": {"type": "integer"},
        "overdue": {"type": "integer"}}},
    "NoticeList": {"type": "object", "properties": {
        "total": {"type": "integer"},
        "notices": {"type": "array", "items": {"$ref": "#/components/schemas/NoticeSummary"}}}},
    "Notice": {"type": "object", "description": "the immutable notice record (JSON file), plus "
               "formats: {zh|en: {html, pdf, docx, xlsx, md: URL path}}"},
    "Acknowledgement": {"type": "object", "properties": {
        "item": {"type": "integer"}, "acknowledgement": {"type": "object", "properties": {
            "note": {"type": "string"}, "promised": {"type": "string", "format": "date"},
            "at": {"type": "string", "format": "date-time"}, "by": {"type": "string"}}}}},
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/notices": {"get": {
        "summary": "Issued notices, newest first (a county token sees its own)",
        "security": BEARER,
        "parameters": [query("county", "Only this county.", {"type": "string", "minLength": 1}),
                       query("from", "Issued on or after (YYYY-MM-DD).", {"type": "string"}),
                       query("to", "Issued on or before (YYYY-MM-DD).", {"type": "string"})],
        "responses": {"200": {"description": "notices", **json_body("NoticeList")},
                      **errors(400, 401, 403, 429, 503)}}},
    "/api/v1/notices/{id}": {"get": {
        "summary": "One notice's record", "security": BEARER, "parameters": [_ID],
        "responses": {"200": {"description": "the record", **json_body("Notice")},
                      **errors(401, 404, 429, 503)}}},
    "/api/v1/notice-items/{id}/ack": {"post": {
        "summary": "A county acknowledges an item (note, promised date); only probes close it",
        "security": BEARER, "parameters": [_ID],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["note", "promised_date"],
            "properties": {"note": {"type": "string", "minLength": 1, "maxLength": NOTE_MAX,
                                    "pattern": "\\S",
                                    "description": "not blank; surrounding spaces are dropped"},
                           "promised_date": {"type": "string", "format": "date"}}}}}},
        "responses": {"200": {"description": "recorded", **json_body("Acknowledgement")},
                      **errors(400, 401, 403, 404, 429, 503)}}},
    "/notices": {"get": {"summary": "Notices as a page", "security": BEARER,
                         "responses": {"200": {"description": "text/html"},
                                       **errors(401, 429)}}},
    "/notices/{id}": {"get": {"summary": "One notice: its files and its items' states now",
                              "security": BEARER, "parameters": [_ID],
                              "responses": {"200": {"description": "text/html"},
                                            **errors(401, 404, 429)}}},
    "/notices/{id}.{fmt}": {"get": {
        "summary": "One notice as printable HTML, PDF, Word, Excel or Markdown",
        "security": BEARER,
        "parameters": [_ID, {"name": "fmt", "in": "path", "required": True,
                             "schema": {"type": "string", "enum": list(MEDIA)}}, _LANG],
        "responses": {"200": {"description": "the rendering (PDF inline, DOCX and XLSX as "
                                             "downloads named like the notice's files)",
                              "content": {media: {"schema": {"type": "string"}}
                                          for media in MEDIA.values()}},
                      **errors(400, 401, 404, 429),
                      "503": {"description": "the notice renderer is busy: this file would "
                              "wait too long to be laid out; ask again after Retry-After "
                              "seconds", **json_body("Error")}}}},
    "/notices/{id}/items/{item}/ack": {"post": {
        "summary": "The notice page's acknowledgement form (session and csrf_token)",
        "security": [{"session": []}],
        "parameters": [_ID, {"name": "item", "in": "path", "required": True,
                             "schema": {"type": "integer"}}],
        "requestBody": {"required": True, "content": {
            "application/x-www-form-urlencoded": {"schema": {
                "type": "object", "required": ["note", "promised_date", "csrf_token"],
                "properties": {"note": {"type": "string"},
                               "promised_date": {"type": "string", "format": "date"},
                               "csrf_token": {"type": "string"}}}}}},
        "responses": {"303": {"description": "recorded: back to the notice page"},
                      "400": {"description": "refused: the page again, saying why"},
                      **errors(401, 403, 404, 429)}}},
}
