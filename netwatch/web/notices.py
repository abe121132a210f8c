"""Notice pages and API: ``/notices``, ``GET /api/v1/notices``, a notice as JSON/HTML/Markdown."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import time
from dataclasses import asdict
from typing import Any

from aiohttp import web

from netwatch.notices.items import NOTE_MAX, AckError, acknowledge, item_county
from netwatch.notices.record import NoticeRecord
from netwatch.notices.render import render_html, render_markdown, title
from netwatch.store import Store
from netwatch.web.auth import ApiError, path_id, principal
from netwatch.web.bodies import parse_json
from netwatch.web.deps import WebDeps
from netwatch.web.openapi_parts import BEARER, errors, json_body, query

_LANGS = ("zh", "en")
_STYLE = re.compile(r"<style>(.*?)</style>", re.S)


def _csp(document: str) -> str:
    """A policy allowing exactly the document's own inline style block and nothing else."""
    found = _STYLE.search(document)
    digest = hashlib.sha256((found.group(1) if found else "").encode()).digest()
    return (f"default-src 'none'; style-src 'sha256-{base64.b64encode(digest).decode()}'; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def routes(deps: WebDeps) -> list[web.RouteDef]:
    """This module's routes, bound to the daemon's parts."""

    def store() -> Store:
        if deps.store is None:
            raise ApiError(503, "notices unavailable", "this daemon runs without a store")
        return deps.store

    def load(request: web.Request) -> NoticeRecord:
        """The notice named in the path, 404 when missing or outside the token's counties."""
        number = path_id(request, "notice")
        row = store().conn.execute(
            "SELECT county, record FROM notices WHERE id = ?", (number,)).fetchone()
        if row is None or not principal(request).can_see(row["county"]):
            raise ApiError(404, "no such notice", {"id": number})
        return NoticeRecord.from_json(row["record"])

    def listing(request: web.Request) -> list[dict[str, Any]]:
        """Summary fields of the notices the token may see, newest first, filtered."""
        info = principal(request)
        q = request.query
        county, start, end = q.get("county"), q.get("from"), q.get("to")
        if county == "":
            raise ApiError(400, "query parameter 'county': empty", "name a county or leave it out")
        if county is not None and not info.can_see(county):
            raise ApiError(403, "county outside this token's scope", {"counties": [county]})
        rows = store().conn.execute(
            "SELECT id, county, issue_date, number, record FROM notices "
            "ORDER BY issue_date DESC, id DESC").fetchall()
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
        notices = listing(request)
        return web.json_response({"notices": notices, "total": len(notices)})

    async def api_one(request: web.Request) -> web.Response:
        return web.Response(text=load(request).to_json(), content_type="application/json")

    async def page_list(request: web.Request) -> web.Response:
        rows = "".join(
            f'<tr><td><a href="/notices/{n["id"]}">{html.escape(n["number"])}</a></td>'
            f'<td>{html.escape(n["county_name"])}</td><td>{html.escape(n["issue_date"])}</td>'
            f'<td>{html.escape(n["title"])}</td><td>{n["items"]}</td><td>{n["overdue"]}</td></tr>'
            for n in listing(request))
        body = ('<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>通知</title>'
                '</head><body><h1>通知</h1><table><tr><th>文号</th><th>县区</th><th>日期</th>'
                f'<th>标题</th><th>问题</th><th>逾期</th></tr>{rows}</table></body></html>')
        return web.Response(text=body, content_type="text/html")

    async def page_one(request: web.Request) -> web.Response:
        lang = request.query.get("lang", "zh")
        if lang not in _LANGS:
            raise ApiError(400, "unknown lang", {"lang": lang, "known": list(_LANGS)})
        document = render_html(load(request), lang)
        return web.Response(text=document, content_type="text/html",
                            headers={"Content-Security-Policy": _csp(document)})

    async def page_md(request: web.Request) -> web.Response:
        lang = request.query.get("lang", "zh")
        if lang not in _LANGS:
            raise ApiError(400, "unknown lang", {"lang": lang, "known": list(_LANGS)})
        return web.Response(text=render_markdown(load(request), lang), content_type="text/markdown")

    async def api_ack(request: web.Request) -> web.Response:
        """A county acknowledges an item: a note and a promised date; the state never changes."""
        info = principal(request)
        item = path_id(request, "notice item")
        county = item_county(store().conn, item)
        if county is None or not info.can_see(county):
            raise ApiError(404, "no such notice item", {"id": item})
        if info.role == "tester":
            raise ApiError(403, "county or admin token required", "testers submit readings only")
        body = parse_json(await request.read())
        if not isinstance(body, dict):
            raise ApiError(400, "body must be a JSON object",
                           'send {"note": "...", "promised_date": "YYYY-MM-DD"}')
        try:
            ack = acknowledge(store(), item, body.get("note", ""),
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
        web.get(r"/notices/{id:[0-9]+}.md", page_md),
        web.get(r"/notices/{id:[0-9]+}", page_one),
    ]


_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
_LANG = query("lang", "Language of the rendering.", {"type": "string", "enum": list(_LANGS),
              "default": "zh"})
_PAGE = {"description": "the notice as a printable page",
         "content": {"text/html": {"schema": {"type": "string"}}}}

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
    "Notice": {"type": "object", "description": "the immutable notice record (JSON file)"},
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
    "/notices/{id}": {"get": {"summary": "One notice as a printable page", "security": BEARER,
                              "parameters": [_ID, _LANG],
                              "responses": {"200": _PAGE, **errors(400, 401, 404, 429)}}},
    "/notices/{id}.md": {"get": {"summary": "One notice as Markdown", "security": BEARER,
                                 "parameters": [_ID, _LANG],
                                 "responses": {"200": {"description": "text/markdown"},
                                               **errors(400, 401, 404, 429)}}},
}
