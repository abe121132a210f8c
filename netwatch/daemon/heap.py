"""The garbage collector's settings for a daemon holding a city's state in memory.

CPython's collector re-scans every tracked object on each full (generation 2)
collection. The daemon holds millions of long-lived objects (the inventory,
per-device state, the exposition's label sets) that never become cyclic
garbage; without care every full collection walks them all, several times per
sweep cycle (hundreds of milliseconds each at 100,000 devices, with the event
loop stopped).

- ``settle`` moves what exists once the inventory is loaded (and after each
  reload) into the permanent generation (``gc.freeze``), which collections skip.
- ``GC_THRESHOLDS`` collects the young generation after 20,000 net allocations
  instead of 700: a sweep allocates a few objects per check (tasks, futures,
  results) that die within milliseconds, mostly by reference counting; with
  CPython's default most of them are still alive at a young collection, get
  promoted, and trigger full collections (each sweep's results outlive two
  young collections by design: they are the devices' state until the next
  sweep). Memory bound: at most 20,000 young objects wait for a collection.
"""

from __future__ import annotations

import gc

GC_THRESHOLDS = (20_000, 10, 10)  # young, middle, old: see the module docstring


def settle() -> None:
    """Freeze the long-lived heap: after the inventory's load and after every reload.

    Frozen objects are still freed when their reference count drops to zero (an old
    inventory's devices after a reload, once nothing refers to them), but never by
    the collector: cyclic garbage among them would stay forever. So each call first
    unfreezes, collects everything once (a reload's one full collection, as at
    start) and freezes again: what a reload left behind is collected, what is still
    alive is frozen anew, and reloads do not pile up frozen garbage.
    """
    gc.set_threshold(*GC_THRESHOLDS)
    gc.unfreeze()
    gc.collect()
    gc.freeze()
