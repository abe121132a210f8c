"""Logging setup: plain text for a person at a terminal, JSON lines for journald, Loki or ELK.

``--log-format json`` writes one object per line with ``time`` (UTC, ISO 8601),
``level``, ``logger``, ``message`` and the structured fields a log call passes
in ``extra`` (``device``, ``county``, ``fault``, …). Only plain scalar extras are
written, and never one whose name says it holds a secret: netwatch passes no
secret to a log call, and this keeps a future slip out of the shipped logs too.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
SECRET_WORDS = ("password", "secret", "token", "community", "key", "auth", "priv")

# attributes every LogRecord has: anything else on a record came from ``extra``
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "taskName",
}


def structured_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The record's ``extra`` fields that are plain values and not named like secrets."""
    fields: dict[str, Any] = {}
    for name, value in vars(record).items():
        if name in _STANDARD or name.startswith("_"):
            continue
        if any(word in name.lower() for word in SECRET_WORDS):
            continue
        if value is None or isinstance(value, str | int | float | bool):
            fields[name] = value
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line; exceptions go in ``exception`` as text."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in structured_fields(record).items():
            entry.setdefault(name, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def setup_logging(level: str, fmt: str = "text", text_format: str = TEXT_FORMAT) -> None:
    """Log to stderr at ``level`` in ``fmt``; APScheduler's per-run lines only at debug.

    APScheduler logs two INFO lines per job run (every sweep of every group, every
    few seconds): noise an operator must not wade through. Skipped runs still show,
    as netwatch's own overrun warnings.
    """
    if fmt not in LOG_FORMATS:
        raise ValueError(f"log format {fmt!r} is not one of {', '.join(LOG_FORMATS)}")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(text_format))
    logging.basicConfig(level=level.upper(), handlers=[handler])
    if logging.getLogger().level > logging.DEBUG:
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
