"""GC_TUNING: a server's lifespan freezes the startup heap and raises the young
threshold while the app runs; shutdown undoes both; tests and opt-outs leave gc alone."""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import TYPE_CHECKING, Any

import pytest

from ferrule.core import App, _gc
from ferrule.core.testing import TestClient

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(autouse=True)
def _stock_gc() -> Iterator[None]:
    """Every test starts from CPython 3.11's stock collector and leaves it so."""
    saved = gc.get_threshold()
    enabled = gc.isenabled()
    gc.unfreeze()
    gc.set_threshold(700, saved[1], saved[2])
    gc.enable()
    yield
    gc.unfreeze()
    gc.set_threshold(*saved)
    if not enabled:
        gc.disable()


class Server:
    """Drives the ASGI lifespan as uvicorn does: startup, then shutdown on demand."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sent: list[dict[str, Any]] = []
        self.task: asyncio.Task[None] | None = None
        self.answered = asyncio.Event()

    async def _send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)
        self.answered.set()

    async def start(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}}
        self.task = asyncio.create_task(self.app(scope, self.inbox.get, self._send))
        await self.inbox.put({"type": "lifespan.startup"})
        await self.answered.wait()
        assert self.sent[-1]["type"] == "lifespan.startup.complete"

    async def stop(self) -> None:
        assert self.task is not None
        await self.inbox.put({"type": "lifespan.shutdown"})
        await self.task
        assert self.sent[-1]["type"] == "lifespan.shutdown.complete"


async def test_served_app_freezes_startup_heap_and_raises_young_threshold() -> None:
    app = App()
    startup_object: list[object] = []  # a tracked container of the startup heap
    assert gc.is_tracked(startup_object)
    server = Server(app)
    await server.start()
    assert _gc.tuned()
    assert gc.get_freeze_count() > 1000  # the interpreter, ferrule, the app
    assert gc.get_threshold()[0] == _gc.YOUNG_THRESHOLD
    # A full collection no longer walks the frozen heap.
    assert not any(o is startup_object for o in gc.get_objects(generation=2))
    await server.stop()
    assert not _gc.tuned()
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold()[0] == 700
    assert any(o is startup_object for o in gc.get_objects())


async def test_frozen_cycles_are_collected_after_shutdown() -> None:
    class Node:
        pass

    server = Server(App())
    cycle = Node()
    cycle.self = cycle  # type: ignore[attr-defined]
    await server.start()
    probe = weakref.ref(cycle)
    del cycle
    gc.collect()
    assert probe() is not None  # frozen: the collector does not look at it
    await server.stop()
    gc.collect()
    assert probe() is None  # unfrozen at shutdown: reclaimed


async def test_gc_tuning_false_leaves_the_collector_alone() -> None:
    server = Server(App({"GC_TUNING": False}))
    await server.start()
    assert not _gc.tuned()
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold()[0] == 700
    await server.stop()


async def test_test_client_does_not_tune() -> None:
    async with TestClient(App()) as client:
        assert (await client.get("/livez")).status_code == 200
        assert not _gc.tuned()
        assert gc.get_threshold()[0] == 700


async def test_two_apps_share_one_tuning_until_the_last_stops() -> None:
    first, second = Server(App()), Server(App())
    await first.start()
    await second.start()
    await first.stop()
    assert _gc.tuned()  # the second app still runs
    assert gc.get_threshold()[0] == _gc.YOUNG_THRESHOLD
    await second.stop()
    assert not _gc.tuned()
    assert gc.get_threshold()[0] == 700


async def test_own_threshold_and_disabled_collector_are_respected() -> None:
    gc.set_threshold(5000, 10, 10)
    server = Server(App())
    await server.start()
    assert gc.get_threshold()[0] == 5000  # the process's own choice stays
    await server.stop()
    assert gc.get_threshold()[0] == 5000

    gc.set_threshold(700, 10, 10)
    gc.disable()
    server = Server(App())
    await server.start()
    assert not _gc.tuned()
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold()[0] == 700
    await server.stop()


async def test_failed_startup_does_not_tune() -> None:
    app = App()

    @app.on_startup
    async def broken() -> None:
        raise RuntimeError("no database")

    server = Server(app)
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}}
    await server.inbox.put({"type": "lifespan.startup"})
    await app(scope, server.inbox.get, server._send)
    assert server.sent == [{"type": "lifespan.startup.failed", "message": "no database"}]
    assert not _gc.tuned()
    assert gc.get_freeze_count() == 0


async def test_cancelled_lifespan_undoes_the_tuning() -> None:
    server = Server(App())
    await server.start()
    assert _gc.tuned()
    assert server.task is not None
    server.task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await server.task
    assert not _gc.tuned()
    assert gc.get_freeze_count() == 0
