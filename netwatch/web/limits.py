"""The web listener's and the notice renders' limits and their defaults, apart from the app
so the command line can show them without importing the web stack."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_BODY_TIMEOUT = 30.0
DEFAULT_WORKERS = 2  # threads request handlers may use at once (``workers``)
RENDER_WORKERS = 1  # threads laying out notice files for the web (``renders``)
RENDER_QUEUE = 8  # renders waiting for a thread; more are refused
RENDER_WAIT = 30.0  # seconds a render may be expected to wait before it starts
RENDER_CACHE_ENTRIES = 16
RENDER_CACHE_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class WebLimits:
    """The listener's limits; each is a ``netwatch run`` flag (see docs/security.md)."""

    max_connections: int = 512
    per_address: int = 64  # 0: no per-address cap (behind a proxy every client is the proxy)
    header_timeout: float = 10.0
    keepalive_timeout: float = 15.0
    body_timeout: float = DEFAULT_BODY_TIMEOUT  # enforced by the app (``app.body_deadline``)

    def __post_init__(self) -> None:
        if self.max_connections < 1 or self.per_address < 0:
            raise ValueError("web connection caps: expected positive numbers")
        if min(self.header_timeout, self.keepalive_timeout, self.body_timeout) <= 0:
            raise ValueError("web timeouts: expected positive seconds")


@dataclass(frozen=True, slots=True)
class RenderLimits:
    """The render pool's bounds; the first three are ``netwatch run`` flags."""

    workers: int = RENDER_WORKERS
    queue: int = RENDER_QUEUE
    wait: float = RENDER_WAIT
    cache_entries: int = RENDER_CACHE_ENTRIES
    cache_bytes: int = RENDER_CACHE_BYTES

    def __post_init__(self) -> None:
        if self.workers < 1 or self.queue < 0 or self.cache_entries < 0 or self.cache_bytes < 0:
            raise ValueError("render limits: expected at least 1 worker and no negative bound")
        if self.wait <= 0:
            raise ValueError(f"render wait {self.wait}: expected positive seconds")
