"""The aiohttp application of ``netwatch run``: routes, error answers, security headers.

``create_app`` wires what the daemon owns (monitor, token store, rate limiter,
metrics exposition, the reload hook, the database thread) into handlers; it starts
nothing itself, so the daemon decides the lifecycle. Every 4xx/5xx answer is JSON
``{"error": ..., "detail": ...}`` and never a stack trace; every answer carries
the security headers, with a CSP that allows no inline script or style. A request
that finds the store away (or the database thread's queue full) is answered 503
with ``Retry-After``: the client asks again, nothing half done.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Mapping
from typing import Any

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware

from netwatch.monitor import Monitor
from netwatch.store import OperationalError
from netwatch.web import (
    circulars,
    coverage,
    early_warnings,
    notices,
    outages,
    readings,
    sessions,
    survey,
    survey_form,
)
from netwatch.web.api import Api
from netwatch.web.auth import ApiError, make_auth_middleware, store_away
from netwatch.web.deps import WebDeps
from netwatch.web.openapi import document
from netwatch.web.pages import Pages
from netwatch.web.renders import renders_context
from netwatch.web.workers import offload, pool_context

log = logging.getLogger(__name__)

BODY_LIMIT = 1024 * 1024  # 1 MiB request bodies (docs/configuration.md)
METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"
GZIP_IN_THREAD = 256 * 1024  # bodies larger than this are compressed off the event loop
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
                               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
}


DEPS = web.AppKey("netwatch.deps", WebDeps)


def error_response(status: int, error: str, detail: object = None,
                   headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response({"error": error, "detail": detail}, status=status,
                             headers=dict(headers or {}))


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every failure into a JSON answer; log unexpected ones without telling the client."""
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.error, exc.detail, exc.headers)
    except OperationalError as exc:
        log.debug("%s %s: the store is away: %s", request.method, request.path, exc)
        away = store_away()
        return error_response(away.status, away.error, away.detail, away.headers)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        kept = {k: v for k, v in exc.headers.items()
                if k in (hdrs.ALLOW, hdrs.RETRY_AFTER, hdrs.WWW_AUTHENTICATE)}
        return error_response(exc.status, (exc.reason or "error").lower(), None, kept)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return error_response(500, "internal error", "see the netwatch log")


