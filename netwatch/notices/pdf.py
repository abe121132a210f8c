"""The notice as PDF: the printable HTML laid out by WeasyPrint (paged CSS), fonts embedded.

WeasyPrint reads the template's ``@page`` rules (A4, GB/T 9704 margins, page
numbers on the outer side, the attachment on landscape pages) and embeds the
subset of each font used. The bytes are deterministic for a record (no creation
date; the file identifier is a digest of the content), so a notice's PDF is
written once and a later run that writes it again finds the same bytes.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

from netwatch.notices.record import NoticeRecord
from netwatch.notices.render import render_html

# fontTools reports every subset table it drops, WeasyPrint each layout step: not news
logging.getLogger("fontTools").setLevel(logging.ERROR)
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


class Turns:
    """One layout at a time, first come first served.

    Callers are worker threads, and the machine's cores are the probes': so one layout
    at a time. ``threading.Lock`` promises no order: a web render thread letting it go
    could take it again before a daemon thread waiting for it (the scheduled notices'
    files, a delivery's PDF) ever ran. In turns, a duty's PDF waits behind at most the
    layouts already waiting, which the web's render pool bounds (``--render-workers``).
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._queue: deque[object] = deque()
        self._busy = False

    @property
    def waiting(self) -> int:
        """Callers waiting for their turn now."""
        with self._changed:
            return len(self._queue)

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for this caller's turn, hold it for the block."""
        me = object()
        with self._changed:
            self._queue.append(me)
            try:
                while self._busy or self._queue[0] is not me:
                    self._changed.wait()
            except BaseException:  # interrupted while waiting: give the place up
                self._queue.remove(me)
                self._changed.notify_all()
                raise
            self._queue.popleft()
            self._busy = True
        try:
            yield
        finally:
            with self._changed:
                self._busy = False
                self._changed.notify_all()


LAYOUT = Turns()


def render_pdf(record: NoticeRecord, lang: str = "zh") -> bytes:
    """The PDF of the notice in ``lang`` (CPU-bound: run it off the event loop)."""
    return layout_pdf(render_html(record, lang))


def layout_pdf(html: str) -> bytes:
    """Any printable document's PDF, laid out in ``LAYOUT``'s turns (the notices', the
    circulars'): one layout at a time for the whole process."""
    from weasyprint import HTML  # imported on first use: it loads pango and fonts

    with LAYOUT.turn():
        data: bytes = HTML(string=html).write_pdf()
    # the layout leaves cycles holding the fonts' tables (tens of MB a PDF); the daemon
    # collects its young objects only every 20,000 allocations (``netwatch.daemon.heap``),
    # so a flood of PDFs would pile them up: collect the young generations now (they are
    # small, the old generation with the city's state is not walked)
    gc.collect(1)
    return data
