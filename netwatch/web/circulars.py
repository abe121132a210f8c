"""The monthly circulars on the web: ``GET /api/v1/circulars``, one record, the pages, the files.

A circular is city-wide and addressed to every county, so every county's token or
session reads every circular (as admins do); nothing here is narrowed to a county.
``/circulars`` lists them, ``/circulars/{id}`` shows one (its rankings, whom it praises
and names, each county's counts) with its files, served as ``.html`` (the printable
document, with its own CSP), ``.pdf``, ``.docx`` and ``.xlsx``, laid out in the render
pool as the notices' files are (``netwatch.web.renders``), and ``.json`` (the record);
the deliveries' webhook bodies link to these (``netwatch.circulars.links``).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from aiohttp import web

from netwatch.circulars import (
    FORMATS,
    RENDERERS,
    CircularRecord,
    circular_by_id,
    every_circular,
    links,
    stem,
    title,
)
from netwatch.notices import MEDIA
from netwatch.store import StoreThread
from netwatch.web.auth import ApiError, path_id
from netwatch.web.deps import WebDeps
from netwatch.web.notice_pages import CLIENT_GONE, document_csp
from netwatch.web.openapi_parts import BEARER, errors, json_body
from netwatch.web.pages import environment
from netwatch.web.renders import RENDERS, ClientGone, RenderBusy

LABELS = (("html", "打印版 HTML"), ("pdf", "PDF"), ("docx", "Word"), ("xlsx", "Excel"),
          ("json", "JSON"))
RENDER_KEY = "circular"  # the render pool's third key part: no notice language is this
JSON = "application/json"
_FMT = "|".join(FORMATS)


def paths(circular_id: int) -> dict[str, str]:
    """Where each of the circular's files is served (paths: the app's own links)."""
    return links(circular_id, "")


def routes(deps: WebDeps) -> list[web.RouteDef]:
    """This module's routes, bound to the daemon's parts."""
    env = environment()

    def store() -> StoreThread:
        if deps.db is None:
            raise ApiError(503, "circulars unavailable", "this daemon runs without a store")
        return deps.db

    async def found(request: web.Request) -> tuple[int, str]:
        """The circular named in the path (id, record JSON), 404 when there is none."""
        number = path_id(request, "circular")
        text = await store().call(circular_by_id, number)
        if text is None:
            raise ApiError(404, "no such circular", {"id": number})
        return number, text

    async def listing() -> list[dict[str, Any]]:
        rows = await store().call(every_circular)
        return [{"id": r["id"], "month": r["month"], "number": r["number"],
                 "issue_date": r["issue_date"], "formats": paths(r["id"])} for r in rows]

    def page(template: str, **values: object) -> web.Response:
        return web.Response(text=env.get_template(template).render(**values),
                            content_type="text/html", charset="utf-8",
                            headers={"Cache-Control": "no-store"})

    async def api_list(request: web.Request) -> web.Response:
        circulars = await listing()
        return web.json_response({"circulars": circulars, "total": len(circulars)})

    async def api_one(request: web.Request) -> web.Response:
        """The record, plus ``formats``: where each rendering is served."""
        circular_id, text = await found(request)
        body = {**json.loads(text), "formats": paths(circular_id)}
        return web.json_response(body, dumps=lambda o: json.dumps(o, ensure_ascii=False))

    async def page_list(request: web.Request) -> web.Response:
        return page("circulars.html", circulars=await listing())

    async def page_one(request: web.Request) -> web.Response:
        circular_id, text = await found(request)
        record = CircularRecord.from_json(text)
        return page("circular.html", r=record, title=title(record), formats=LABELS,
                    links=paths(circular_id))

    async def file(request: web.Request) -> web.Response:
        """A rendering from the render pool (cached: circulars never change); the record."""
        circular_id, text = await found(request)
        fmt = request.match_info["fmt"]
        if fmt == "json":
            return web.Response(text=text, content_type=JSON, charset="utf-8",
                                headers={"Cache-Control": "private, max-age=300"})
        record = CircularRecord.from_json(text)

        def gone() -> bool:
            transport = request.transport
            return transport is None or transport.is_closing()

        try:
            data = await request.app[RENDERS].get(
                (circular_id, fmt, RENDER_KEY), lambda: RENDERERS[fmt](record), gone)
        except RenderBusy as exc:
            raise ApiError(503, "circular renderer busy", str(exc),
                           {"Retry-After": str(exc.retry_after)}) from None
        except ClientGone:
            return web.Response(status=CLIENT_GONE)
        headers = {"Cache-Control": "private, max-age=300"}
        if fmt == "html":
            headers["Content-Security-Policy"] = document_csp(data.decode())
        else:
            how = "inline" if fmt == "pdf" else "attachment"
            name = f"{stem(record)}.{fmt}"
            headers["Content-Disposition"] = f"{how}; filename*=UTF-8''{quote(name)}"
        return web.Response(body=data, content_type=MEDIA[fmt],
                            charset="utf-8" if fmt == "html" else None, headers=headers)

    return [
        web.get("/api/v1/circulars", api_list),
        web.get(r"/api/v1/circulars/{id}", api_one),
        web.get("/circulars", page_list),
        web.get(r"/circulars/{id:[0-9]+}.{fmt:(" + _FMT + ")}", file),
        web.get(r"/circulars/{id:[0-9]+}", page_one),
    ]


_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
_FORMATS = {"type": "object", "description": "{html, pdf, docx, xlsx, json: URL path}"}

OPENAPI_SCHEMAS: dict[str, Any] = {
    "CircularSummary": {"type": "object", "properties": {
        "id": {"type": "integer"}, "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
        "number": {"type": "string"}, "issue_date": {"type": "string", "format": "date"},
        "formats": _FORMATS}},
    "CircularList": {"type": "object", "properties": {
        "total": {"type": "integer"},
        "circulars": {"type": "array",
                      "items": {"$ref": "#/components/schemas/CircularSummary"}}}},
    "Circular": {"type": "object", "description": "the immutable circular record (its JSON "
                 "file: rankings, counties, praised, criticised, the rules), plus formats"},
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/circulars": {"get": {
        "summary": "Issued monthly circulars (月度通报), newest month first (city-wide: every "
                   "county reads them)",
        "security": BEARER,
        "responses": {"200": {"description": "circulars", **json_body("CircularList")},
                      **errors(401, 403, 429, 503)}}},
    "/api/v1/circulars/{id}": {"get": {
        "summary": "One circular's record", "security": BEARER, "parameters": [_ID],
        "responses": {"200": {"description": "the record", **json_body("Circular")},
                      **errors(401, 403, 404, 429, 503)}}},
    "/circulars": {"get": {"summary": "Circulars as a page", "security": BEARER,
                           "responses": {"200": {"description": "text/html"},
                                         **errors(401, 403, 429)}}},
    "/circulars/{id}": {"get": {"summary": "One circular: its rankings, mentions and files",
                                "security": BEARER, "parameters": [_ID],
                                "responses": {"200": {"description": "text/html"},
                                              **errors(401, 403, 404, 429)}}},
    "/circulars/{id}.{fmt}": {"get": {
        "summary": "One circular as printable HTML, PDF (GB/T 9704), Word, Excel (the "
                   "ranking tables) or its JSON record",
        "security": BEARER,
        "parameters": [_ID, {"name": "fmt", "in": "path", "required": True,
                             "schema": {"type": "string", "enum": list(FORMATS)}}],
        "responses": {"200": {"description": "the rendering (PDF inline, DOCX and XLSX as "
                                             "downloads named like the circular's files)",
                              "content": {MEDIA.get(fmt, JSON): {"schema": {"type": "string"}}
                                          for fmt in FORMATS}},
                      **errors(401, 403, 404, 429),
                      "503": {"description": "the renderer is busy; ask again after "
                              "Retry-After seconds", **json_body("Error")}}}},
}
