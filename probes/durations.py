"""The one duration syntax of every setting, a probe's parameters as the inventory's.

``500ms``, ``30s``, ``5m``, ``1h30m``, ``2d``, ``1w`` (parts add up; spaces are ignored)
or a bare number of seconds. Probes sit below everything else, so the syntax lives
here and the inventory's parsers build on it.
"""

from __future__ import annotations

import re
from functools import lru_cache

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
DURATION_HINT = "a duration like 500ms, 30s, 5m, 2h or 1d"


class BadDuration(ValueError):
    """Not a duration, or a negative one."""


@lru_cache(maxsize=256)
def _text_seconds(text: str) -> float:
    compact = text.replace(" ", "")
    if not _WHOLE.fullmatch(compact):
        raise BadDuration(text)
    # milliseconds divide, so "700ms" is exactly the float 0.7
    return sum(float(n) / 1000 if u == "ms" else float(n) * _UNITS[u]
               for n, u in _PART.findall(compact))


def seconds(value: object) -> float:
    """Seconds from a duration's text or a bare number; ``BadDuration`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise BadDuration(value)
    result = float(value) if not isinstance(value, str) else _text_seconds(value.strip())
    if result < 0:
        raise BadDuration(value)
    return result
