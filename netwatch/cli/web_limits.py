"""The web listener's limits as ``netwatch run`` flags (their defaults live with the parts).

Each flag is one documented setting (docs/security.md); ``daemon_limits`` turns the
parsed values into ``DaemonOptions`` fields.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from netwatch.daemon import DEFAULT_RESERVE
from netwatch.web import DEFAULT_LIMIT, DEFAULT_OVERALL, DEFAULT_WORKERS, RenderLimits, WebLimits

_DEFAULTS = WebLimits()
_RENDERS = RenderLimits()
_COUNT = click.IntRange(min=1)
_SECONDS = click.FloatRange(min=0.1)

FLAGS: tuple[tuple[str, str, Any, click.ParamType, str], ...] = (
    ("--web-max-connections", "web_max_connections", _DEFAULTS.max_connections, _COUNT,
     "Most web connections open at once; more are closed at once."),
    ("--web-max-per-address", "web_max_per_address", _DEFAULTS.per_address,
     click.IntRange(min=0),
     "Most web connections from one client address (0: no limit; off with --behind-proxy)."),
    ("--web-header-timeout", "web_header_timeout", _DEFAULTS.header_timeout, _SECONDS,
     "Seconds a new connection has to send a whole request head."),
    ("--web-keepalive-timeout", "web_keepalive_timeout", _DEFAULTS.keepalive_timeout, _SECONDS,
     "Seconds an idle connection stays open between requests."),
    ("--web-body-timeout", "web_body_timeout", _DEFAULTS.body_timeout, _SECONDS,
     "Seconds a request has to send its whole body."),
    ("--web-workers", "web_workers", DEFAULT_WORKERS, _COUNT,
     "Threads request handlers may use at once."),
    ("--render-workers", "render_workers", _RENDERS.workers, _COUNT,
     "Threads laying out notice files (PDF, Word, Excel) for web requests at once."),
    ("--render-queue", "render_queue", _RENDERS.queue, click.IntRange(min=0),
     "Notice renders that may wait for a thread; more are refused with 503."),
    ("--render-wait", "render_wait", _RENDERS.wait, _SECONDS,
     "Seconds a notice render may be expected to wait; longer is refused with 503."),
    ("--fd-reserve", "fd_reserve", DEFAULT_RESERVE, click.IntRange(min=0),
     "Open files kept from the web listener for probes and the store."),
    ("--auth-failures", "auth_failures", DEFAULT_LIMIT, _COUNT,
     "Wrong tokens allowed per client address per minute."),
    ("--auth-failures-total", "auth_failures_total", DEFAULT_OVERALL, _COUNT,
     "Wrong tokens allowed per minute from all addresses together."),
)


def web_limit_options(f: Callable[..., None]) -> Callable[..., None]:
    """Add every limit flag to a command."""
    for flag, name, default, kind, text in reversed(FLAGS):
        f = click.option(flag, name, default=default, show_default=True, type=kind,
                         help=text)(f)
    return f


def daemon_limits(values: dict[str, Any]) -> dict[str, Any]:
    """``DaemonOptions`` fields from the flags' values."""
    return {
        "web_limits": WebLimits(
            max_connections=values["web_max_connections"],
            per_address=values["web_max_per_address"],
            header_timeout=values["web_header_timeout"],
            keepalive_timeout=values["web_keepalive_timeout"],
            body_timeout=values["web_body_timeout"]),
        "web_workers": values["web_workers"], "fd_reserve": values["fd_reserve"],
        "render_limits": RenderLimits(workers=values["render_workers"],
                                      queue=values["render_queue"], wait=values["render_wait"]),
        "auth_failures": values["auth_failures"],
        "auth_failures_total": values["auth_failures_total"],
    }
