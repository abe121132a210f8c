"""Who is asking: bearer-token authentication, failed-attempt rate limiting and county scope.

The middleware guards ``/api/*`` and ``/-/*`` (and ``/metrics`` when the daemon
listens off loopback). A request's credential comes from ``presented_token``;
browser pages of later issues add their session cookie there, so everything
downstream (``principal``, ``visible_counties``, ``require_admin``) stays the same.
A remote address that keeps presenting wrong tokens is answered 429 before its
token is even looked at. Tokens are never logged or echoed.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from typing import Protocol

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from netwatch.tokens import TokenInfo

log = logging.getLogger(__name__)


PRINCIPAL = "netwatch.principal"  # request key of the verified TokenInfo
PUBLIC_API = frozenset({"/api/v1/openapi.json"})  # describes the API, holds no data
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="netwatch"'}


class TokenVerifier(Protocol):
    def verify(self, presented: str) -> TokenInfo | None: ...


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


def needs_token(path: str, metrics_auth: bool) -> bool:
    """Which paths carry data that a token must unlock."""
    if path.startswith("/api/"):
        return path not in PUBLIC_API
    if path == "/notices" or path.startswith("/notices/"):
        return True
    return path.startswith("/-/") or (metrics_auth and path == "/metrics")


def presented_token(request: web.Request) -> str | None:
    """The credential the request carries: today only ``Authorization: Bearer``."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return ""
    return token.strip()


def make_auth_middleware(tokens: TokenVerifier, limiter: Limiter, metrics_auth: bool) -> Middleware:
    """The authentication middleware, bound to the token store and the limiter."""

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not needs_token(request.path, metrics_auth):
            return await handler(request)
        remote = request.remote or "unknown"
        wait = limiter.blocked(remote)
        if wait is not None:
            raise ApiError(429, "too many failed authentication attempts",
                           {"retry_after_seconds": math.ceil(wait)},
                           {"Retry-After": str(max(1, math.ceil(wait)))})
        token = presented_token(request)
        if token is None:
            raise ApiError(401, "authentication required",
                           "send Authorization: Bearer TOKEN (netwatch token create)", CHALLENGE)
        info = tokens.verify(token)
        if info is None:
            limiter.failed(remote)
            log.warning("rejected a bearer token from %s for %s %s",
                        remote, request.method, request.path)
            raise ApiError(401, "invalid or revoked token", None, CHALLENGE)
        request[PRINCIPAL] = info
        return await handler(request)

    return authenticate


def principal(request: web.Request) -> TokenInfo:
    """The verified token of a request that passed the middleware."""
    info: TokenInfo = request[PRINCIPAL]
    return info


def require_admin(request: web.Request) -> TokenInfo:
    """Refuse (403) anyone but an admin token."""
    info = principal(request)
    if info.role != "admin":
        raise ApiError(403, "admin token required", f"this token's role is {info.role}")
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
    return None if info.role == "admin" else info.counties
