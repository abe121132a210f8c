"""Who may call which route: one table, enforced by the authentication middleware.

Every route of the app has a row: ``PUBLIC`` (no credential) or the roles whose
tokens may call it; any other role gets 403 before the handler runs, and a route
without a row is refused to everyone (a new route is closed until it is given
one). ``/metrics`` is public only while netwatch listens on loopback without a
proxy in front; otherwise it takes an admin or metrics token. Handlers still
narrow what a permitted role sees to its counties (``auth.visible_counties``).
The same table is in ``docs/security.md``; a test walks every route against it.
"""

from __future__ import annotations

from aiohttp import web

from netwatch.vocab import Role

PUBLIC: frozenset[str] = frozenset()
ADMIN, COUNTY, TESTER, METRICS = Role.ADMIN, Role.COUNTY, Role.TESTER, Role.METRICS
METRICS_PATH = "/metrics"

RULES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/"): PUBLIC,
    ("GET", "/static/netwatch.css"): PUBLIC,
    ("GET", "/static/survey.js"): PUBLIC,
    ("GET", "/static/survey.css"): PUBLIC,
    ("GET", "/survey-sw.js"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/api/v1/openapi.json"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
    ("GET", METRICS_PATH): frozenset({ADMIN, METRICS}),
    ("GET", "/api/v1/devices"): frozenset({ADMIN, COUNTY}),
    ("GET", "/api/v1/faults"): frozenset({ADMIN, COUNTY}),
    ("GET", "/api/v1/warnings"): frozenset({ADMIN, COUNTY}),
    ("POST", "/-/reload"): frozenset({ADMIN}),
    ("GET", "/api/v1/notices"): frozenset({ADMIN, COUNTY}),
    ("GET", "/api/v1/notices/{id}"): frozenset({ADMIN, COUNTY}),
    ("POST", "/api/v1/notice-items/{id}/ack"): frozenset({ADMIN, COUNTY}),
    ("GET", "/notices"): frozenset({ADMIN, COUNTY}),
    ("GET", "/notices/{id}"): frozenset({ADMIN, COUNTY}),
    ("GET", "/notices/{id}.{fmt}"): frozenset({ADMIN, COUNTY}),
    ("POST", "/notices/{id}/items/{item}/ack"): frozenset({ADMIN, COUNTY}),
    # a circular is city-wide, addressed to every county: every county reads every one
    ("GET", "/api/v1/circulars"): frozenset({ADMIN, COUNTY}),
    ("GET", "/api/v1/circulars/{id}"): frozenset({ADMIN, COUNTY}),
    ("GET", "/circulars"): frozenset({ADMIN, COUNTY}),
    ("GET", "/circulars/{id}"): frozenset({ADMIN, COUNTY}),
    ("GET", "/circulars/{id}.{fmt}"): frozenset({ADMIN, COUNTY}),
    ("GET", "/api/v1/blind-spots"): frozenset({ADMIN, COUNTY}),
    ("GET", "/api/v1/points"): frozenset({ADMIN, COUNTY, TESTER}),
    ("POST", "/api/v1/readings"): frozenset({ADMIN, TESTER}),
    ("GET", "/api/v1/readings"): frozenset({ADMIN, TESTER}),
    ("GET", "/survey"): frozenset({ADMIN, TESTER}),
    ("POST", "/api/v1/outages"): frozenset({ADMIN, COUNTY}),
    ("GET", "/api/v1/outages"): frozenset({ADMIN, COUNTY}),
    ("GET", "/api/v1/outages/{id}"): frozenset({ADMIN, COUNTY}),
    ("PATCH", "/api/v1/outages/{id}"): frozenset({ADMIN, COUNTY}),
    ("GET", "/api/v1/outages/{id}/audit"): frozenset({ADMIN, COUNTY}),
    ("POST", "/api/v1/outages/{id}/cancel"): frozenset({ADMIN}),
    ("GET", "/outages"): frozenset({ADMIN, COUNTY}),
    ("POST", "/outages"): frozenset({ADMIN, COUNTY}),
    ("POST", "/outages/{id}/end"): frozenset({ADMIN, COUNTY}),
}
CLOSED: frozenset[str] = frozenset({"nobody"})  # a route without a row


def route_key(request: web.Request) -> tuple[str, str] | None:
    """(method, canonical path) of the matched route; None when nothing matched (404/405)."""
    info = request.match_info
    if info.http_exception is not None or info.route.resource is None:
        return None
    method = "GET" if request.method == "HEAD" else request.method
    return method, info.route.resource.canonical


def rule(request: web.Request) -> frozenset[str] | None:
    """The roles allowed on the matched route (``PUBLIC``: anyone); None when none matched."""
    key = route_key(request)
    if key is None:
        return None
    return RULES.get(key, CLOSED)
