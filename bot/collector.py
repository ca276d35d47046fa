"""Pausing Python's cyclic garbage collector around a bounded batch job on the event loop.

A directory sync builds tens of thousands of short-lived, acyclic objects (users, rows, parsed
pages), which reference counting frees as soon as the sync is done. If the cyclic collector's
full collection happens to run meanwhile, it walks them all in one go: 30-50 ms in which no
chat turn is answered (benchmarks/directory_sync.py measured it as the sync's largest stall).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_paused = 0
_was_enabled = True


@contextmanager
def collector_paused() -> Iterator[None]:
    """No automatic cyclic collection inside; nested or overlapping pauses are counted, and the
    collector is enabled again only when the last one ends (if it was enabled before the first)."""
    global _paused, _was_enabled
    if _paused == 0:
        _was_enabled = gc.isenabled()
        gc.disable()
    _paused += 1
    try:
        yield
    finally:
        _paused -= 1
        if _paused == 0 and _was_enabled:
            gc.enable()
