"""The notice as PDF: the printable HTML laid out by WeasyPrint (paged CSS), fonts embedded.

WeasyPrint reads the template's ``@page`` rules (A4, GB/T 9704 margins, page
numbers on the outer side, the attachment on landscape pages) and embeds the
subset of each font used. The bytes are deterministic for a record (no creation
date; the file identifier is a digest of the content), so a notice's PDF is
written once and a later run that writes it again finds the same bytes.
"""

from __future__ import annotations

import logging
import threading

from netwatch.notices.record import NoticeRecord
from netwatch.notices.render import render_html

# fontTools reports every subset table it drops, WeasyPrint each layout step: not news
logging.getLogger("fontTools").setLevel(logging.ERROR)
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
# one layout at a time: callers are worker threads, and the machine's cores are the probes'
_ONE_AT_A_TIME = threading.Lock()


def render_pdf(record: NoticeRecord, lang: str = "zh") -> bytes:
    """The PDF of the notice in ``lang`` (CPU-bound: run it off the event loop)."""
    from weasyprint import HTML  # imported on first use: it loads pango and fonts

    with _ONE_AT_A_TIME:
        data: bytes = HTML(string=render_html(record, lang)).write_pdf()
    return data
