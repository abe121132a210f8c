"""The monthly circular (月度通报): the city's ranking of its counties, issued once a month.

``record`` is what an issued circular says (frozen, stored as JSON). Out to people, in
the bureau's register and the GB/T 9704 layout the notices use (their parts come from
``netwatch.notices``): ``words`` (measures, kinds and figures in Chinese), ``render``
(the parts in order, and the printable HTML), ``pdf`` (WeasyPrint).

The face is lazy past the record: the renderers load when a name that needs them is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netwatch.circulars.record import (
    MEASURES,
    CircularRecord,
    CountyFigures,
    Mention,
    Ranking,
    RankRow,
    Recipient,
)
from netwatch.runtime import lazy_face

if TYPE_CHECKING:
    from netwatch.circulars.pdf import render_pdf
    from netwatch.circulars.render import document, render_html, title

_MODULES = {
    "pdf": ("render_pdf",),
    "render": ("document", "render_html", "title"),
}
__all__ = ["MEASURES", "CircularRecord", "CountyFigures", "Mention", "RankRow", "Ranking",
           "Recipient", "document", "render_html", "render_pdf", "title"]
__getattr__ = lazy_face(__name__, _MODULES)
