"""The monthly circular (月度通报): the city's ranking of its counties, issued once a month.

``record`` is what an issued circular says (frozen, stored as JSON); ``register`` keeps
each month's issued record (it owns the ``circulars`` table).
"""

from __future__ import annotations

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
    every_circular,
    record_circular,
)

__all__ = ["MEASURES", "CircularRecord", "CountyFigures", "Mention", "RankRow", "Ranking",
           "Recipient", "circular_by_id", "circular_of_month", "every_circular",
           "record_circular"]
