"""Failed-authentication rate limiting: bucket per key, Retry-After, refill, bounded memory."""

from __future__ import annotations

import pytest

from netwatch.web.ratelimit import RateLimiter


def test_eleventh_failure_in_a_minute_is_blocked() -> None:
    """Ten failures pass; then the key waits 6 s per further try (10 per minute)."""
    rl = RateLimiter(limit=10, per=60.0)
    for _ in range(10):
        assert rl.blocked("127.0.0.9", now=100.0) is None
        rl.failed("127.0.0.9", now=100.0)
    wait = rl.blocked("127.0.0.9", now=101.0)
    assert wait == pytest.approx(5.0)
    assert rl.blocked("127.0.0.10", now=101.0) is None
    assert rl.blocked("127.0.0.9", now=101.0 + wait) is None
    rl.failed("127.0.0.9", now=101.0 + wait)
    assert rl.blocked("127.0.0.9", now=101.0 + wait) == pytest.approx(6.0)


def test_refills_over_time_with_an_injected_clock() -> None:
    """A blocked key is allowed again as its bucket refills; a full minute restores all tries."""
    now = [0.0]
    rl = RateLimiter(limit=3, per=30.0, clock=lambda: now[0])
    for _ in range(3):
        rl.failed("k")
    assert rl.blocked("k") == pytest.approx(10.0)
    now[0] = 9.9
    assert rl.blocked("k") is not None
    now[0] = 10.0
    assert rl.blocked("k") is None
    now[0] = 40.0
    for _ in range(3):
        assert rl.blocked("k") is None
        rl.failed("k")
    assert rl.blocked("k") is not None


def test_memory_is_bounded() -> None:
    """At most max_keys keys are tracked, and keys whose bucket has refilled are forgotten."""
    rl = RateLimiter(limit=2, per=10.0, max_keys=100)
    for i in range(1000):
        rl.failed(f"a{i}", now=0.0)
    assert len(rl) == 100
    rl.failed("attacker", now=1.0)
    rl.failed("attacker", now=1.0)
    assert rl.blocked("attacker", now=1.0) is not None
    rl.failed("late", now=10.5)  # every a* key untouched for 10 s: full again, dropped
    assert len(rl) == 2
    assert rl.blocked("a999", now=10.5) is None
    assert rl.blocked("attacker", now=10.5) is None  # refilled by one try after 5 s


def test_bad_settings_are_refused() -> None:
    """A zero limit or window is a configuration error with a message."""
    with pytest.raises(ValueError, match="expected positive numbers"):
        RateLimiter(limit=0)
    with pytest.raises(ValueError, match="expected positive numbers"):
        RateLimiter(per=0)


def test_a_shared_budget_that_rotating_addresses_cannot_dodge() -> None:
    """Each address may fail 10 times a minute, all of them together 25: the 26th wrong
    token from a fresh address waits, and the budget refills like the per-address ones."""
    rl = RateLimiter(limit=10, per=60.0, overall=25)
    for n in range(25):
        assert rl.blocked(f"127.0.0.{n}", now=100.0) is None
        rl.failed(f"127.0.0.{n}", now=100.0)
    wait = rl.blocked("127.0.0.200", now=100.0)
    assert wait == pytest.approx(60.0 / 25)
    assert rl.blocked("127.0.0.200", now=100.0 + wait) is None
