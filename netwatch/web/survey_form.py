"""The phone form for field testers: ``GET /survey`` and its static script and styles.

The page is static HTML: the script (``static/survey.js``) lists the coverage points
nearest the phone, queues each reading on the phone and posts it to
``/api/v1/readings`` with the session's CSRF token, which the page carries in a
``<meta>`` because its CSP allows no inline script. A service worker
(``static/survey-sw.js``) keeps the page, its assets and the last points list, so the
form opens where there is no network, which is where testers go. Only tester and
admin tokens submit readings, so only they get the form.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from aiohttp import web

from netwatch.vocab import Role
from netwatch.web.auth import SESSION, ApiError, principal
from netwatch.web.deps import WebDeps
from netwatch.web.pages import environment
from netwatch.web.session_store import Session

ROLES = (Role.TESTER, Role.ADMIN)
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
WORKER_CSP = "default-src 'none'; connect-src 'self'"  # a worker's own policy: it fetches
ASSETS = {  # path → file under static/, type; the worker sits at the root to cover /survey
    "/static/survey.js": ("survey.js", "text/javascript"),
    "/static/survey.css": ("survey.css", "text/css"),
    "/survey-sw.js": ("survey-sw.js", "text/javascript"),
}


def routes(deps: WebDeps) -> list[web.RouteDef]:
    """This module's routes, bound to the daemon's parts."""
    env = environment()
    static = files("netwatch.web").joinpath("static")

    async def form(request: web.Request) -> web.Response:
        info = principal(request)
        if info.role not in ROLES:
            raise ApiError(403, "tester or admin token required",
                           f"the survey form submits readings; this token's role is {info.role}")
        session: Session | None = request.get(SESSION)
        text = env.get_template("survey.html").render(
            csrf=session.csrf if session is not None else "",
            tester=info.name or info.id)
        return web.Response(text=text, content_type="text/html", charset="utf-8",
                            headers={"Content-Security-Policy": CSP,
                                     "Cache-Control": "no-store"})

    def asset(path: str) -> web.RouteDef:
        name, kind = ASSETS[path]
        body = static.joinpath(name).read_bytes()

        async def serve(request: web.Request) -> web.Response:
            return web.Response(body=body, content_type=kind, charset="utf-8",
                                headers={"Cache-Control": "no-cache",
                                         "Content-Security-Policy": WORKER_CSP})

        return web.get(path, serve)

    return [web.get("/survey", form), *(asset(path) for path in ASSETS)]


_ASSET: dict[str, Any] = {"summary": "An asset of the survey and login pages", "security": [],
                          "responses": {"200": {"description": "script or stylesheet"}}}

OPENAPI_PATHS: dict[str, Any] = {
    "/survey": {"get": {
        "summary": "The phone form for field testers (HTML; tester or admin session)",
        "security": [{"session": []}, {"bearer": []}],
        "responses": {"200": {"description": "text/html"},
                      "303": {"description": "no session: to /login"},
                      "403": {"description": "not a tester or admin token"}}}},
    "/static/survey.js": {"get": _ASSET},
    "/survey-sw.js": {"get": {**_ASSET, "summary": "The form's service worker: it opens offline"}},
    "/static/survey.css": {"get": _ASSET},
}
