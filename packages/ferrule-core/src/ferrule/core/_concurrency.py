"""Run blocking callables off the event loop."""

from __future__ import annotations

from typing import TYPE_CHECKING, ParamSpec, TypeVar

import anyio.to_thread

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ("run_sync",)

P = ParamSpec("P")
T = TypeVar("T")


async def run_sync(fn: Callable[..., T], *args: object) -> T:
    """Call ``fn(*args)`` in a worker thread and await the result."""
    return await anyio.to_thread.run_sync(fn, *args)
