"""Startup and shutdown hooks with an explicit order (never alphabetical)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from ._concurrency import run_sync

__all__ = ("Hook", "HookList", "on_shutdown", "on_startup")

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Hook:
    fn: Callable[..., Any]
    priority: int
    seq: int

    async def run(self, *args: Any) -> None:
        if inspect.iscoroutinefunction(self.fn):
            await self.fn(*args)
        else:
            result = await run_sync(self.fn, *args)
            if inspect.isawaitable(result):
                await result


class HookList:
    """Hooks run by descending priority, then in the order they were added."""

    def __init__(self) -> None:
        self._hooks: list[Hook] = []

    def add(self, fn: Callable[..., Any], priority: int = 0) -> None:
        self._hooks.append(Hook(fn, priority, len(self._hooks)))

    def ordered(self) -> list[Hook]:
        return sorted(self._hooks, key=lambda h: (-h.priority, h.seq))

    def __len__(self) -> int:
        return len(self._hooks)


class _HookMarker:
    """``@on_startup`` / ``@on_startup(priority=10)`` on ``App`` subclass methods."""

    def __init__(self, attr: str, doc: str) -> None:
        self._attr = attr
        self.__doc__ = doc

    @overload
    def __call__(self, fn: F, /) -> F: ...
    @overload
    def __call__(self, /, *, priority: int = 0) -> Callable[[F], F]: ...

    def __call__(self, fn: Any = None, /, *, priority: int = 0) -> Any:
        def mark(f: F) -> F:
            setattr(f, self._attr, priority)
            return f

        return mark(fn) if fn is not None else mark


on_startup = _HookMarker(
    "__ferrule_on_startup__",
    "Mark an App subclass method to run at startup; higher priority runs first, "
    "ties in definition order.",
)
on_shutdown = _HookMarker(
    "__ferrule_on_shutdown__",
    "Mark an App subclass method to run at shutdown (same ordering rules).",
)


def collect_marked(obj: object, attr: str) -> list[tuple[Callable[..., Any], int]]:
    """Bound methods of ``obj`` marked with ``attr``, in class definition order."""
    seen: set[str] = set()
    found: list[tuple[Callable[..., Any], int]] = []
    for klass in reversed(type(obj).__mro__):
        for name, value in vars(klass).items():
            if name in seen:
                continue
            priority = getattr(value, attr, None)
            if priority is not None:
                seen.add(name)
                found.append((getattr(obj, name), priority))
    return found
