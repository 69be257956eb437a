"""WebSockets and SSE through a real uvicorn server on loopback, with real clients.

The in-process TestClient proves the framework's side; this proves the wire:
the handshake refusals a browser would see, close codes, and that an SSE
stream is delivered incrementally and stopped when the client goes away.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from ferrule.core import App, Controller, HTTPException, Request, Response, WebSocket, get, guard
from ferrule.core import path as route_path
from ferrule.core import socket as ws_route

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

stream_state: dict[str, Any] = {}


async def token_required(req: Request) -> None:
    if req.query_params.get("token") != "secret":
        raise HTTPException(401, "Token required")


@route_path("/live")
class LiveApi(Controller):
    @ws_route("/echo")
    async def echo(self, ws: WebSocket) -> None:
        await ws.accept()
        async for text in ws.iter_text():
            await ws.send_text(f"echo: {text}")

    @ws_route("/private")
    @guard(token_required)
    async def private(self, ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("welcome")

    @ws_route("/boom")
    async def boom(self, ws: WebSocket) -> None:
        await ws.accept()
        await ws.receive_text()
        raise RuntimeError("handler exploded")

    @get("/events")
    async def events(self, req: Request) -> Response[Any]:
        async def gen() -> AsyncIterator[str]:
            try:
                yield "first"
                stream_state["waiting"].set()
                await asyncio.Event().wait()  # never set: only a disconnect ends it
            finally:
                stream_state["finally"].set()

        return req.response.sse(gen())


@contextlib.asynccontextmanager
async def serve(**config: Any) -> AsyncIterator[int]:
    app = App({"LOGGING_CONFIGURE": False, "ACCESS_LOG": False, **config}, controllers=[LiveApi])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
                await asyncio.sleep(0.01)
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        await task


async def test_echo_over_a_real_server() -> None:
    async with serve() as port, connect(f"ws://127.0.0.1:{port}/live/echo") as client:
        await client.send("hello")
        assert await client.recv() == "echo: hello"


async def test_cross_site_origin_is_refused_on_the_wire() -> None:
    async with serve() as port:
        with pytest.raises(InvalidStatus) as info:
            async with connect(f"ws://127.0.0.1:{port}/live/echo", origin="https://evil.example"):
                pass
        assert info.value.response.status_code == 403
        # Same origin is fine.
        async with connect(
            f"ws://127.0.0.1:{port}/live/echo", origin=f"http://127.0.0.1:{port}"
        ) as client:
            await client.send("x")
            assert await client.recv() == "echo: x"


async def test_guard_and_unknown_path_refuse_the_handshake() -> None:
    async with serve() as port:
        for target in ("/live/private", "/nowhere"):
            with pytest.raises(InvalidStatus) as info:
                async with connect(f"ws://127.0.0.1:{port}{target}"):
                    pass
            assert info.value.response.status_code == 403
        async with connect(f"ws://127.0.0.1:{port}/live/private?token=secret") as client:
            assert await client.recv() == "welcome"


async def test_denial_response_carries_status_and_error_body() -> None:
    async with serve(WEBSOCKET_DENIAL_RESPONSE=True) as port:
        with pytest.raises(InvalidStatus) as info:
            async with connect(f"ws://127.0.0.1:{port}/live/private"):
                pass
        response = info.value.response
        assert response.status_code == 401
        assert b'"message":"Token required"' in response.body


async def test_handler_error_closes_1011() -> None:
    async with serve() as port, connect(f"ws://127.0.0.1:{port}/live/boom") as client:
        await client.send("go")
        with pytest.raises(ConnectionClosed) as info:
            await client.recv()
        assert info.value.rcvd is not None
        assert info.value.rcvd.code == 1011


async def test_sse_streams_incrementally_and_stops_on_disconnect() -> None:
    stream_state["waiting"] = asyncio.Event()
    stream_state["finally"] = asyncio.Event()
    async with serve() as port, httpx.AsyncClient() as client:
        async with client.stream("GET", f"http://127.0.0.1:{port}/live/events") as res:
            assert res.headers["content-type"] == "text/event-stream"
            assert "content-length" not in res.headers
            chunks = res.aiter_raw()
            # Delivered while the generator is still running: really streamed.
            assert await anext(chunks) == b"data: first\n\n"
            async with asyncio.timeout(5):
                await stream_state["waiting"].wait()
        # Leaving the block closed the connection: the generator must be stopped.
        async with asyncio.timeout(5):
            await stream_state["finally"].wait()
