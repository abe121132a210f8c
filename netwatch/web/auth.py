"""Who is asking: bearer tokens, browser sessions, CSRF, failed-attempt limits, county scope.

The middleware guards ``/api/*``, ``/-/*``, the browser pages (``/notices*``,
``/survey``) and ``/metrics`` when the daemon listens off loopback. A request's
credential is ``Authorization: Bearer`` (``presented_token``) or else the session
cookie of ``/login`` (``presented_session``); everything downstream (``principal``,
``visible_counties``) is the same for both. A session is only as
good as its token: the token id is re-checked on each use. Unsafe methods by cookie
must echo the session's CSRF token; bearer requests need none (no browser sends a
bearer header by itself). A browser page asked for without a credential redirects to
the login page; the API answers 401 JSON. Which roles may use a route is
``access.RULES``. A presented token is checked first, so a valid one always passes;
a wrong one counts against its client's address and a budget shared by all
addresses, and once either is spent wrong tokens get 429. Tokens are never logged
or echoed. Tokens and sessions are looked up on the database thread (``StoredTokens``,
``SessionStore``), never on the event loop; while the store is away a request that
needs one is answered 503 with ``Retry-After``.
"""

from __future__ import annotations

import hmac
import logging
import math
import time
from collections.abc import Callable, Iterable
from typing import Protocol
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from aiohttp.web_request import FileField
from multidict import MultiDictProxy

from netwatch.store import Store, StoreThread, TokenInfo, TokenStore
from netwatch.vocab import Role
from netwatch.web.access import CLOSED, METRICS_PATH, PUBLIC, route_key, rule
from netwatch.web.session_store import Session, SessionStore

log = logging.getLogger(__name__)


PRINCIPAL = "netwatch.principal"  # request key of the verified TokenInfo
SESSION = "netwatch.session"  # request key of the Session, for requests made by cookie
VIA_SESSION = "netwatch.via_session"  # True for requests authenticated by the session cookie
SESSION_COOKIE = "netwatch_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
PUBLIC_API = frozenset({"/api/v1/openapi.json"})  # describes the API, holds no data
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="netwatch"'}
STORE_RETRY = 5  # seconds a client is asked to wait while the store is away


class TokenVerifier(Protocol):
    async def verify(self, presented: str) -> TokenInfo | None: ...

    async def current(self, token_id: str) -> TokenInfo | None: ...


