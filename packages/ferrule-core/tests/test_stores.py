"""The Store protocol, the MemoryStore and the per-app registry."""

from __future__ import annotations

import asyncio

import pytest

from ferrule.core import App, ImproperlyConfiguredError, MemoryStore, Store, StoreRegistry


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_get_set_delete_exists() -> None:
    store = MemoryStore()
    assert await store.get("a") is None
    assert not await store.exists("a")
    await store.set("a", b"1")
    assert await store.get("a") == b"1"
    assert await store.exists("a")
    assert await store.expires_in("a") is None
    await store.delete("a")
    await store.delete("a")  # deleting a missing key is not an error
    assert await store.get("a") is None


async def test_expiry_is_honoured() -> None:
    clock = Clock()
    store = MemoryStore(clock=clock)
    await store.set("a", b"1", expires_in=10)
    assert await store.expires_in("a") == 10
    clock.now += 9
    assert await store.get("a") == b"1"
    assert await store.expires_in("a") == 1
    clock.now += 1
    assert await store.get("a") is None
    assert not await store.exists("a")
    assert await store.expires_in("a") is None


async def test_set_replaces_value_and_expiry() -> None:
    clock = Clock()
    store = MemoryStore(clock=clock)
    await store.set("a", b"1", expires_in=5)
    await store.set("a", b"2")
    clock.now += 100
    assert await store.get("a") == b"2"


async def test_incr_starts_at_amount_and_keeps_the_window() -> None:
    clock = Clock()
    store = MemoryStore(clock=clock)
    assert await store.incr("n", expires_in=60) == 1
    clock.now += 30
    assert await store.incr("n", expires_in=60) == 2  # expiry not pushed back
    assert await store.incr("n", 5) == 7
    assert await store.get("n") == b"7"
    clock.now += 30
    assert await store.incr("n", expires_in=60) == 1  # the old window expired


async def test_incr_on_a_non_integer_is_a_value_error() -> None:
    store = MemoryStore()
    await store.set("s", b"text")
    with pytest.raises(ValueError, match="not an integer"):
        await store.incr("s")


async def test_incr_is_atomic_under_concurrency() -> None:
    store = MemoryStore()
    results = await asyncio.gather(*(store.incr("n") for _ in range(200)))
    assert sorted(results) == list(range(1, 201))


async def test_bounded_evicts_expired_first_then_oldest() -> None:
    clock = Clock()
    store = MemoryStore(max_entries=3, clock=clock)
    await store.set("old", b"1")
    await store.set("expiring", b"2", expires_in=1)
    await store.set("young", b"3")
    clock.now += 2
    await store.set("new", b"4")  # the expired entry makes room
    assert await store.get("old") == b"1"
    assert len(store) == 3
    await store.set("newer", b"5")  # no expired entry: the oldest goes
    assert await store.get("old") is None
    assert await store.get("newer") == b"5"
    assert len(store) == 3


def test_max_entries_must_be_positive() -> None:
    with pytest.raises(ImproperlyConfiguredError, match="max_entries"):
        MemoryStore(max_entries=0)


def test_registry_default_is_a_memory_store_per_name() -> None:
    registry = StoreRegistry()
    sessions = registry.get("sessions")
    assert isinstance(sessions, MemoryStore)
    assert registry.get("sessions") is sessions
    assert registry.get("rate_limit") is not sessions
    assert "sessions" in registry
    assert registry.names() == ["sessions", "rate_limit"]


def test_registry_register_and_override() -> None:
    registry = StoreRegistry()
    store = MemoryStore()
    registry.register("cache", store)
    assert registry.get("cache") is store
    with pytest.raises(ImproperlyConfiguredError, match="already registered"):
        registry.register("cache", MemoryStore())
    other = MemoryStore()
    registry.register("cache", other, allow_override=True)
    assert registry.get("cache") is other
    with pytest.raises(ImproperlyConfiguredError, match=r"not a ferrule\.core\.Store"):
        registry.register("bad", object())  # type: ignore[arg-type]


def test_registry_default_factory() -> None:
    made: list[str] = []

    def factory(name: str) -> Store:
        made.append(name)
        return MemoryStore(max_entries=5)

    registry = StoreRegistry(factory)
    assert registry.get("x").max_entries == 5  # type: ignore[attr-defined]
    assert made == ["x"]


def test_each_app_has_its_own_stores() -> None:
    a, b = App({}), App({})
    assert isinstance(a.stores, StoreRegistry)
    assert a.stores.get("sessions") is not b.stores.get("sessions")


def test_store_is_abstract() -> None:
    with pytest.raises(TypeError):
        Store()  # type: ignore[abstract]