def body_deadline(seconds: float) -> Middleware:
    """Read a request's body within ``seconds`` before anything else looks at it.

    A client dripping its body a byte at a time would otherwise hold its connection and
    its handler for as long as it likes; read here, the body is kept for the handler.
    """

    @web.middleware
    async def read_in_time(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.can_read_body:
            try:
                async with asyncio.timeout(seconds):
                    await request.read()
            except TimeoutError:
                raise ApiError(408, "request body too slow",
                               f"send the whole body within {seconds:g} s") from None
            except web.HTTPRequestEntityTooLarge:
                raise ApiError(413, "request body too large",
                               f"at most {BODY_LIMIT // 1024 // 1024} MiB per request") from None
        return await handler(request)

    return read_in_time


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.path.startswith(("/api/", "/-/")):
        response.headers.setdefault(hdrs.CACHE_CONTROL, "no-store")


def accepts_gzip(header: str) -> bool:
    """Whether an Accept-Encoding header admits gzip (``q=0`` refuses it)."""
    chosen: float | None = None
    star: float | None = None
    for part in header.split(","):
        coding, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        coding = coding.lower()
        if coding in ("gzip", "x-gzip"):
            chosen = q
        elif coding == "*":
            star = q
    weight = chosen if chosen is not None else star
    return weight is not None and weight > 0


def _gzip(parts: list[bytes]) -> bytes:
    """gzip level 1 over the parts, as one member (level 1: a fifth of the time of 9)."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
    out = [compressor.compress(part) for part in parts]
    out.append(compressor.flush())
    return b"".join(out)


class Ops:
    """The endpoints Prometheus and orchestrators call: /metrics, /healthz, /readyz."""

    def __init__(self, deps: WebDeps) -> None:
        self.deps = deps

    async def metrics(self, request: web.Request) -> web.StreamResponse:
        """GET /metrics: render on the loop (it reads live state), compress off it when big.

        The parts are sent as they are rather than joined: at city scale the text is
        tens of megabytes, and a joined copy would double the scrape's memory peak.
        """
        parts = await self.deps.exposition.scrape_parts()
        size = sum(map(len, parts))
        headers = {hdrs.CONTENT_TYPE: METRICS_TYPE, hdrs.VARY: hdrs.ACCEPT_ENCODING}
        if accepts_gzip(request.headers.get(hdrs.ACCEPT_ENCODING, "")):
            if size > GZIP_IN_THREAD:
                body = await offload(request, _gzip, parts)
            else:
                body = _gzip(parts)
            headers[hdrs.CONTENT_ENCODING] = "gzip"
            return web.Response(body=body, headers=headers)
        response = web.StreamResponse(headers=headers)
        response.content_length = size
        await response.prepare(request)
        for part in parts:
            await response.write(part)
        await response.write_eof()
        return response

    async def healthz(self, request: web.Request) -> web.Response:
        """GET /healthz: the process answers."""
        return web.Response(text="ok\n")

    async def readyz(self, request: web.Request) -> web.Response:
        """GET /readyz: ready to serve (the status code a load balancer reads) and, apart
        from it, whether the monitor is degraded (the body; see ``readiness``)."""
        body = readiness(self.deps.monitor)
        body["counties"] = dict(self.deps.roles())
        body["duties"] = "active" if self.deps.leading() else "standby"
        return web.json_response(body, status=200 if body["ready"] else 503)

    async def openapi(self, request: web.Request) -> web.Response:
        """GET /api/v1/openapi.json: the API as OpenAPI 3."""
        return web.json_response(document(self.deps.version))


def readiness(monitor: Monitor) -> dict[str, Any]:
    """The /readyz body, always with these keys (docs/api.md describes the contract).

    ``ready`` (200, else 503): the inventory is loaded and the store open (both before the
    listener opens), every group of devices has completed its first sweep, so the
    states served are real (it stays true afterwards, when a reload adds groups, listed
    in ``pending`` until swept), and the store takes writes. While the store is away the
    answer is 503 and the first problem says why (``store: ...``): readings and
    acknowledgements would be refused. ``degraded`` with its ``problems`` (the store away,
    checks skipped by the monitor's own limits in a latest sweep, an inventory over the
    capacity settings) is reported; only the store makes it a 503: an instance that
    answers stays in a load balancer's rotation while ``netwatch_monitor_degraded`` and
    its alert call for attention. The handler adds each county's role here (``counties``:
    ``active`` or ``standby``) and whether this instance runs the city-wide duties
    (``duties``): a standby is ready, and any instance answers for every county.
    """
    pending = sorted(key for key, stats in monitor.stats.items() if stats.runs == 0)
    problems = monitor.health_problems()
    swept = monitor.ready_once or not pending
    return {"ready": swept and monitor.store_status().up, "degraded": bool(problems),
            "pending": pending, "problems": problems}


def create_app(deps: WebDeps) -> web.Application:
    """The web application; the caller runs it (``web.AppRunner``) and owns its lifetime."""
    authenticate = make_auth_middleware(deps.tokens, deps.limiter, deps.metrics_auth,
                                        deps.sessions, deps.behind_proxy)
    app = web.Application(
        middlewares=[json_errors, body_deadline(deps.body_timeout), authenticate],
        client_max_size=BODY_LIMIT,
    )
    app[DEPS] = deps
    app.cleanup_ctx.append(pool_context(deps.web_workers))
    app.cleanup_ctx.append(renders_context(deps.render_limits, deps.render_stats))
    app.on_response_prepare.append(security_headers)
    ops, api, pages = Ops(deps), Api(deps), Pages(deps)
    app.router.add_routes([
        web.get("/", pages.index),
        web.get("/static/netwatch.css", pages.stylesheet),
        web.get("/metrics", ops.metrics),
        web.get("/healthz", ops.healthz),
        web.get("/readyz", ops.readyz),
        web.get("/api/v1/devices", api.devices),
        web.get("/api/v1/faults", api.faults),
        web.get("/api/v1/openapi.json", ops.openapi),
        web.post("/-/reload", api.reload),
    ])
    for feature in (notices, circulars, survey, readings, survey_form, coverage, sessions,
                    early_warnings, outages):
        app.router.add_routes(feature.routes(deps))
    return app
