"""The web server's error log: a malformed request is one rate-limited line, not a traceback.

aiohttp logs every request it cannot parse (a bad request line, header or
chunk) at error level with a full traceback, so any client can fill the log
with a few bytes per connection. ``RequestLog`` stands in for aiohttp's server
logger (``web.AppRunner(app, logger=RequestLog())``): a malformed request
becomes one warning line naming the client address and the kind of error (the
exception's class, never the bytes the client sent, which may hold a token),
at most one line per ``every`` seconds, the next line counting those left out.
Everything else (a handler's unhandled exception: a 500) passes through as
before, traceback included.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Any

from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.log import server_logger

EVERY = 60.0  # seconds between two malformed-request lines


class RequestLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """aiohttp's server logger with malformed requests quietened and rate-limited."""

    def __init__(self, logger: logging.Logger = server_logger, every: float = EVERY,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(logger, {})
        self.every = every
        self.clock = clock
        self.last: float | None = None  # when the last line was written
        self.left_out = 0  # malformed requests since then without a line of their own

    def exception(self, msg: object, *args: Any, exc_info: Any = True, **kwargs: Any) -> None:
        if not self._malformed(logging.WARNING, args, exc_info):
            self.logger.exception(msg, *args, exc_info=exc_info, **kwargs)

    def debug(self, msg: object, *args: Any, **kwargs: Any) -> None:
        """aiohttp itself logs a first request of garbage (TLS to a plain port) at debug."""
        if not self._malformed(logging.DEBUG, args, kwargs.get("exc_info")):
            self.logger.debug(msg, *args, **kwargs)

    def _malformed(self, level: int, args: tuple[Any, ...], exc_info: Any) -> bool:
        """Log (or count) a malformed request; False when this is some other message."""
        exc = exc_info if isinstance(exc_info, BaseException) else (
            sys.exc_info()[1] if exc_info is True else None)
        if not isinstance(exc, HttpProcessingError):
            return False
        now = self.clock()
        if self.last is not None and now - self.last < self.every:
            self.left_out += 1
            return True
        remote = args[0] if args else "an unknown address"
        more = (f" ({self.left_out} more since the last such line, not logged)"
                if self.left_out else "")
        self.logger.log(level, "malformed request from %s refused (%s)%s", remote,
                        type(exc).__name__, more)
        self.last, self.left_out = now, 0
        return True
