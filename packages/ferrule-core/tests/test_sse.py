"""Server-Sent Events: framing, headers, keep-alive, disconnect, injection."""

from __future__ import annotations

from collections.abc import AsyncIterator  # noqa: TC003 - handler annotations are resolved
from typing import Any

import anyio
import pytest
from pydantic import BaseModel

from ferrule.core import (
    App,
    Controller,
    EventSourceResponse,
    Request,
    Response,
    ServerSentEvent,
    get,
    path,
)
from ferrule.core.testing import TestClient

state: dict[str, Any] = {}


class Tick(BaseModel):
    n: int


async def mixed() -> AsyncIterator[Any]:
    state["started"] = True
    yield "plain"
    yield "two\nlines"
    yield {"a": 1}
    yield Tick(n=2)
    yield ServerSentEvent("done", event="end", id=7, retry=1500)


@path("/events")
class EventsApi(Controller):
    @get("/")
    async def events(self, req: Request) -> Response[Any]:
        req.response.set_header("X-Stream", "yes")
        return req.response.sse(mixed())

    @get("/slow")
    async def slow(self, req: Request) -> Response[Any]:
        async def gen() -> AsyncIterator[str]:
            yield "first"
            await state["pinged"].wait()  # released by the test when a ping arrives
            yield "second"

        return req.response.sse(gen())

    @get("/endless")
    async def endless(self, req: Request) -> Response[Any]:
        async def gen() -> AsyncIterator[str]:
            try:
                yield "first"
                await anyio.sleep_forever()
                yield "never"
            finally:
                state["finally"] = True

        return req.response.sse(gen())

    @get("/blocked")
    async def blocked(self, req: Request) -> Response[Any]:
        async def gen() -> AsyncIterator[str]:
            try:
                for i in range(1000):
                    yield str(i)
            finally:
                state["blocked-finally"] = True

        return EventSourceResponse(gen(), keepalive=None)


@pytest.fixture(autouse=True)
def _reset() -> None:
    state.clear()


def make_app(**config: Any) -> App:
    return App(config, controllers=[EventsApi])


# -- framing ---------------------------------------------------------------------------


def test_event_framing() -> None:
    assert ServerSentEvent("hi").encode() == b"data: hi\n\n"
    assert ServerSentEvent("a\nb\r\nc\rd").encode() == b"data: a\ndata: b\ndata: c\ndata: d\n\n"
    assert ServerSentEvent({"x": [1]}).encode() == b'data: {"x":[1]}\n\n'
    assert (
        ServerSentEvent("v", event="update", id="42", retry=3000, comment="note").encode()
        == b": note\nid: 42\nevent: update\nretry: 3000\ndata: v\n\n"
    )
    assert ServerSentEvent("").encode() == b"data: \n\n"
    assert ServerSentEvent().encode() == b""


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"event": "x\ndata: injected"}, "event type"),
        ({"event": "x\rretry: 1"}, "event type"),
        ({"id": "1\nevent: admin"}, "SSE id"),
        ({"id": "a\0b"}, "SSE id"),
        ({"retry": -1}, "retry"),
    ],
)
def test_fields_cannot_inject_lines(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ServerSentEvent("data", **kwargs)


async def test_sse_response_body_and_headers() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/events")
    assert res.status_code == 200
    assert res.headers["content-type"] == "text/event-stream"
    assert res.headers["cache-control"] == "no-cache"
    assert res.headers["x-accel-buffering"] == "no"
    assert res.headers["x-stream"] == "yes"
    assert "content-length" not in res.headers
    assert res.text == (
        "data: plain\n\n"
        "data: two\ndata: lines\n\n"
        'data: {"a":1}\n\n'
        'data: {"n":2}\n\n'
        "id: 7\nevent: end\nretry: 1500\ndata: done\n\n"
    )


async def test_head_sends_headers_only() -> None:
    async with TestClient(make_app()) as client:
        res = await client.head("/events")
    assert res.status_code == 200
    assert res.headers["content-type"] == "text/event-stream"
    assert res.content == b""
    assert "started" not in state


# -- keep-alive and disconnect (ASGI level) ----------------------------------------------


async def _run(
    app: App, target: str, on_chunk: Any = None, disconnect: anyio.Event | None = None
) -> list[bytes]:
    chunks: list[bytes] = []
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b""}
        if disconnect is None:
            await anyio.sleep_forever()
        else:
            await disconnect.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            chunks.append(message["body"])
            if on_chunk is not None:
                await on_chunk(message["body"])

    scope = {
        "type": "http",
        "method": "GET",
        "path": target,
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"localhost")],
    }
    with anyio.fail_after(5):
        await app(scope, receive, send)
    return chunks


async def test_keepalive_comment_while_idle() -> None:
    state["pinged"] = anyio.Event()

    async def on_chunk(body: bytes) -> None:
        if body == b": ping\n\n":
            state["pinged"].set()

    chunks = await _run(make_app(SSE_KEEPALIVE=0.05), "/events/slow", on_chunk)
    assert chunks[0] == b"data: first\n\n"
    assert chunks[1] == b": ping\n\n"
    # Idle until released: only pings between the events, then the end of the body.
    assert set(chunks[1:-2]) == {b": ping\n\n"}
    assert chunks[-2:] == [b"data: second\n\n", b""]


async def test_disconnect_runs_the_generators_finally() -> None:
    gone = anyio.Event()

    async def on_chunk(body: bytes) -> None:
        if body == b"data: first\n\n":
            gone.set()

    chunks = await _run(make_app(), "/events/endless", on_chunk, gone)
    assert state["finally"] is True
    assert chunks == [b"data: first\n\n"]  # no end-of-body after the client left


async def test_disconnect_while_generator_waits_at_yield() -> None:
    """The client stops reading and leaves: the generator paused at ``yield`` is closed."""
    gone = anyio.Event()

    async def on_chunk(body: bytes) -> None:
        if body == b"data: 1\n\n":
            gone.set()
            await anyio.sleep_forever()  # the transport blocks: nothing more is read

    chunks = await _run(make_app(), "/events/blocked", on_chunk, gone)
    assert state["blocked-finally"] is True
    assert chunks == [b"data: 0\n\n", b"data: 1\n\n"]


def test_keepalive_can_be_disabled() -> None:
    app = make_app(SSE_KEEPALIVE=None)
    req = Request(
        {"type": "http", "path": "/", "headers": [(b"host", b"localhost")]},
        None,  # type: ignore[arg-type]
        app,
    )
    assert EventSourceResponse([]).keepalive(req) == (None, b": ping\n\n")
    assert EventSourceResponse([], keepalive=2.0).keepalive(req) == (2.0, b": ping\n\n")
    assert make_app().config.SSE_KEEPALIVE == 15.0
