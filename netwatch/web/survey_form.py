"""The phone form for field testers: ``GET /survey`` and its static script and styles.

The page is static HTML: the script (``static/survey.js``) lists the coverage points
nearest the phone, queues each reading on the phone and posts it to
``/api/v1/readings`` with the session's CSRF token, which the page carries in a
``<meta>`` because its CSP allows no inline script. Only tester and admin tokens
submit readings, so only they get the form.
"""

from __future__ import annotations

from importlib.resources import files
from typing import TYPE_CHECKING, Any

from aiohttp import web

from netwatch.web.auth import SESSION, ApiError, principal
from netwatch.web.pages import environment

if TYPE_CHECKING:
    from netwatch.web.app import WebDeps
    from netwatch.web.session_store import Session

ROLES = ("tester", "admin")
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
ASSETS = {"survey.js": "text/javascript", "survey.css": "text/css"}


def routes(deps: WebDeps) -> list[web.RouteDef]:
    """This module's routes, bound to the daemon's parts."""
    env = environment()
    static = files("netwatch.web").joinpath("static")
    assets = {name: (static.joinpath(name).read_bytes(), kind) for name, kind in ASSETS.items()}

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

    def asset(name: str) -> web.RouteDef:
        body, kind = assets[name]

        async def serve(request: web.Request) -> web.Response:
            return web.Response(body=body, content_type=kind, charset="utf-8",
                                headers={"Cache-Control": "no-cache"})

        return web.get(f"/static/{name}", serve)

    return [web.get("/survey", form), *(asset(name) for name in ASSETS)]


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
    "/static/survey.css": {"get": _ASSET},
}
