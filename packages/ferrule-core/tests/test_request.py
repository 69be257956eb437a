"""The Request object, and the body size limit enforced while reading."""

import json
from typing import Any

import pytest
from pydantic import BaseModel

from ferrule.core import App, Controller, Request, Response, get, path, post
from ferrule.core.testing import TestClient


class Note(BaseModel):
    text: str


@path("/r")
class RequestApi(Controller):
    @get("/<int:item_id>/info")
    async def info(self, req: Request, item_id: int) -> dict[str, Any]:
        req.state.seen = True
        return {
            "method": req.method,
            "path": req.path,
            "route_parameters": req.route_parameters,
            "content_type": req.headers["CONTENT-type"],
            "custom": req.headers.getlist("x-multi"),
            "first_custom": req.headers["X-Multi"],
            "tags": req.query_params.getlist("tag"),
            "last_tag": req.query_params["tag"],
            "cookies": req.cookies,
            "client": list(req.client) if req.client else None,
            "state": req.state.seen,
            "same_app": req.app is self.app,
            "response_is_builder": isinstance(req.response, Response),
        }

    @post("/echo")
    async def echo(self, req: Request) -> dict[str, Any]:
        raw = await req.body()
        again = await req.body()
        data = await req.json()
        return {"raw": raw.decode(), "cached": raw is again, "json": data}

    @post("/size")
    async def size(self, req: Request) -> dict[str, int]:
        return {"size": len(await req.body())}

    @post("/stream")
    async def stream(self, req: Request) -> dict[str, Any]:
        sizes = [len(chunk) async for chunk in req.stream()]
        return {"chunks": sizes}

    @post("/note")
    async def note(self, note: Note) -> dict[str, str]:
        return {"text": note.text}

    @post("/json")
    async def parse(self, req: Request) -> dict[str, Any]:
        return {"json": await req.json()}


def make_app(**config: Any) -> App:
    return App(config=config or None, controllers=[RequestApi])


async def test_request_attributes() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get(
            "/r/7/info?tag=a&tag=b",
            headers=[
                ("Content-Type", "text/plain"),
                ("X-Multi", "one"),
                ("X-Multi", "two"),
                ("Cookie", 'session=abc; quoted="a b"; flag'),
            ],
        )
    assert res.status_code == 200
    assert res.json() == {
        "method": "GET",
        "path": "/r/7/info",
        "route_parameters": {"item_id": 7},
        "content_type": "text/plain",
        "custom": ["one", "two"],
        "first_custom": "one",
        "tags": ["a", "b"],
        "last_tag": "b",
        "cookies": {"session": "abc", "quoted": "a b"},
        "client": ["127.0.0.1", 50000],
        "state": True,
        "same_app": True,
        "response_is_builder": True,
    }


async def test_body_and_json_are_read_once_and_cached() -> None:
    async with TestClient(make_app()) as client:
        res = await client.post("/r/echo", json={"a": [1, 2]})
    assert res.json() == {"raw": '{"a":[1,2]}', "cached": True, "json": {"a": [1, 2]}}


async def test_malformed_json_through_req_json_is_400() -> None:
    async with TestClient(make_app()) as client:
        res = await client.post(
            "/r/json", content=b"{nope", headers={"Content-Type": "application/json"}
        )
    assert res.status_code == 400
    assert res.json()["message"].startswith("Malformed JSON body")
    assert res.json()["status"] == "error"


# -- the body limit, through the client ------------------------------------------------


async def test_body_over_max_body_size_is_413() -> None:
    async with TestClient(make_app(MAX_BODY_SIZE=100)) as client:
        ok = await client.post("/r/size", content=b"x" * 100)
        too_big = await client.post("/r/size", content=b"x" * 101)
        model = await client.post("/r/note", json={"text": "y" * 200})
    assert ok.json() == {"size": 100}
    assert too_big.status_code == 413
    assert too_big.json() == {
        "status": "error",
        "message": "Request body exceeds the limit of 100 bytes",
        "errors": [],
    }
    assert model.status_code == 413


