"""Spreadsheet formulas kept out of text that came from outside (ledgers, readings, names).

A cell a spreadsheet would run as a formula is quoted with a leading ``'`` wherever
netwatch writes text it did not write itself: the device CSV from a ledger, the
readings CSV, the coverage plan and the notices' Excel lists (docs/security.md,
'Untrusted text'). It lives with the inventory, the lowest layer that reads such text.
"""

from __future__ import annotations

import unicodedata

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_FORMULA_CHARS = frozenset("=+-@\u2212")  # U+2212 MINUS SIGN is read as a minus too
_SKIPPED = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})  # what comes before a formula unseen


def neutralise(cell: str) -> str:
    """A text cell made safe for spreadsheets: one that could start a formula is quoted.

    A spreadsheet (or the person who pastes the cell into one) looks past spaces,
    line breaks and zero-width or other format characters, and an input method
    types ＝ for =: so the first visible character decides, compared in its
    NFKC form (＝ ＋ － ＠ and the small forms fold to = + - @).
    """
    if cell.startswith(FORMULA_START):
        return "'" + cell
    for char in cell:
        if unicodedata.category(char) in _SKIPPED:
            continue
        if char in _FORMULA_CHARS or unicodedata.normalize("NFKC", char)[:1] in _FORMULA_CHARS:
            return "'" + cell
        break
    return cell
