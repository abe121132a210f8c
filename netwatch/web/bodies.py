"""JSON request bodies, parsed so that no body can turn into a 500.

``json.loads`` gives up on deep nesting with a RecursionError (a body of 100,000
``[``), turns a long run of digits into a Python int that no float can hold (a
reading's ``10**400``, whose range check then overflows) and refuses one past 4,300
digits. Here too deep is a 400, and an integer too long to be exact in a double is
read as the double it denotes (``inf`` when it overflows), which the readings' own
check refuses naming the field. A UTF-8 byte-order mark is accepted, as for CSV.
"""

from __future__ import annotations

import json
from typing import Any

from netwatch.web.auth import ApiError

EXACT_DIGITS = 15  # every integer of up to 15 digits is exact in a double


def _number(text: str) -> int | float:
    return int(text) if len(text.lstrip("-")) <= EXACT_DIGITS else float(text)


def parse_json(body: bytes, what: str = "the body") -> Any:
    """The JSON value of ``body``; a 400 ``ApiError`` when it is not UTF-8 JSON."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApiError(400, f"{what} is not UTF-8", None) from None
    try:
        return json.loads(text, parse_int=_number)
    except RecursionError:
        raise ApiError(400, f"{what} is nested too deeply", None) from None
    except ValueError as exc:
        raise ApiError(400, f"{what} is not JSON", str(exc)[:200]) from None
