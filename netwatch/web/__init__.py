"""The web app of ``netwatch run``: /metrics, health, the JSON API and the landing page."""

from __future__ import annotations

from netwatch.web.app import WebDeps, create_app

__all__ = ["WebDeps", "create_app"]
