"""The monthly circular (月度通报): the city's ranking of its counties, issued once a month.

``record`` is what an issued circular says (frozen, stored as JSON).
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

__all__ = ["MEASURES", "CircularRecord", "CountyFigures", "Mention", "RankRow", "Ranking",
           "Recipient"]
