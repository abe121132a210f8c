"""The one machine-readable line every benchmark ends with, read back by ``readme_table.py``.

``RESULT bench=NAME case=CASE key=value ... load=L1,L5`` (the load averages when the
line is printed, so that a figure says how busy the machine was), optionally followed
by a verdict word (``PASS`` / ``FAIL``). Values are plain numbers or words without
spaces; the README's tables are the medians of these lines over the saved runs.
"""

from __future__ import annotations

import os


def load_average() -> str:
    """The 1- and 5-minute load averages, as ``1.23,0.98``."""
    one, five, _ = os.getloadavg()
    return f"{one:.2f},{five:.2f}"


def result(bench: str, case: str, verdict: str | None = None, **figures: float | int | str) -> str:
    """Print and return the RESULT line of one case (floats to 4 significant digits)."""
    words = [f"bench={bench}", f"case={case}"]
    for key, value in figures.items():
        text = f"{value:.4g}" if isinstance(value, float) else str(value)
        if not text or " " in text or "=" in key:
            raise ValueError(f"RESULT {bench}/{case}: {key}={value!r} is not one word")
        words.append(f"{key}={text}")
    words.append(f"load={load_average()}")
    if verdict:
        words.append(verdict)
    line = "RESULT " + " ".join(words)
    print(line, flush=True)
    return line