class StoredTokens:
    """The token store asked on the database thread: the daemon's ``TokenVerifier``.

    The ``TokenStore`` (and its record of when each token's last use was written) is made
    and used on that thread only.
    """

    def __init__(self, db: StoreThread, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock
        self._tokens: TokenStore | None = None

    async def verify(self, presented: str) -> TokenInfo | None:
        """The token's holder, or None for a malformed, unknown or revoked token."""
        return await self.db.call(self._verify, presented)

    async def current(self, token_id: str) -> TokenInfo | None:
        """The holder of a token id still valid (sessions re-check their token with it)."""
        return await self.db.call(self._current, token_id)

    def _on(self, store: Store) -> TokenStore:
        if self._tokens is None:
            self._tokens = TokenStore(store, clock=self.clock)
        return self._tokens

    def _verify(self, store: Store, presented: str) -> TokenInfo | None:
        return self._on(store).verify(presented)

    def _current(self, store: Store, token_id: str) -> TokenInfo | None:
        return self._on(store).current(token_id)


class Limiter(Protocol):
    def blocked(self, key: str, now: float | None = None) -> float | None: ...

    def failed(self, key: str, now: float | None = None) -> None: ...


class ApiError(Exception):
    """A 4xx answer; the app's error middleware writes it as ``{"error", "detail"}`` JSON."""

    def __init__(self, status: int, error: str, detail: object = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = headers or {}


def store_away() -> ApiError:
    """The answer while the store is away: nothing was done, ask again shortly."""
    return ApiError(503, "store unavailable",
                    f"the database is busy or away; nothing was stored, try again in "
                    f"{STORE_RETRY} s", {"Retry-After": str(STORE_RETRY)})


def is_page(path: str) -> bool:
    """Browser pages: without a credential they send the browser to the login page."""
    return path in ("/notices", "/circulars", "/survey", "/outages") or path.startswith(
        ("/notices/", "/circulars/", "/outages/"))


def needs_token(path: str, metrics_auth: bool) -> bool:
    """Which paths carry data that a token must unlock."""
    if path.startswith("/api/"):
        return path not in PUBLIC_API
    if is_page(path):
        return True
    return path.startswith("/-/") or (metrics_auth and path == "/metrics")


def login_url(request: web.Request) -> str:
    """The login page, coming back to this request's path afterwards."""
    return "/login?" + urlencode({"next": str(request.rel_url)})


def presented_token(request: web.Request) -> str | None:
    """The bearer token of ``Authorization: Bearer`` ("" for another scheme), or None."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return ""
    return token.strip()


def presented_session(request: web.Request) -> str | None:
    """The session cookie's value, or None."""
    return request.cookies.get(SESSION_COOKIE) or None


async def form_fields(
    request: web.Request,
) -> MultiDictProxy[str | bytes | bytearray | FileField]:
    """The posted form; a malformed one (a multipart body without a boundary) is a 400."""
    try:
        return await request.post()
    except ValueError as exc:
        raise ApiError(400, "malformed form body", str(exc)[:200]) from None


async def csrf_matches(request: web.Request, session: Session) -> bool:
    """Whether the request echoes the session's CSRF token (header, or form field of a form)."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.content_type in FORM_TYPES:
        field = (await form_fields(request)).get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    return sent is not None and hmac.compare_digest(sent.encode(), session.csrf.encode())


async def session_principal(request: web.Request, tokens: TokenVerifier,
                            sessions: SessionStore, cookie: str) -> TokenInfo | None:
    """The holder of a live session whose token is still valid; CSRF checked on unsafe methods."""
    session = await sessions.get(cookie)
    if session is None:
        return None
    info = await tokens.current(session.token_id)
    if info is None:  # its token was revoked: the session ends with it
        await sessions.close(cookie)
        return None
    if request.method in UNSAFE_METHODS and not await csrf_matches(request, session):
        raise ApiError(403, "CSRF token missing or wrong",
                       f"a request made by session cookie sends the page's {CSRF_HEADER}")
    request[SESSION] = session
    request[VIA_SESSION] = True
    return info


def client_address(request: web.Request, behind_proxy: bool) -> str:
    """The client's address: the TCP peer, or behind a stated proxy the address it forwarded.

    The proxy appends the peer it saw to ``X-Forwarded-For``, so the last entry is the one
    it vouches for; anything before it was written by the client. Without
    ``--behind-proxy`` the header is the client's own word and is ignored.
    """
    peer = request.remote or "unknown"
    if not behind_proxy:
        return peer
    forwarded = request.headers.getall("X-Forwarded-For", [])
    last = forwarded[-1].rsplit(",", 1)[-1].strip() if forwarded else ""
    return last[:64] or peer


def too_many(wait: float) -> ApiError:
    seconds = max(1, math.ceil(wait))
    return ApiError(429, "too many failed authentication attempts",
                    {"retry_after_seconds": seconds}, {"Retry-After": str(seconds)})


def make_auth_middleware(tokens: TokenVerifier, limiter: Limiter, metrics_auth: bool,
                         sessions: SessionStore, behind_proxy: bool = False) -> Middleware:
    """The authentication middleware, bound to the token store, the limiter and the sessions.

    The route's row in ``access.RULES`` says whether a credential is needed and which
    roles may pass; a path no route matched needs one by ``needs_token``.
    """

    async def bearer(request: web.Request, token: str) -> TokenInfo:
        # first: a valid token is never refused for others' failures
        info = await tokens.verify(token)
        if info is not None:
            return info
        remote = client_address(request, behind_proxy)
        wait = limiter.blocked(remote)
        if wait is not None:
            raise too_many(wait)
        limiter.failed(remote)
        log.warning("rejected a bearer token from %s for %s %s",
                    remote, request.method, request.path)
        raise ApiError(401, "invalid or revoked token", None, CHALLENGE)

    def open_route(request: web.Request, allowed: frozenset[str] | None) -> bool:
        if allowed is None:
            return not needs_token(request.path, metrics_auth)
        if route_key(request) == ("GET", METRICS_PATH):
            return not metrics_auth
        return allowed == PUBLIC

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        allowed = rule(request)
        if open_route(request, allowed):
            return await handler(request)
        token = presented_token(request)
        cookie = presented_session(request)
        if token is not None:
            info: TokenInfo | None = await bearer(request, token)
        elif cookie is not None:
            info = await session_principal(request, tokens, sessions, cookie)
        else:
            info = None
        if info is None:
            if is_page(request.path) and request.method in ("GET", "HEAD"):
                raise web.HTTPSeeOther(login_url(request))
            if cookie is not None:
                raise ApiError(401, "session expired or ended", "log in again at /login",
                               CHALLENGE)
            raise ApiError(401, "authentication required",
                           "send Authorization: Bearer TOKEN (netwatch token create)", CHALLENGE)
        if allowed is not None and info.role not in allowed:
            raise ApiError(403, "this token's role may not use this route",
                           {"role": info.role, "allowed": sorted(allowed - CLOSED)})
        request[PRINCIPAL] = info
        return await handler(request)

    return authenticate


ID_MAX = 2**63 - 1  # SQLite's largest integer key


def path_id(request: web.Request, what: str) -> int:
    """The path's ``{id}``: ASCII digits within SQLite's range, else 404 naming ``what``.

    ``str.isdigit`` and ``int`` also take other scripts' digits (``٣`` is 3) and
    superscripts; an id is only ever what netwatch printed.
    """
    raw = request.match_info["id"]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19 or int(raw) > ID_MAX:
        raise ApiError(404, f"no such {what}", {"id": raw[:40]})
    return int(raw)


def principal(request: web.Request) -> TokenInfo:
    """The verified token of a request that passed the middleware."""
    info: TokenInfo = request[PRINCIPAL]
    return info


def visible_counties(request: web.Request, asked: Iterable[str],
                     known: Iterable[str]) -> frozenset[str] | None:
    """The counties a request may read: the ones asked, narrowed by the token; None is all.

    Asking for a county outside the token is 403; an unknown county is 400 (after the
    scope check, so a county token learns nothing about other counties' ids).
    """
    info = principal(request)
    wanted = frozenset(asked)
    outside = sorted(c for c in wanted if not info.can_see(c))
    if outside:
        raise ApiError(403, "county outside this token's scope", {"counties": outside})
    unknown = sorted(wanted - frozenset(known))
    if unknown:
        raise ApiError(400, "unknown county", {"counties": unknown})
    if wanted:
        return wanted
    return None if info.role == Role.ADMIN else info.counties
