"""Coverage API: ``GET /api/v1/blind-spots`` (JSON or GeoJSON)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from netwatch.web.app import WebDeps


def routes(deps: WebDeps) -> list[web.RouteDef]:
    """This module's routes, bound to the daemon's parts."""
    return []
