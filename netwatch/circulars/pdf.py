"""The circular as PDF: its printable HTML laid out by WeasyPrint in the notices' turns.

``layout_pdf`` (netwatch.notices) lays out one document at a time for the whole
process, embeds the subset of each font used and gives the same bytes for the same
HTML (no creation date, the file identifier a digest of the content): a circular's
PDF is written once and compared when written again.
"""

from __future__ import annotations

from netwatch.circulars.record import CircularRecord
from netwatch.circulars.render import render_html
from netwatch.notices import layout_pdf


def render_pdf(record: CircularRecord) -> bytes:
    """The PDF of the circular (CPU-bound: run it off the event loop)."""
    return layout_pdf(render_html(record))
