"""Browser login: ``GET/POST /login`` trade a token for a session cookie, ``POST /logout``.

The token is checked by the same verifier and failed-attempt limiter as bearer tokens
(the token first: a valid one logs in whatever others failed).
The cookie is HttpOnly, SameSite=Strict, Path=/, and Secure when the request came over
TLS (netwatch's own, or a reverse proxy's that says ``X-Forwarded-Proto: https``: the
flag only ever narrows where the cookie goes, so trusting the header is harmless); it
carries a random session id, never the token. The login form has no session
yet, so no CSRF token: SameSite cookies plus a same-origin check of ``Origin`` (and
``Sec-Fetch-Site``) keep other sites from logging a browser in. After login the
browser goes to ``next`` only when it is a path on this site (no open redirect).
"""

from __future__ import annotations

import logging
import math
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from netwatch.web.auth import (
    SESSION_COOKIE,
    ApiError,
    client_address,
    csrf_matches,
    form_fields,
    presented_session,
)
from netwatch.web.deps import WebDeps
from netwatch.web.pages import environment
from netwatch.web.session_store import MAX_AGE

log = logging.getLogger(__name__)

HOME = "/"
FIELD_MAX = 200  # longest token or ``next`` worth reading


def safe_next(raw: object) -> str:
    """A path on this site to go to after login; anything that could leave it becomes ``/``."""
    if not isinstance(raw, str) or not raw.startswith("/") or len(raw) > FIELD_MAX:
        return HOME
    if raw.startswith("//") or "\\" in raw or any(ord(c) < 33 or ord(c) == 127 for c in raw):
        return HOME
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc:
        return HOME
    return raw


def same_origin(request: web.Request) -> bool:
    """Whether a form post comes from this site's own page.

    Browsers say so in ``Sec-Fetch-Site``; older ones only send ``Origin`` (which is
    "null" under the pages' no-referrer policy, so it counts only when it names a site).
    """
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host


def over_tls(request: web.Request) -> bool:
    return request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"


def routes(deps: WebDeps) -> list[web.RouteDef]:
    """This module's routes, bound to the daemon's parts."""
    env = environment()

    def page(next_url: str, message: str = "", status: int = 200,
             headers: dict[str, str] | None = None) -> web.Response:
        text = env.get_template("login.html").render(next=next_url, message=message)
        return web.Response(text=text, status=status, content_type="text/html", charset="utf-8",
                            headers={"Cache-Control": "no-store", **(headers or {})})

    async def login_form(request: web.Request) -> web.Response:
        return page(safe_next(request.query.get("next")))

    async def login(request: web.Request) -> web.Response:
        if not same_origin(request):
            raise ApiError(403, "cross-site login refused", "log in from this site's /login page")
        form = await form_fields(request)
        target = safe_next(form.get("next"))
        token = form.get("token")
        info = None
        if isinstance(token, str) and len(token) <= FIELD_MAX:
            info = await deps.tokens.verify(token.strip())  # first: a valid token logs in
        remote = client_address(request, deps.behind_proxy)
        if info is None:
            wait = deps.limiter.blocked(remote)
            if wait is not None:
                seconds = max(1, math.ceil(wait))
                return page(target, f"失败次数过多，请 {seconds} 秒后再试。", 429,
                            {"Retry-After": str(seconds)})
            deps.limiter.failed(remote)
            log.warning("rejected a login token from %s", remote)
            return page(target, "令牌无效或已吊销，请检查后重试。", 401)
        cookie, _ = await deps.sessions.open(info.id)
        log.info("token %s logged in from %s", info.id, remote)
        response = web.Response(status=303, headers={"Location": target,
                                                     "Cache-Control": "no-store"})
        response.set_cookie(SESSION_COOKIE, cookie, max_age=int(MAX_AGE), path="/",
                            httponly=True, samesite="Strict", secure=over_tls(request))
        return response

    async def logout(request: web.Request) -> web.Response:
        """End the session; a live session must send its CSRF token, so no site logs one out."""
        cookie = presented_session(request)
        session = await deps.sessions.get(cookie) if cookie else None
        if session is not None:
            if not await csrf_matches(request, session):
                raise ApiError(403, "CSRF token missing or wrong",
                               "log out with the button of a netwatch page")
            await deps.sessions.close(cookie or "")
        response = web.Response(status=303, headers={"Location": "/login",
                                                     "Cache-Control": "no-store"})
        response.del_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="Strict",
                            secure=over_tls(request))
        return response

    return [
        web.get("/login", login_form),
        web.post("/login", login),
        web.post("/logout", logout),
    ]


_FORM: dict[str, Any] = {"description": "text/html"}
_SEE_OTHER: dict[str, Any] = {"description": "see other: where to go next",
                              "headers": {"Location": {"schema": {"type": "string"}}}}

OPENAPI_PATHS: dict[str, Any] = {
    "/login": {
        "get": {"summary": "Login page: paste a token (HTML)", "security": [],
                "parameters": [{"name": "next", "in": "query", "required": False,
                                "description": "A path on this site to go to after login.",
                                "schema": {"type": "string"}}],
                "responses": {"200": _FORM}},
        "post": {"summary": "Trade a token for an HttpOnly, SameSite=Strict session cookie",
                 "security": [],
                 "requestBody": {"required": True, "content": {
                     "application/x-www-form-urlencoded": {"schema": {
                         "type": "object", "required": ["token"],
                         "properties": {"token": {"type": "string"},
                                        "next": {"type": "string"}}}}}},
                 "responses": {"303": _SEE_OTHER,
                               "401": {"description": "wrong token: the form again"},
                               "403": {"description": "cross-site post refused"},
                               "429": {"description": "too many failed attempts"}}}},
    "/logout": {"post": {
        "summary": "End the browser session (sends the session's csrf_token)",
        "security": [{"session": []}],
        "responses": {"303": _SEE_OTHER, "403": {"description": "CSRF token missing or wrong"}}}},
}