async def test_invalid_content_length_is_400() -> None:
    status, _, body = await call(make_app(), "/r/size", [b"x"], content_length=b"ten")
    assert status == 400
    assert body == {"status": "error", "message": "Invalid Content-Length header", "errors": []}


# -- the body limit, driving the ASGI app directly ----------------------------------------


class ChunkedReceive:
    """An ASGI ``receive`` yielding ``chunks`` and counting how often it was called."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.calls = 0

    async def __call__(self) -> dict[str, Any]:
        self.calls += 1
        index = self.calls - 1
        if index >= len(self.chunks):
            return {"type": "http.disconnect"}
        return {
            "type": "http.request",
            "body": self.chunks[index],
            "more_body": index < len(self.chunks) - 1,
        }


async def call(
    app: App,
    url: str,
    chunks: list[bytes],
    *,
    content_length: bytes | None = None,
    method: str = "POST",
    receive: ChunkedReceive | None = None,
) -> tuple[int, dict[str, str], Any]:
    headers = [(b"host", b"localhost"), (b"content-type", b"application/json")]
    if content_length is not None:
        headers.append((b"content-length", content_length))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": url,
        "raw_path": url.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1234),
        "server": ("localhost", 80),
    }
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive or ChunkedReceive(chunks), send)
    assert sent, "the app sent no response"
    start, body = sent[0], b"".join(m.get("body", b"") for m in sent[1:])
    headers_out = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], headers_out, json.loads(body) if body else None


LIMIT = 10_000
CHUNK = b"x" * 1_000
MANY = [CHUNK] * 1_000  # 1 MB offered, 100 times the limit


@pytest.mark.parametrize("url", ["/r/size", "/r/note", "/r/stream"])
async def test_large_declared_content_length_is_refused_before_reading(url: str) -> None:
    receive = ChunkedReceive(MANY)
    status, _, body = await call(
        make_app(MAX_BODY_SIZE=LIMIT), url, MANY, content_length=b"1000000", receive=receive
    )
    assert status == 413
    assert body["message"] == f"Request body exceeds the limit of {LIMIT} bytes"
    assert receive.calls == 0


@pytest.mark.parametrize("url", ["/r/size", "/r/note", "/r/stream"])
async def test_body_without_content_length_stops_reading_at_the_limit(url: str) -> None:
    receive = ChunkedReceive(MANY)
    status, _, body = await call(make_app(MAX_BODY_SIZE=LIMIT), url, MANY, receive=receive)
    assert status == 413
    assert body == {
        "status": "error",
        "message": f"Request body exceeds the limit of {LIMIT} bytes",
        "errors": [],
    }
    # One chunk past the limit is enough to know; never the whole megabyte.
    assert receive.calls == LIMIT // len(CHUNK) + 1


async def test_lying_content_length_stops_reading_at_the_limit() -> None:
    receive = ChunkedReceive(MANY)
    status, _, _ = await call(
        make_app(MAX_BODY_SIZE=LIMIT), "/r/size", MANY, content_length=b"10", receive=receive
    )
    assert status == 413
    assert receive.calls == LIMIT // len(CHUNK) + 1


async def test_chunked_body_within_the_limit_is_read_whole() -> None:
    chunks = [b"ab", b"", b"cd", b"e"]
    receive = ChunkedReceive(chunks)
    status, _, body = await call(make_app(), "/r/stream", chunks, receive=receive)
    assert status == 200
    assert body == {"chunks": [2, 2, 1]}
    assert receive.calls == 4


async def test_client_disconnect_while_reading_sends_nothing() -> None:
    app = make_app()
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/r/size",
        "query_string": b"",
        "headers": [(b"host", b"localhost")],
    }
    await app(scope, receive, send)
    assert sent == []


def test_request_type_hints_resolve() -> None:
    import typing

    from ferrule.core import Request
    from ferrule.core.websockets import WebSocket

    assert "route" in typing.get_type_hints(Request)
    assert "route" in typing.get_type_hints(WebSocket)
