"""The web listener's limits and their defaults, apart from the app so the command line can
show them without importing the web stack."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_BODY_TIMEOUT = 30.0
DEFAULT_WORKERS = 2  # threads request handlers may use at once (``workers``)


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
