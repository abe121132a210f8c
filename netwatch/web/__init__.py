"""The web app of ``netwatch run``: /metrics, health, the JSON API, the pages and the survey form.

- ``app``: ``create_app`` builds the aiohttp application from ``deps`` (``WebDeps``,
  what the daemon hands the app) and registers every route table;
- ``renders``: notice and circular files laid out on a bounded pool of their own (single flight,
  503 + Retry-After past the queue, a byte-bounded cache);
- ``guard`` (connection caps and request-head deadline), ``requestlog`` (malformed requests
  logged as one rate-limited line), ``limits`` (the listener's
  limits and their defaults), ``ratelimit`` (wrong-token throttling), ``workers``
  (the bounded thread pool handlers use), ``bodies`` (request body limits);
- ``auth`` (tokens, sessions, ``ApiError``; ``StoredTokens`` asks the token store on the
  database thread), ``access`` (the role a route needs),
  ``sessions`` and ``session_store`` (browser log-in; the store owns the sessions table);
- the routes: ``api`` (devices and faults), ``readings`` and ``survey`` (readings in and
  out), ``survey_form`` (the field testers' page), ``coverage``, ``early_warnings``
  (the warnings raised now), ``notices`` (the notices' JSON), ``notice_pages`` (a
  notice rendered as HTML, PDF, DOCX, XLSX), ``circulars`` (the monthly circulars:
  JSON, pages and files, read by every county), ``outages`` and ``outage_pages`` (the
  outages the counties declare, 停机报备: API and page), ``pages`` (landing and list pages),
  ``openapi`` and ``openapi_parts`` (the API description).

The face is lazy: the command line reads the listener's defaults without loading aiohttp.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netwatch.runtime import lazy_face

if TYPE_CHECKING:
    from netwatch.web.app import WebDeps, create_app
    from netwatch.web.auth import StoredTokens
    from netwatch.web.guard import GuardedSite, GuardStats, guard_families
    from netwatch.web.limits import DEFAULT_BODY_TIMEOUT, DEFAULT_WORKERS, RenderLimits, WebLimits
    from netwatch.web.ratelimit import DEFAULT_LIMIT, DEFAULT_OVERALL, RateLimiter
    from netwatch.web.renders import RenderStats, render_families
    from netwatch.web.requestlog import RequestLog
    from netwatch.web.session_store import SessionStore

_MODULES = {
    "app": ("WebDeps", "create_app"),
    "auth": ("StoredTokens",),
    "guard": ("GuardStats", "GuardedSite", "guard_families"),
    "limits": ("DEFAULT_BODY_TIMEOUT", "DEFAULT_WORKERS", "RenderLimits", "WebLimits"),
    "renders": ("RenderStats", "render_families"),
    "ratelimit": ("DEFAULT_LIMIT", "DEFAULT_OVERALL", "RateLimiter"),
    "requestlog": ("RequestLog",),
    "session_store": ("SessionStore",),
}
__all__ = [
    "DEFAULT_BODY_TIMEOUT", "DEFAULT_LIMIT", "DEFAULT_OVERALL", "DEFAULT_WORKERS", "GuardStats",
    "GuardedSite", "RateLimiter", "RenderLimits", "RenderStats", "RequestLog", "SessionStore",
    "StoredTokens", "WebDeps", "WebLimits", "create_app", "guard_families", "render_families",
]
__getattr__ = lazy_face(__name__, _MODULES)
