"""Notice pages: the list, one notice with its items' states now, its files, acknowledging.

``/notices`` and ``/notices/{id}`` share the landing page's stylesheet and lead
back to ``/``. A notice's page shows every item it listed with the item's state
today (open, rectified and waiting for verification, closed; overdue marked)
and, for a county or admin session, a form to acknowledge an open item (a note
and a promised date, CSRF token as every session write). The notice itself is
served in every format: ``.html`` (the printable document, with its own CSP),
``.pdf``, ``.docx``, ``.xlsx`` and ``.md``; ``?lang=en`` for English. Files are
laid out off the event loop, in the render pool (``netwatch.web.renders``: its own
threads, one render per file, 503 when the wait would be too long).
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from aiohttp import web

from netwatch.notices import (
    LANGS,
    MEDIA,
    RENDERERS,
    AckError,
    ItemView,
    NoticeRecord,
    acknowledge,
    basis,
    current_items,
    notice_links,
    stem,
    title,
    words,
)
from netwatch.store import Row, StoreThread
from netwatch.web.auth import SESSION, ApiError, principal
from netwatch.web.pages import environment
from netwatch.web.renders import RENDERS, ClientGone, RenderBusy

FORMATS = (("html", "打印版 HTML"), ("pdf", "PDF"), ("docx", "Word"), ("xlsx", "Excel"),
           ("md", "Markdown"))
STATES = {"open": "未整改 open", "rectified": "已整改，待核验 rectified (verifying)",
          "closed": "已销号 closed"}
CLIENT_GONE = 499  # the status logged for a request whose client left before the answer
_STYLE = re.compile(r"<style>(.*?)</style>", re.S)


def document_csp(document: str) -> str:
    """A policy allowing exactly the document's own inline style block and nothing else."""
    found = _STYLE.search(document)
    digest = hashlib.sha256((found.group(1) if found else "").encode()).digest()
    return (f"default-src 'none'; style-src 'sha256-{base64.b64encode(digest).decode()}'; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


@dataclass(frozen=True, slots=True)
class ItemRow:
    """One listed item with its state today."""

    item: ItemView
    listed: str  # 本期 (new in this notice) or 前期 (carried)
    problem: str
    basis: str
    deadline: str
    state: str
    state_words: str
    overdue: bool
    ack: str
    can_ack: bool


def lang_of(request: web.Request) -> str:
    lang = request.query.get("lang", "zh")
    if lang not in LANGS:
        raise ApiError(400, "unknown lang", {"lang": lang, "known": list(LANGS)})
    return lang


def rendering(record: NoticeRecord, fmt: str, lang: str, data: bytes) -> web.Response:
    """The notice in one format; binary formats as downloads named like the files."""
    headers = {"Cache-Control": "private, max-age=300"}
    if fmt == "html":
        headers["Content-Security-Policy"] = document_csp(data.decode())
    elif fmt != "md":
        name = f"{stem(record)}.{lang}.{fmt}"
        how = "inline" if fmt == "pdf" else "attachment"
        headers["Content-Disposition"] = f"{how}; filename*=UTF-8''{quote(name)}"
    charset = "utf-8" if fmt in ("html", "md") else None
    return web.Response(body=data, content_type=MEDIA[fmt], charset=charset, headers=headers)


def listed_items(record: NoticeRecord) -> list[tuple[ItemView, str]]:
    """The notice's items, new (本期) then carried (前期)."""
    return [(i, "本期") for i in record.items] + [(i, "前期") for i in record.carried]


def item_rows(live: Mapping[int, Row], record: NoticeRecord, may_ack: bool,
              today: str) -> list[ItemRow]:
    """The notice's items, each with its live state (``current_items``) and acknowledgement."""
    listed = listed_items(record)
    rows = []
    for it, when in listed:
        r = live.get(it.item_id)
        state = r["state"] if r is not None else "closed"
        due = (r["deadline"] if r is not None else None) or it.deadline
        ack = ""
        if r is not None and r["ack_note"]:
            ack = f"{r['ack_note']}（承诺 {words.date(r['ack_promised'], 'zh')} 前完成）"
        evidence = (words.coverage_basis(it.evidence, "zh") if "readings" in it.evidence
                    else basis(it.problem, it.evidence, "zh"))
        rows.append(ItemRow(
            item=it, listed=when, problem=words.word(words.PROBLEMS, it.problem, "zh"),
            basis=evidence, deadline=words.date(due, "zh"), state=state,
            state_words=STATES[state] + ("（逾期 overdue）" if state == "open" and due < today
                                         else ""),
            overdue=state == "open" and due < today, ack=ack,
            can_ack=may_ack and state != "closed"))
    return rows


class NoticePages:
    """Handlers of the notice pages, given how to load a notice and the database thread."""

    def __init__(self, load: Callable[[web.Request], Awaitable[tuple[int, NoticeRecord]]],
                 store: Callable[[], StoreThread], timezone: Callable[[], str]) -> None:
        self.load, self.store, self.timezone = load, store, timezone
        self.env = environment()

    def page(self, template: str, status: int = 200, **values: object) -> web.Response:
        text = self.env.get_template(template).render(**values)
        return web.Response(text=text, status=status, content_type="text/html",
                            charset="utf-8", headers={"Cache-Control": "no-store"})

    async def notice(self, request: web.Request, message: str = "",
                     status: int = 200) -> web.Response:
        notice_id, record = await self.load(request)
        session = request.get(SESSION)
        may_ack = session is not None  # the route admits county and admin roles only
        today = datetime.now(ZoneInfo(self.timezone())).date().isoformat()
        live = await self.store().call(current_items,
                                       [i.item_id for i, _ in listed_items(record)])
        return self.page(
            "notice.html", status, r=record, notice_id=notice_id, title=title(record, "zh"),
            formats=FORMATS, links=notice_links(notice_id), message=message,
            rows=item_rows(live, record, may_ack, today),
            csrf=session.csrf if session is not None else "")

    async def file(self, request: web.Request) -> web.Response:
        """A rendering from the render pool (cached: notices never change, a PDF takes seconds).

        503 with ``Retry-After`` when the render would wait too long; a client that leaves
        while its render waits takes the render off the queue.
        """
        notice_id, record = await self.load(request)
        fmt, lang = request.match_info["fmt"], lang_of(request)

        def gone() -> bool:
            transport = request.transport
            return transport is None or transport.is_closing()

        try:
            data = await request.app[RENDERS].get(
                (notice_id, fmt, lang), lambda: RENDERERS[fmt](record, lang), gone)
        except RenderBusy as exc:
            raise ApiError(503, "notice renderer busy", str(exc),
                           {"Retry-After": str(exc.retry_after)}) from None
        except ClientGone:
            return web.Response(status=CLIENT_GONE)  # nobody reads it
        return rendering(record, fmt, lang, data)

    async def ack(self, request: web.Request) -> web.Response:
        """The page's acknowledgement form: record it, then back to the notice (303)."""
        notice_id, record = await self.load(request)
        item_id = int(request.match_info["item"])
        if item_id not in {i.item_id for i in record.items + record.carried}:
            raise ApiError(404, "no such item in this notice", {"item": item_id})
        info = principal(request)
        form = await request.post()
        note, promised = form.get("note", ""), form.get("promised_date", "")
        try:
            await self.store().call(
                acknowledge, item_id, note if isinstance(note, str) else "",
                promised if isinstance(promised, str) else "", info.id, time.time(),
                self.timezone())
        except AckError as exc:
            return await self.notice(request, f"签收未记录 not recorded: {exc}", 400)
        raise web.HTTPSeeOther(f"/notices/{notice_id}")
