"""Failed-authentication rate limiting: a token bucket per client address, and one for all.

Each key may fail ``limit`` times in a burst; the bucket refills at ``limit`` per
``per`` seconds, so a client that keeps failing gets one more try every
``per / limit`` seconds (10 per minute by default). All keys together may fail
``overall`` times per ``per`` seconds (100 per minute by default), so rotating
source addresses does not buy more guesses. The web app checks a presented token
first and lets a valid one through; only after a failure does it ask
``blocked(key)`` (answer 429 with ``Retry-After`` = the seconds returned, rounded
up) and otherwise call ``failed(key)``.

Memory is bounded: a key whose bucket has refilled is forgotten (it is the same
as a key never seen), and at most ``max_keys`` keys are tracked, the least
recently failed evicted first. Time is injectable: pass ``now`` or a ``clock``.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_LIMIT = 10
DEFAULT_PER = 60.0
DEFAULT_OVERALL = 100
DEFAULT_MAX_KEYS = 10_000


@dataclass(slots=True)
class _Bucket:
    tokens: float  # failures still allowed now (fractional while refilling)
    updated: float  # when ``tokens`` was computed


class RateLimiter:
    """Counts failures per key; not thread-safe (used from the event loop)."""

    __slots__ = ("clock", "limit", "max_keys", "overall", "per", "_all", "_buckets", "_rate")

    def __init__(self, limit: int = DEFAULT_LIMIT, per: float = DEFAULT_PER,
                 max_keys: int = DEFAULT_MAX_KEYS,
                 clock: Callable[[], float] = time.monotonic,
                 overall: int = DEFAULT_OVERALL) -> None:
        if limit < 1 or per <= 0 or max_keys < 1 or overall < 1:
            raise ValueError(f"rate limit {limit} ({overall} overall) per {per} s over "
                             f"{max_keys} keys: expected positive numbers")
        self.limit = limit
        self.overall = overall
        self._all = _Bucket(float(overall), clock())
        self.per = per
        self.max_keys = max_keys
        self.clock = clock
        self._rate = limit / per
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def _level(self, bucket: _Bucket, now: float) -> float:
        elapsed = max(0.0, now - bucket.updated)
        return min(float(self.limit), bucket.tokens + elapsed * self._rate)

    def _overall_level(self, now: float) -> float:
        elapsed = max(0.0, now - self._all.updated)
        return min(float(self.overall), self._all.tokens + elapsed * self.overall / self.per)

    def blocked(self, key: str, now: float | None = None) -> float | None:
        """Seconds until ``key`` may try again (its own or the shared budget), or None."""
        now = self.clock() if now is None else now
        waits = []
        shared = self._overall_level(now)
        if shared < 1.0:
            waits.append((1.0 - shared) * self.per / self.overall)
        bucket = self._buckets.get(key)
        if bucket is not None:
            level = self._level(bucket, now)
            if level < 1.0:
                waits.append((1.0 - level) / self._rate)
        return max(waits) if waits else None

    def failed(self, key: str, now: float | None = None) -> None:
        """Spend one of ``key``'s allowed failures and one of the shared budget's."""
        now = self.clock() if now is None else now
        self._all = _Bucket(max(0.0, self._overall_level(now) - 1.0), now)
        self._forget_refilled(now)
        bucket = self._buckets.pop(key, None)
        level = float(self.limit) if bucket is None else self._level(bucket, now)
        if bucket is None and len(self._buckets) >= self.max_keys:
            self._buckets.popitem(last=False)
        self._buckets[key] = _Bucket(max(0.0, level - 1.0), now)

    def _forget_refilled(self, now: float) -> None:
        """Drop keys untouched for ``per`` seconds: their buckets are full again."""
        while self._buckets:
            oldest = next(iter(self._buckets.values()))
            if now - oldest.updated < self.per:
                return
            self._buckets.popitem(last=False)

    def __len__(self) -> int:
        return len(self._buckets)
