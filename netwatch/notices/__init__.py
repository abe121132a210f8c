"""Rectification notices (整改通知, docs/notices.md): items, numbering, issue, rendering, delivery.

From problems to a notice: ``candidates`` (which open faults become items, how severe)
and ``evidence`` (监测依据 in plain words) feed ``items`` (the items' lifecycle; owns
the notice_items table); ``issue`` numbers and records one notice per county and date
through ``numbering`` (owns notice_sequences) and ``register`` (owns notices and their
listings), with the figures of ``summary``; ``record`` is the frozen notice as stored.

Out to people: ``render`` (HTML and Markdown) with ``figure`` (the items' map, from the
coordinates the record keeps), ``pdf`` (WeasyPrint), ``docx_file`` (built of
``docx_parts``) and ``xlsx_file`` (office files, made repeatable by ``stablezip``),
``files`` (each notice's files written once), ``links`` (where the web app serves each format),
``outbox`` (deliveries queued and retried; owns deliveries) with ``smtp_send`` and
``webhook_send``; ``metrics`` (the notices' families), ``calendar`` (dates, deadlines,
holidays) and ``words`` (plain words for the codes) serve them all. The circulars
(``netwatch.circulars``) are issued with the same parts: ``words``, ``layout_pdf``,
``docx_parts``, ``stable``, ``write_once`` and the template's ``gbt9704.css``.

The face is lazy: the office and PDF renderers load when a name that needs them is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netwatch.runtime import lazy_face

if TYPE_CHECKING:
    from netwatch.notices import docx_parts, words
    from netwatch.notices.evidence import basis
    from netwatch.notices.files import RENDERERS, NoticeFileConflict, stem, sync_dir, write_once
    from netwatch.notices.issue import IssueError, issue_notices, write_files
    from netwatch.notices.items import (
        NOTE_MAX,
        AckError,
        acknowledge,
        cited_episodes,
        current_items,
        item_county,
        sync_items,
    )
    from netwatch.notices.links import LANGS, MEDIA, notice_links, with_links
    from netwatch.notices.metrics import notice_families
    from netwatch.notices.outbox import (
        CONCURRENCY,
        CircularPost,
        circular_deliveries_of,
        deliver_due,
        deliveries_of,
        enqueue_circular,
        outbox_families,
        prune_sent,
    )
    from netwatch.notices.pdf import layout_pdf
    from netwatch.notices.record import Candidate, ItemView, NoticeRecord
    from netwatch.notices.register import county_notices, every_notice, listings, notice_by_id
    from netwatch.notices.render import title
    from netwatch.notices.stablezip import stable
    from netwatch.notices.words import CAUSES

_MODULES = {
    "docx_parts": ("docx_parts",),
    "evidence": ("basis",),
    "files": ("NoticeFileConflict", "RENDERERS", "stem", "sync_dir", "write_once"),
    "issue": ("IssueError", "issue_notices", "write_files"),
    "items": (
        "AckError", "NOTE_MAX", "acknowledge", "cited_episodes", "current_items", "item_county",
        "sync_items",
    ),
    "links": ("LANGS", "MEDIA", "notice_links", "with_links"),
    "metrics": ("notice_families",),
    "outbox": ("CONCURRENCY", "CircularPost", "circular_deliveries_of", "deliver_due",
               "deliveries_of", "enqueue_circular", "outbox_families", "prune_sent"),
    "pdf": ("layout_pdf",),
    "record": ("Candidate", "ItemView", "NoticeRecord"),
    "register": ("county_notices", "every_notice", "listings", "notice_by_id"),
    "render": ("title",),
    "stablezip": ("stable",),
    "words": ("CAUSES", "words"),
}
__all__ = [
    "CAUSES", "CONCURRENCY", "LANGS", "MEDIA", "NOTE_MAX", "RENDERERS", "AckError", "Candidate",
    "CircularPost", "circular_deliveries_of", "enqueue_circular",
    "IssueError", "ItemView", "NoticeFileConflict", "NoticeRecord", "acknowledge", "basis",
    "cited_episodes", "county_notices", "current_items", "deliver_due", "deliveries_of",
    "docx_parts", "every_notice", "issue_notices", "item_county", "layout_pdf", "listings",
    "notice_by_id", "notice_families", "notice_links", "outbox_families", "prune_sent",
    "stable", "stem", "sync_dir", "sync_items", "title", "with_links", "words", "write_files",
    "write_once",
]
__getattr__ = lazy_face(__name__, _MODULES)
