"""The daemon's heap settling: long-lived objects frozen, a reload's leftovers still collected."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from netwatch.daemon.heap import GC_THRESHOLDS, settle


class Node:
    """A weak-referenceable object that can sit in a reference cycle."""

    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_settle_freezes_what_is_alive(restored_gc: None) -> None:
    kept = Node()
    settle()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == GC_THRESHOLDS
    assert kept.other is None


def test_cycle_left_by_a_reload_is_collected_at_the_next_settle(restored_gc: None) -> None:
    """An old inventory's objects frozen at start but cyclic garbage after a reload."""
    a, b = Node(), Node()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    settle()  # start: the cycle is alive and frozen
    del a, b  # a reload drops it; reference counting alone cannot free a cycle
    gc.collect()
    assert gone() is not None  # frozen: an ordinary collection never sees it
    settle()  # the reload's settle
    assert gone() is None
