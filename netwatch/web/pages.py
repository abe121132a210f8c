"""HTML pages: the landing page at ``/`` and its stylesheet.

Rendered with Jinja2 with autoescaping on, since device, site and county names
are untrusted text. The page is open without a token, so it shows counts per
county only; the list of open faults (device names) appears when the daemon
listens on loopback without a proxy (where ``/metrics`` with the same names is
open too), and otherwise only to an admin or county session, narrowed to its
counties. The map of online rates (each county's outline coloured by the share of its
checked devices that are up) is drawn for sessions only, wherever netwatch listens: an
admin's shows every county, a county's only its own; nobody else sees another
county's rate on a map.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web
from markupsafe import Markup

from netwatch.inventory import Inventory
from netwatch.maps import CountyOutline, MapSpec, Region, county_outline, rate_colour, render_svg
from netwatch.monitor import OpenFault
from netwatch.store import TokenInfo
from netwatch.vocab import Role
from netwatch.web.auth import presented_session
from netwatch.web.deps import WebDeps

FAULTS_SHOWN = 50  # open faults listed on the landing page, newest first
FAULT_VIEWERS = (Role.ADMIN, Role.COUNTY)  # roles whose session sees device names on the page
MAP_VIEWERS = (Role.ADMIN, Role.COUNTY)  # roles whose session sees the online-rate map


@dataclass(frozen=True, slots=True)
class CountyRow:
    """One line of the landing page's county table."""

    id: str
    name: str
    devices: int
    up: int
    down: int
    unchecked: int
    open_faults: int
    suppressed: int

    @property
    def rate(self) -> float | None:
        """Up among the checked devices now, None when none is checked."""
        checked = self.up + self.down
        return self.up / checked if checked else None


@dataclass(frozen=True, slots=True)
class FaultRow:
    """One open fault as the landing page lists it."""

    fault: OpenFault
    name: str
    first_seen: str  # local time of the inventory's zone


def environment() -> jinja2.Environment:
    """Every template escapes by default, including ones whose names do not end in .html."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("netwatch.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


class Pages:
    """Handlers of the HTML pages."""

    def __init__(self, deps: WebDeps) -> None:
        self.deps = deps
        self.env = environment()
        self.css = files("netwatch.web").joinpath("templates/netwatch.css").read_bytes()
        self._outlines: tuple[Inventory, dict[str, CountyOutline | None]] | None = None

    def outlines(self) -> dict[str, CountyOutline | None]:
        """Each county's outline, computed once per inventory (hulls walk every device)."""
        inventory = self.deps.monitor.inventory
        if self._outlines is None or self._outlines[0] is not inventory:
            self._outlines = (inventory, {c: county_outline(inventory, c)
                                          for c in sorted(inventory.counties)})
        return self._outlines[1]

    def rate_map(self, rows: list[CountyRow], viewer: TokenInfo | None) -> str:
        """The online-rate map (SVG) of the counties the session's holder may see; "" for
        anyone else or when none of them has an outline."""
        if viewer is None or viewer.role not in MAP_VIEWERS:
            return ""
        outlines = self.outlines()
        regions, unplaced = [], []
        for row in rows:
            if not viewer.can_see(row.id):
                continue
            outline = outlines.get(row.id)
            if outline is None:
                unplaced.append(row.name)
                continue
            rate = row.rate
            regions.append(Region(outline.polygons, row.name,
                                  "无数据" if rate is None else f"在线率 {rate:.1%}",
                                  rate_colour(rate), hull=outline.hull))
        if not regions:
            return ""
        city = self.deps.monitor.inventory.city
        title = (f"{city}各区县设备在线率" if viewer.role == Role.ADMIN
                 else f"{'、'.join(r.name for r in regions)}设备在线率")
        notes = ["在线率：当前已检测设备中在线的比例。"]
        if unplaced:
            notes.append(f"无边界和坐标，未绘出：{'、'.join(unplaced)}")
        return render_svg(MapSpec(title, tuple(regions), notes=tuple(notes), rates=True,
                                  width=900, height=560, uid="rates"))

    def county_rows(self) -> list[CountyRow]:
        monitor = self.deps.monitor
        counts: dict[str, list[int]] = {c: [0, 0, 0, 0, 0, 0] for c in monitor.inventory.counties}
        for state in monitor.states.values():
            row = counts.setdefault(state.device.county, [0, 0, 0, 0, 0, 0])
            row[0] += 1
            if state.verdict is None:
                row[3] += 1
            elif state.verdict.up:
                row[1] += 1
            else:
                row[2] += 1
        for fault in monitor.open_faults():
            row = counts.setdefault(fault.county, [0, 0, 0, 0, 0, 0])
            row[5 if fault.suppressed_by else 4] += 1
        counties = monitor.inventory.counties
        return [
            CountyRow(cid, counties[cid].name if cid in counties else cid, *figures)
            for cid, figures in sorted(counts.items())
        ]

    async def viewer(self, request: web.Request) -> TokenInfo | None:
        """The holder of the request's live session, if any (the page itself is public)."""
        cookie = presented_session(request)
        session = await self.deps.sessions.get(cookie) if cookie else None
        return await self.deps.tokens.current(session.token_id) if session is not None else None

    def recent_faults(self, viewer: TokenInfo | None) -> list[FaultRow]:
        monitor = self.deps.monitor
        zone = ZoneInfo(monitor.inventory.timezone)
        faults = sorted((f for f in monitor.open_faults()
                         if viewer is None or viewer.can_see(f.county)),
                        key=lambda f: (-f.first_seen, f.device))
        shown = []
        for fault in faults[:FAULTS_SHOWN]:
            state = monitor.states.get(fault.device)
            name = state.device.name if state is not None else fault.device
            since = datetime.fromtimestamp(fault.first_seen, zone).strftime("%Y-%m-%d %H:%M:%S")
            shown.append(FaultRow(fault, name, since))
        return shown

    async def index(self, request: web.Request) -> web.Response:
        """GET /: what runs here, the links, and how each county is doing."""
        monitor = self.deps.monitor
        rows = self.county_rows()
        holder = await self.viewer(request)
        viewer = None
        if self.deps.metrics_auth:
            viewer = holder
            if viewer is not None and viewer.role not in FAULT_VIEWERS:
                viewer = None
        show_faults = not self.deps.metrics_auth or viewer is not None
        html = self.env.get_template("index.html").render(
            city=monitor.inventory.city,
            version=self.deps.version,
            ready=monitor.ready,
            rows=rows,
            totals=CountyRow("", "", *(sum(getattr(r, f) for r in rows) for f in (
                "devices", "up", "down", "unchecked", "open_faults", "suppressed"))),
            show_faults=show_faults,
            faults=self.recent_faults(viewer) if show_faults else [],
            faults_shown=FAULTS_SHOWN,
            timezone=monitor.inventory.timezone,
            metrics_auth=self.deps.metrics_auth,
            rate_map=Markup(self.rate_map(rows, holder)),  # escaped by the renderer
        )
        return web.Response(text=html, content_type="text/html", charset="utf-8")

    async def stylesheet(self, request: web.Request) -> web.Response:
        """GET /static/netwatch.css: styles live in a file so the CSP can forbid inline ones."""
        return web.Response(body=self.css, content_type="text/css", charset="utf-8",
                            headers={"Cache-Control": "max-age=3600"})

