"""What the web app needs from the daemon, in one place every route module can import.

The daemon builds one ``WebDeps``; ``create_app`` stores it on the application
and hands it to each route module. Keeping it apart from ``app`` lets the route
modules import it without importing the app that imports them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import version as package_version
from typing import Any, Protocol

from netwatch.coverage import CoverageReport
from netwatch.monitor import Monitor
from netwatch.store import StoreThread
from netwatch.web.auth import Limiter, TokenVerifier
from netwatch.web.limits import DEFAULT_BODY_TIMEOUT, DEFAULT_WORKERS, RenderLimits
from netwatch.web.renders import RenderStats
from netwatch.web.session_store import SessionStore


class Renderer(Protocol):
    async def scrape_parts(self) -> list[bytes]: ...


ReloadHook = Callable[[], Awaitable[Mapping[str, Any]]]


async def _none() -> None:
    """No coverage analysis (an app without the daemon's duties)."""


@dataclass(frozen=True, slots=True)
class WebDeps:
    """What the web app needs from the daemon."""

    monitor: Monitor
    tokens: TokenVerifier
    limiter: Limiter
    exposition: Renderer
    reload: ReloadHook  # {"ok": True, counts...} or {"ok": False, "problems": [...]}
    metrics_auth: bool = False  # off loopback or behind a proxy: /metrics needs a token
    db: StoreThread | None = None  # readings, notices, acknowledgements (None: those routes 503)
    sessions: SessionStore = field(default_factory=SessionStore)  # browser logins
    # the daemon's latest coverage analysis (None: not analysed yet)
    coverage: Callable[[], Awaitable[CoverageReport | None]] = _none
    behind_proxy: bool = False  # a proxy fronts netwatch: trust its X-Forwarded-For
    web_workers: int = DEFAULT_WORKERS  # threads request handlers may use at once
    body_timeout: float = DEFAULT_BODY_TIMEOUT  # seconds to send a whole request body
    render_limits: RenderLimits = RenderLimits()  # the notice render pool's own bounds
    render_stats: RenderStats = field(default_factory=RenderStats)  # for the daemon's metrics
    version: str = field(default_factory=lambda: package_version("netwatch"))
    # per county this instance was started for: "active" (it writes) or "standby"
    roles: Callable[[], Mapping[str, str]] = dict
    leading: Callable[[], bool] = lambda: True  # runs the city-wide duties now
