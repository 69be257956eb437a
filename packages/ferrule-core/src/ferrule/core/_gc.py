"""Garbage-collector tuning while a server runs the app (config ``GC_TUNING``).

CPython's cyclic collector walks every tracked object of a generation each time
that generation is collected. A served app carries a large startup heap that
lives as long as the process (modules, the route table, pydantic schemas,
SQLAlchemy mappers: about 77,000 objects in the benchmark app) and, under load,
many objects of in-flight requests. Two settings of that collector cost a
database-backed endpoint about a tenth of the server's time (docs/benchmarks.md):

- a full (oldest-generation) collection walks the startup heap: ~45 ms each, about
  once a second under load. :func:`gc.freeze` moves the heap present after startup
  into the permanent generation, which no collection walks;
- with the young-generation threshold at 700 (CPython 3.11 and 3.12), the requests
  in flight cross it several hundred times a second; each such collection walks
  them, and the survivors are walked again by the middle generation. CPython 3.13
  raised the default to 2,000; here it is raised to 2,000 on older versions too.

Reference counting still frees frozen objects that die; only reference cycles
among them wait until :func:`untune` unfreezes the heap at shutdown. The tuning is
process-wide, so it is counted: the first app to start applies it, the last to
stop undoes it. A process whose collector was disabled (``gc.disable()``) or given
its own young-generation threshold keeps those settings.
"""

from __future__ import annotations

import gc
import logging
import threading

__all__ = ("YOUNG_THRESHOLD", "tune", "tuned", "untune")

logger = logging.getLogger("ferrule.core")

#: The young-generation threshold while tuned (CPython 3.13's default).
YOUNG_THRESHOLD = 2000
#: CPython 3.11/3.12's default young-generation threshold: only this is raised.
_STOCK_THRESHOLD = 700

_lock = threading.Lock()
_users = 0
_applied = False
_previous: tuple[int, int, int] | None = None


def tune() -> None:
    """Collect once, freeze the heap and raise the young threshold (first caller only)."""
    global _users, _applied, _previous
    with _lock:
        _users += 1
        if _users > 1 or not gc.isenabled():
            return
        gc.collect()
        gc.freeze()
        _applied = True
        threshold = gc.get_threshold()
        if threshold[0] == _STOCK_THRESHOLD:
            _previous = threshold
            gc.set_threshold(YOUNG_THRESHOLD, threshold[1], threshold[2])
        logger.debug(
            "GC tuned: %d startup objects frozen, thresholds %s",
            gc.get_freeze_count(),
            gc.get_threshold(),
        )


def untune() -> None:
    """Undo :func:`tune` when its last user stops: unfreeze, restore the threshold."""
    global _users, _applied, _previous
    with _lock:
        if _users == 0:
            return
        _users -= 1
        if _users or not _applied:
            return
        _applied = False
        gc.unfreeze()
        if _previous is not None and gc.get_threshold()[0] == YOUNG_THRESHOLD:
            gc.set_threshold(*_previous)
        _previous = None


def tuned() -> bool:
    """Whether the tuning is in effect in this process."""
    return _applied
