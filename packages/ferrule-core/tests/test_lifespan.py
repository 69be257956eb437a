"""Lifespan: explicit startup/shutdown order, priorities, failures."""

import logging
from typing import Any

import pytest

from ferrule.core import App, Extension, on_shutdown, on_startup
from ferrule.core.lifespan import HookList
from ferrule.core.testing import TestClient

EVENTS: list[str] = []


@pytest.fixture(autouse=True)
def _reset() -> None:
    EVENTS.clear()


class Recorder(Extension):
    """Records its startup and shutdown; optionally fails to start."""

    def __init__(self, label: str, *, fail: bool = False) -> None:
        super().__init__(name=label)
        self.label = label
        self.fail = fail

    async def startup(self, app: App) -> None:
        if self.fail:
            EVENTS.append(f"ext:{self.label}:failed")
            raise RuntimeError(f"{self.label} cannot start")
        EVENTS.append(f"ext:{self.label}:start")

    async def shutdown(self, app: App) -> None:
        EVENTS.append(f"ext:{self.label}:stop")


class Application(App):
    # Definition order is zulu, alpha, mike; alphabetical order would differ.
    @on_startup
    async def zulu_start(self) -> None:
        EVENTS.append("app:zulu_start")

    @on_startup
    def alpha_start(self) -> None:  # sync hooks run too (in a thread)
        EVENTS.append("app:alpha_start")

    @on_shutdown
    async def zulu_stop(self) -> None:
        EVENTS.append("app:zulu_stop")

    @on_shutdown
    async def alpha_stop(self) -> None:
        EVENTS.append("app:alpha_stop")


def registered_start() -> None:
    EVENTS.append("app:registered_start")


async def registered_stop() -> None:
    EVENTS.append("app:registered_stop")


async def test_extensions_start_first_and_stop_last_never_alphabetically() -> None:
    app = Application(extensions=[Recorder("zebra"), Recorder("aardvark")])
    app.on_startup(registered_start)
    app.on_shutdown(registered_stop)
    async with TestClient(app):
        assert EVENTS == [
            "ext:zebra:start",
            "ext:aardvark:start",
            "app:zulu_start",
            "app:alpha_start",
            "app:registered_start",
        ]
        EVENTS.clear()
    assert EVENTS == [
        "app:zulu_stop",
        "app:alpha_stop",
        "app:registered_stop",
        "ext:aardvark:stop",
        "ext:zebra:stop",
    ]


class Prioritised(App):
    @on_startup
    async def plain(self) -> None:
        EVENTS.append("plain")

    @on_startup(priority=10)
    async def urgent(self) -> None:
        EVENTS.append("urgent")

    @on_startup(priority=-5)
    async def late(self) -> None:
        EVENTS.append("late")


async def test_priorities_order_hooks_then_registration_order() -> None:
    app = Prioritised(extensions=[Recorder("ext")])
    app.on_startup(lambda: EVENTS.append("registered-5"), priority=5)
    app.on_startup(lambda: EVENTS.append("registered-10"), priority=10)

    @app.on_startup(priority=-10)
    async def decorated() -> None:
        EVENTS.append("decorated-minus-10")

    await app.startup()
    assert EVENTS == [
        "ext:ext:start",
        "urgent",
        "registered-10",
        "registered-5",
        "plain",
        "late",
        "decorated-minus-10",
    ]
    await app.shutdown()


async def test_failing_extension_stops_those_already_started() -> None:
    app = Application(
        extensions=[Recorder("first"), Recorder("second"), Recorder("broken", fail=True)]
    )
    with pytest.raises(RuntimeError, match="broken cannot start"):
        await app.startup()
    assert EVENTS == [
        "ext:first:start",
        "ext:second:start",
        "ext:broken:failed",
        "ext:second:stop",
        "ext:first:stop",
    ]


async def test_failing_app_hook_stops_started_extensions() -> None:
    app = App(extensions=[Recorder("one"), Recorder("two")])

    def boom() -> None:
        EVENTS.append("hook:boom")
        raise ValueError("hook failed")

    app.on_startup(boom)
    with pytest.raises(ValueError, match="hook failed"):
        async with TestClient(app):
            pass  # pragma: no cover - startup fails
    assert EVENTS == ["ext:one:start", "ext:two:start", "hook:boom", "ext:two:stop", "ext:one:stop"]


async def test_asgi_lifespan_reports_a_failed_startup(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    app = App(extensions=[Recorder("ok"), Recorder("bad", fail=True)])
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "lifespan.startup"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    assert sent == [{"type": "lifespan.startup.failed", "message": "bad cannot start"}]
    assert EVENTS == ["ext:ok:start", "ext:bad:failed", "ext:ok:stop"]
    assert "Application startup failed" in caplog.text


async def test_startup_and_shutdown_are_idempotent() -> None:
    app = App(extensions=[Recorder("once")])
    await app.startup()
    await app.startup()
    await app.shutdown()
    await app.shutdown()
    assert EVENTS == ["ext:once:start", "ext:once:stop"]


async def test_lifespan_context_manager() -> None:
    app = App(extensions=[Recorder("ctx")])
    async with app.lifespan() as running:
        assert running is app
        assert EVENTS == ["ext:ctx:start"]
    assert EVENTS == ["ext:ctx:start", "ext:ctx:stop"]


async def test_failing_shutdown_hook_still_stops_extensions(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR)
    app = App(extensions=[Recorder("kept")])

    async def bad_stop() -> None:
        raise OSError("cannot flush")

    app.on_shutdown(bad_stop)
    app.on_shutdown(registered_stop)
    await app.startup()
    with pytest.raises(OSError, match="cannot flush"):
        await app.shutdown()
    assert EVENTS == ["ext:kept:start", "app:registered_stop", "ext:kept:stop"]
    assert "Shutdown hook" in caplog.text


def test_hook_list_orders_by_priority_then_insertion() -> None:
    hooks = HookList()
    names = ["c", "b", "a", "d"]
    for name, priority in zip(names, [0, 5, 0, 5], strict=True):
        hooks.add(lambda n=name: n, priority)
    assert [h.fn() for h in hooks.ordered()] == ["b", "d", "c", "a"]
    assert len(hooks) == 4


class Base(App):
    @on_startup
    async def base_hook(self) -> None:
        EVENTS.append("base")

    @on_startup
    async def overridden(self) -> None:
        EVENTS.append("base-overridden")


class Child(Base):
    @on_startup
    async def child_hook(self) -> None:
        EVENTS.append("child")

    @on_startup
    async def overridden(self) -> None:
        EVENTS.append("child-overridden")


async def test_base_class_hooks_run_first_and_an_override_replaces_its_hook() -> None:
    app = Child()
    await app.startup()
    # An override keeps the place of the method it overrides, and runs once.
    assert EVENTS == ["base", "child-overridden", "child"]
    await app.shutdown()
