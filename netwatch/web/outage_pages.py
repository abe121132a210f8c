"""The declared-outages page (停机报备): a county's declarations and the forms to declare one
and to end one early, server-rendered, no script.

``/outages`` lists the declarations the session may see with their state (upcoming,
active, ended, cancelled) and a form to declare one: device ids, or everything under a
switch, or a site; start and end (the browser's local time is read in the inventory's
time zone); a reason (电力检修, 道路施工, 设备迁移, 其他) and a note. Every form carries the
session's CSRF token (the middleware checks it). A refused form comes back with the
reason in Chinese and the values kept. What is shared with the JSON API (times, the
refusals' statuses, the rules themselves in ``netwatch.monitor.declared``) is here.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from netwatch.monitor import (
    REASONS,
    Actor,
    Declaration,
    Refusal,
    Refused,
    Wanted,
    declare,
    end_declaration,
    find_declarations,
)
from netwatch.notices import words
from netwatch.store import StoreThread, TokenInfo
from netwatch.vocab import Role
from netwatch.web.auth import SESSION, VIA_SESSION, ApiError, form_fields, principal
from netwatch.web.deps import WebDeps
from netwatch.web.pages import environment

REFUSAL_STATUS: dict[Refusal, int] = {
    Refusal.INVALID: 422, Refusal.UNKNOWN_DEVICE: 422, Refusal.OUTSIDE_SCOPE: 403,
    Refusal.NOT_FOUND: 404, Refusal.FORBIDDEN: 403, Refusal.FINISHED: 409,
    Refusal.OVERLAP: 409, Refusal.CAP: 409,
}
STATES = {"upcoming": "未开始 upcoming", "active": "停机中 active", "ended": "已结束 ended",
          "cancelled": "已撤销 cancelled"}
FIELDS = {"devices": "设备", "under": "交换机", "site": "站点", "start": "开始时间",
          "end": "结束时间", "reason": "原因", "note": "说明", "county": "县区"}
REFUSALS_ZH = {
    Refusal.INVALID: "填写有误", Refusal.UNKNOWN_DEVICE: "设备或站点不存在",
    Refusal.OUTSIDE_SCOPE: "含其他县区的设备，不能报备",
    Refusal.NOT_FOUND: "没有这条报备", Refusal.FORBIDDEN: "只有市局管理员可以撤销报备",
    Refusal.FINISHED: "这条报备已结束或已撤销",
    Refusal.OVERLAP: "与已有报备的设备和时间重叠", Refusal.CAP: "超出本县区每月报备时长上限",
}
LISTED = 200  # declarations the page lists, newest first


def actor_of(request: web.Request) -> Actor:
    """The token (id only, never its text) and the counties it may declare for."""
    info = principal(request)
    return Actor(info.id, None if info.role == Role.ADMIN else info.counties,
                 "session" if request.get(VIA_SESSION) else "api")


def moment(value: object, field: str, zone: str, now: float) -> float:
    """An ISO 8601 time (without an offset: the inventory's zone) or ``now`` as Unix
    seconds; else a 400 naming the field."""
    if value == "now":
        return now
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.strip())
        except ValueError:
            pass
        else:
            if when.tzinfo is None:
                when = when.replace(tzinfo=ZoneInfo(zone))
            return when.timestamp()
    raise ApiError(400, f"{field}: expected an ISO 8601 time such as 2026-12-30T08:00+08:00",
                   {"field": field, "got": str(value)[:100]})


def refusal_error(exc: Refused) -> ApiError:
    """The JSON answer of a refusal: its status, the reason, the field or declaration named."""
    return ApiError(REFUSAL_STATUS[exc.refusal], exc.message,
                    {"refusal": exc.refusal.value, **exc.detail})


def refusal_words(exc: Refused) -> str:
    """A refusal for the page, in Chinese with the specifics."""
    text = REFUSALS_ZH[exc.refusal]
    field = exc.detail.get("field")
    if field in FIELDS and exc.refusal in (Refusal.INVALID, Refusal.UNKNOWN_DEVICE):
        text += f"（{FIELDS[field]}）"
    if exc.refusal is Refusal.INVALID and field == "start":
        text += "：开始时间不能早于现在，也不能超出可提前报备的天数"
    elif exc.refusal is Refusal.INVALID and field == "end":
        text += "：结束时间须晚于开始时间，且停机时长不超过上限"
    elif exc.refusal is Refusal.INVALID and field == "note":
        text += "：原因为“其他”时须说明"
    if "devices" in exc.detail:
        text += "：" + "、".join(map(str, exc.detail["devices"]))
    if exc.refusal is Refusal.OVERLAP:
        text += f"：第{exc.detail['declaration']}号报备"
    if exc.refusal is Refusal.CAP:
        text += (f"：{exc.detail['month']}上限{exc.detail['cap_hours']:g}小时，已报备"
                 f"{exc.detail['used_hours']:g}小时，本次{exc.detail['asked_hours']:g}小时")
    return text + "。"


@dataclass(frozen=True, slots=True)
class Row:
    """One declaration as the page lists it."""

    d: Declaration
    state: str
    state_words: str
    reason: str
    span: str
    devices: str
    can_end: bool


def _local(when: float, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(when, zone).strftime("%Y-%m-%d %H:%M")


def rows(found: list[Declaration], now: float, zone: ZoneInfo) -> list[Row]:
    out = []
    for d in found:
        state = d.state(now)
        shown = sorted(d.devices)
        out.append(Row(d, state, STATES[state], words.word(words.OUTAGE_REASONS, d.reason, "zh"),
                       f"{_local(d.starts, zone)} 至 {_local(d.until, zone)}",
                       "、".join(shown[:8]) + (f" 等{len(shown)}台" if len(shown) > 8 else ""),
                       state in ("upcoming", "active")))
    return out


class OutagePages:
    """Handlers of ``/outages`` and its two forms."""

    def __init__(self, deps: WebDeps, store: Callable[[], StoreThread],
                 written: Callable[[], Awaitable[None]]) -> None:
        self.deps, self.store, self.written = deps, store, written
        self.env = environment()

    def _counties(self, info: TokenInfo) -> list[tuple[str, str]]:
        inventory = self.deps.monitor.inventory
        return [(c, inventory.counties[c].name) for c in sorted(inventory.counties)
                if info.can_see(c)]

    async def page(self, request: web.Request, message: str = "", status: int = 200,
                   values: dict[str, str] | None = None) -> web.Response:
        info = principal(request)
        session = request.get(SESSION)
        zone = ZoneInfo(self.deps.monitor.inventory.timezone)
        scope = None if info.role == Role.ADMIN else sorted(info.counties)
        found = await self.store().call(find_declarations, scope, None, None, LISTED)
        now = time.time()
        text = self.env.get_template("outages.html").render(
            rows=rows(found, now, zone), counties=self._counties(info),
            reasons=[(code, words.word(words.OUTAGE_REASONS, code, "zh")) for code in REASONS],
            message=message, values=values or {}, csrf=session.csrf if session else "",
            names={c: self.deps.monitor.inventory.counties[c].name
                   for c in self.deps.monitor.inventory.counties},
            settings=self.deps.monitor.inventory.outages)
        return web.Response(text=text, status=status, content_type="text/html",
                            charset="utf-8", headers={"Cache-Control": "no-store"})

    async def list(self, request: web.Request) -> web.Response:
        return await self.page(request)

    async def declare(self, request: web.Request) -> web.Response:
        """The declaration form: recorded, then back to the list (303); refused, the page
        again saying why, the values kept."""
        form = await form_fields(request)
        values = {k: v.strip() for k, v in form.items() if isinstance(v, str)}
        inventory, now = self.deps.monitor.inventory, time.time()
        actor = actor_of(request)
        county = values.get("county", "")
        if not county and actor.counties is not None and len(actor.counties) == 1:
            county = next(iter(actor.counties))
        how, what = values.get("how", "devices"), values.get("what", "")
        selector: dict[str, Any] = {
            "devices": [p for p in what.replace("，", ",").replace(",", " ").split() if p]
        } if how == "devices" else {how: what}
        try:
            starts = moment(values.get("start") or "now", "start", inventory.timezone, now)
            ends = moment(values.get("end", ""), "end", inventory.timezone, now)
            wanted = Wanted(county, selector, starts, ends, values.get("reason", ""),
                            values.get("note", ""))
            await self.store().call(declare, inventory, wanted, actor, now)
        except Refused as exc:
            return await self.page(request, f"报备未记录：{refusal_words(exc)}",
                                   REFUSAL_STATUS[exc.refusal], values)
        except ApiError as exc:
            if exc.status != 400:
                raise
            field = (exc.detail or {}).get("field", "") if isinstance(exc.detail, dict) else ""
            return await self.page(request, f"报备未记录：{FIELDS.get(field, '时间')}格式不对。",
                                   400, values)
        await self.written()
        raise web.HTTPSeeOther("/outages")

    async def end(self, request: web.Request) -> web.Response:
        """End a declaration early (one not begun is withdrawn), then back to the list."""
        outage_id = int(request.match_info["id"])
        try:
            await self.store().call(end_declaration, outage_id, actor_of(request), time.time())
        except Refused as exc:
            return await self.page(request, f"未能结束：{refusal_words(exc)}",
                                   REFUSAL_STATUS[exc.refusal])
        await self.written()
        raise web.HTTPSeeOther("/outages")
