"""Streaming responses and NDJSON: chunked bodies, HEAD, disconnects, errors."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator  # noqa: TC003 - handler annotations
from datetime import UTC, datetime
from typing import Any

import anyio
import pytest
from pydantic import BaseModel

from ferrule.core import (
    App,
    Controller,
    NDJSONResponse,
    Request,
    Response,
    StreamingResponse,
    get,
    path,
)
from ferrule.core.testing import TestClient

flags: dict[str, Any] = {}


class Row(BaseModel):
    id: int
    at: datetime


async def chunks() -> AsyncIterator[str | bytes]:
    flags["started"] = True
    try:
        yield "hello, "
        yield b"world"
        yield ""
        yield "!"
    finally:
        flags["finally"] = True


def sync_chunks() -> Iterator[str]:
    flags["thread"] = threading.current_thread() is threading.main_thread()
    yield "a"
    yield "b"


async def rows() -> AsyncIterator[Any]:
    yield Row(id=1, at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    yield {"id": 2, "tags": ["x"]}
    yield [1, "two"]


async def broken() -> AsyncIterator[str]:
    yield "partial"
    raise RuntimeError("iterator failed")


async def not_chunks() -> AsyncIterator[Any]:
    yield 42


@path("/s")
class StreamApi(Controller):
    @get("/text")
    async def text(self) -> Response[Any]:
        return StreamingResponse(chunks(), media_type="text/plain", status_code=201)

    @get("/bytes")
    async def raw(self) -> Response[Any]:
        return StreamingResponse(chunks())

    @get("/sync")
    async def sync(self) -> Response[Any]:
        return StreamingResponse(sync_chunks())

    @get("/list")
    async def listed(self) -> Response[Any]:
        return StreamingResponse(["x", b"y"], headers={"X-Kind": "list"})

    @get("/ndjson")
    async def ndjson(self, req: Request) -> Response[Any]:
        req.response.set_header("X-Total", "3").set_cookie("seen", "1").status(202)
        return req.response.ndjson(rows())

    @get("/ndjson-class")
    async def ndjson_class(self) -> Response[Any]:
        return NDJSONResponse(rows())

    @get("/broken")
    async def broken(self) -> Response[Any]:
        return StreamingResponse(broken())

    @get("/wrong-type")
    async def wrong_type(self) -> Response[Any]:
        return StreamingResponse(not_chunks())

    @get("/forever")
    async def forever(self) -> Response[Any]:
        async def gen() -> AsyncIterator[str]:
            try:
                yield "first"
                await anyio.sleep_forever()
                yield "never"
            finally:
                flags["forever-finally"] = True

        return StreamingResponse(gen())


@pytest.fixture(autouse=True)
def _reset() -> None:
    flags.clear()


@pytest.fixture
async def client() -> AsyncIterator[TestClient]:
    async with TestClient(App(controllers=[StreamApi])) as c:
        yield c


async def test_streams_async_iterator_chunks(client: TestClient) -> None:
    res = await client.get("/s/text")
    assert res.status_code == 201
    assert res.text == "hello, world!"
    assert res.headers["content-type"] == "text/plain; charset=utf-8"
    assert "content-length" not in res.headers
    assert res.headers["x-request-id"]
    assert flags == {"started": True, "finally": True}


async def test_default_media_type_is_octet_stream(client: TestClient) -> None:
    res = await client.get("/s/bytes")
    assert res.content == b"hello, world!"
    assert res.headers["content-type"] == "application/octet-stream"


async def test_sync_iterator_runs_in_a_worker_thread(client: TestClient) -> None:
    res = await client.get("/s/sync")
    assert res.text == "ab"
    assert flags["thread"] is False


async def test_list_of_chunks_and_headers(client: TestClient) -> None:
    res = await client.get("/s/list")
    assert res.content == b"xy"
    assert res.headers["x-kind"] == "list"


async def test_ndjson_one_value_per_line(client: TestClient) -> None:
    res = await client.get("/s/ndjson")
    assert res.status_code == 202
    assert res.headers["content-type"] == "application/x-ndjson"
    assert res.headers["x-total"] == "3"
    assert res.headers["set-cookie"].startswith("seen=1;")
    assert res.text == ('{"id":1,"at":"2026-01-02T03:04:05Z"}\n{"id":2,"tags":["x"]}\n[1,"two"]\n')
    assert (await client.get("/s/ndjson-class")).text.count("\n") == 3


async def test_head_sends_no_body_and_does_not_iterate(client: TestClient) -> None:
    res = await client.head("/s/text")
    assert res.status_code == 201
    assert res.content == b""
    assert res.headers["content-type"] == "text/plain; charset=utf-8"
    assert "started" not in flags


async def test_non_chunk_item_is_an_error() -> None:
    with pytest.raises(TypeError, match="chunks must be str or bytes"):
        await _call(App(controllers=[StreamApi]), "/s/wrong-type")


def test_constructor_refuses_non_iterators() -> None:
    with pytest.raises(TypeError, match="needs an iterator of chunks"):
        StreamingResponse("not a stream")  # type: ignore[arg-type]


async def _call(app: App, target: str, **hooks: Any) -> list[dict[str, Any]]:
    """Run one GET at the ASGI level, returning the messages sent."""
    sent: list[dict[str, Any]] = []
    disconnect = hooks.get("disconnect_after_first_chunk", False)
    first_chunk = anyio.Event()
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        if disconnect:
            await first_chunk.wait()
        else:
            await anyio.sleep_forever()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and message.get("body"):
            first_chunk.set()

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
    return sent


async def test_iterator_error_aborts_the_response() -> None:
    app = App(controllers=[StreamApi])
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        await anyio.sleep_forever()
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/s/broken",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"localhost")],
    }
    with pytest.raises(RuntimeError, match="iterator failed"):
        await app(scope, receive, send)
    bodies = [m for m in messages if m["type"] == "http.response.body"]
    # The partial chunk went out, but the body was never completed (no final chunk).
    assert bodies == [{"type": "http.response.body", "body": b"partial", "more_body": True}]


async def test_disconnect_stops_the_iterator() -> None:
    app = App(controllers=[StreamApi])
    sent = await _call(app, "/s/forever", disconnect_after_first_chunk=True)
    assert flags["forever-finally"] is True
    start, *bodies = sent
    assert start["status"] == 200
    assert all(name != b"content-length" for name, _ in start["headers"])
    assert bodies == [{"type": "http.response.body", "body": b"first", "more_body": True}]
