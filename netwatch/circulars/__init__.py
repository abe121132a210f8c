"""The monthly circular (月度通报): the city's ranking of its counties, issued once a month.

``record`` is what an issued circular says (frozen, stored as JSON); ``register`` keeps
each month's issued record (it owns the ``circulars`` table).

From history to a record: ``figures`` reads the month's figures from the store (rates
time-weighted over watched time, items, blind spots, declared outages, unwatched
time) and ranks the counties; ``rule`` is the stated rule of whom the circular praises
and whom it names, with each county's reasons; ``issue`` numbers and records the month's
circular once, in one transaction; ``metrics`` counts the issued circulars.

Out to people, in the bureau's register and the GB/T 9704 layout the notices use (their
parts come from ``netwatch.notices``): ``words`` (measures, kinds and figures in
Chinese), ``render`` (the parts in order, and the printable HTML), ``pdf``
(WeasyPrint), ``docx_file`` (Word) and ``xlsx_file`` (the ranking tables as a
workbook), ``files`` (each circular's files written once) and ``delivery`` (the mail
and the webhook body the outbox sends). ``demo_history`` writes a month of history
for the demo's first circular.

The face is lazy past the record and the register: the figures and the renderers load
when a name that needs them is used.
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
from netwatch.circulars.register import (
    circular_by_id,
    circular_of_month,
    circular_records,
    every_circular,
    record_circular,
)
from netwatch.runtime import lazy_face

if TYPE_CHECKING:
    from netwatch.circulars.delivery import (
        FORMATS,
        OUTBOX,
        circular_message,
        circular_webhook_body,
        links,
        subject,
    )
    from netwatch.circulars.demo_history import (
        DECLARED_TODAY,
        declare_today,
        month_before,
        seed_month,
    )
    from netwatch.circulars.docx_file import render_docx
    from netwatch.circulars.figures import MonthFigures, month_figures, month_span, parse_month
    from netwatch.circulars.files import RENDERERS, stem, write_circular_files
    from netwatch.circulars.issue import CircularError, Issued, issue_circular
    from netwatch.circulars.metrics import circular_families
    from netwatch.circulars.pdf import render_pdf
    from netwatch.circulars.render import document, render_html, title
    from netwatch.circulars.rule import criticism_rule, mentions, praise_rule
    from netwatch.circulars.xlsx_file import render_xlsx

_MODULES = {
    "delivery": ("FORMATS", "OUTBOX", "circular_message", "circular_webhook_body", "links",
                 "subject"),
    "demo_history": ("DECLARED_TODAY", "declare_today", "month_before", "seed_month"),
    "docx_file": ("render_docx",),
    "figures": ("MonthFigures", "month_figures", "month_span", "parse_month"),
    "files": ("RENDERERS", "stem", "write_circular_files"),
    "issue": ("CircularError", "Issued", "issue_circular"),
    "metrics": ("circular_families",),
    "pdf": ("render_pdf",),
    "render": ("document", "render_html", "title"),
    "rule": ("criticism_rule", "mentions", "praise_rule"),
    "xlsx_file": ("render_xlsx",),
}
__all__ = [
    # the record, the register, the renderings and the delivery
    "FORMATS", "MEASURES", "OUTBOX", "RENDERERS", "CircularRecord", "CountyFigures", "Mention",
    "RankRow", "Ranking", "Recipient", "circular_by_id", "circular_message", "circular_of_month",
    "circular_records", "circular_webhook_body", "document", "every_circular", "links",
    "record_circular", "render_docx", "render_html", "render_pdf", "render_xlsx", "stem",
    "subject", "title", "write_circular_files",
    # the figures, the rule, the issue and the metrics
    "CircularError", "Issued", "MonthFigures", "circular_families", "criticism_rule",
    "issue_circular", "mentions", "month_figures", "month_span", "parse_month", "praise_rule",
    # the demo's history
    "DECLARED_TODAY", "declare_today", "month_before", "seed_month",
]
__getattr__ = lazy_face(__name__, _MODULES)
