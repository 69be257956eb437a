"""Key-value stores shared by sessions, rate limiting and (later) caching.

A :class:`Store` maps ``str`` keys to ``bytes`` values with an optional expiry.
Every app has a :class:`StoreRegistry` at ``app.stores``: features ask it for a
store by name (``app.stores.get("sessions")``) and get a per-app
:class:`MemoryStore` unless another store was registered under that name
(``app.stores.register("rate_limit", RedisStore(...))``), so a battery such as
ferrule-caching can put every feature on a shared backend.

Writing a store (for battery authors): subclass :class:`Store` and implement the
six coroutines. ``incr`` must be atomic across every process that shares the
backend (Redis ``INCRBY`` + ``EXPIRE NX``): rate limits are only as exact as it.
Values are opaque bytes; keys are already namespaced by the feature
(``session:...``, ``ratelimit:...``).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from .exceptions import ImproperlyConfiguredError

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ("MemoryStore", "Store", "StoreRegistry")


class Store(ABC):
    """The protocol of a key-value store with expiry (Litestar's ``Store`` shape).

    ``expires_in`` is in seconds; ``None`` keeps the value until deleted (or
    evicted by a bounded store).
    """

    @abstractmethod
    async def get(self, key: str) -> bytes | None:
        """Return the value of ``key``, or None when missing or expired."""

    @abstractmethod
    async def set(self, key: str, value: bytes, expires_in: int | None = None) -> None:
        """Store ``value`` under ``key``, replacing any value and expiry."""

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Remove ``key`` (no error when it does not exist)."""

    @abstractmethod
    async def exists(self, key: str) -> bool:
        """Whether ``key`` holds an unexpired value."""

    @abstractmethod
    async def expires_in(self, key: str) -> int | None:
        """Seconds until ``key`` expires; None when missing or without expiry."""

    @abstractmethod
    async def incr(self, key: str, amount: int = 1, expires_in: int | None = None) -> int:
        """Atomically add ``amount`` to the integer at ``key`` and return the result.

        A missing (or expired) key starts at 0 and gets ``expires_in``; an
        existing key keeps its expiry (the window of a fixed-window counter).

        Raises:
            ValueError: the value at ``key`` is not an integer.
        """

    async def close(self) -> None:  # noqa: B027 - optional hook, not abstract
        """Release connections (called by whoever created the store)."""


class MemoryStore(Store):
    """An in-process store: the default, one per app and name.

    Bounded: when ``max_entries`` is reached, expired entries are dropped, then
    the oldest ones. Each operation runs without an ``await`` in between its
    read and write, so it is atomic under asyncio. Not shared across worker
    processes: use a networked store (ferrule-caching) for that.

    Args:
        max_entries: the most keys kept at once.
        clock: a monotonic seconds clock (tests inject a fake one).
    """

    def __init__(
        self, max_entries: int = 10_000, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if max_entries < 1:
            raise ImproperlyConfiguredError(
                f"MemoryStore max_entries must be >= 1, got {max_entries!r}."
            )
        self.max_entries = max_entries
        self._clock = clock
        # key -> (value, deadline or None); dict order is insertion order (oldest first).
        self._data: dict[str, tuple[bytes, float | None]] = {}

    def _live(self, key: str) -> tuple[bytes, float | None] | None:
        entry = self._data.get(key)
        if entry is not None and entry[1] is not None and entry[1] <= self._clock():
            del self._data[key]
            return None
        return entry

    def _put(self, key: str, value: bytes, deadline: float | None) -> None:
        data = self._data
        if key not in data and len(data) >= self.max_entries:
            now = self._clock()
            for k in [k for k, (_, d) in data.items() if d is not None and d <= now]:
                del data[k]
            while len(data) >= self.max_entries:
                del data[next(iter(data))]
        data[key] = (value, deadline)

    def _deadline(self, expires_in: int | None) -> float | None:
        return None if expires_in is None else self._clock() + expires_in

    async def get(self, key: str) -> bytes | None:
        entry = self._live(key)
        return None if entry is None else entry[0]

    async def set(self, key: str, value: bytes, expires_in: int | None = None) -> None:
        self._data.pop(key, None)
        self._put(key, bytes(value), self._deadline(expires_in))

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)

    async def exists(self, key: str) -> bool:
        return self._live(key) is not None

    async def expires_in(self, key: str) -> int | None:
        entry = self._live(key)
        if entry is None or entry[1] is None:
            return None
        return max(0, round(entry[1] - self._clock()))

    async def incr(self, key: str, amount: int = 1, expires_in: int | None = None) -> int:
        entry = self._live(key)
        if entry is None:
            self._put(key, b"%d" % amount, self._deadline(expires_in))
            return amount
        value, deadline = entry
        try:
            result = int(value) + amount
        except ValueError:
            raise ValueError(f"The value at {key!r} is not an integer: {value[:32]!r}") from None
        self._data[key] = (b"%d" % result, deadline)
        return result

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"<MemoryStore {len(self._data)}/{self.max_entries} keys>"


class StoreRegistry:
    """The named stores of one app (``app.stores``).

    Example:
        >>> app.stores.register("rate_limit", MemoryStore(max_entries=100_000))
        >>> store = app.stores.get("sessions")  # a MemoryStore unless registered

    Args:
        default_factory: builds the store for a name nobody registered.
    """

    def __init__(self, default_factory: Callable[[str], Store] | None = None) -> None:
        self._stores: dict[str, Store] = {}
        self.default_factory: Callable[[str], Store] = default_factory or (
            lambda _name: MemoryStore()
        )

    def register(self, name: str, store: Store, *, allow_override: bool = False) -> None:
        """Use ``store`` for ``name``.

        Raises:
            ImproperlyConfiguredError: ``store`` is not a Store, or ``name`` is
                taken and ``allow_override`` is off.
        """
        if not isinstance(store, Store):
            raise ImproperlyConfiguredError(
                f"{store!r} registered as store {name!r} is not a ferrule.core.Store; "
                "subclass Store and implement get/set/delete/exists/expires_in/incr."
            )
        if name in self._stores and not allow_override:
            raise ImproperlyConfiguredError(
                f"A store named {name!r} is already registered (or was already used); "
                "register stores before the first request, or pass allow_override=True."
            )
        self._stores[name] = store

    def get(self, name: str) -> Store:
        """The store registered as ``name``, creating the default one on first use."""
        store = self._stores.get(name)
        if store is None:
            store = self._stores[name] = self.default_factory(name)
        return store

    def __contains__(self, name: object) -> bool:
        return name in self._stores

    def names(self) -> list[str]:
        """Names of the stores registered or created so far."""
        return list(self._stores)
