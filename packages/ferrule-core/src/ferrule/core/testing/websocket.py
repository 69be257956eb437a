"""An in-process WebSocket client for tests (httpx's ASGI transport has none).

The app runs in a task next to the test, connected by two anyio memory
streams; nothing touches the network.
"""

from __future__ import annotations

import contextlib
import math
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import anyio
from pydantic_core import from_json, to_json

from ..websockets import WebSocketDisconnect

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping, Sequence

    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

    from ..types import ASGIApp, Message

__all__ = ("WebSocketSession", "websocket_connect")

#: Seconds the client waits for the app to finish after it closed the connection.
_EXIT_GRACE = 5.0


class WebSocketSession:
    """The client side of a WebSocket opened by ``TestClient.websocket_connect``.

    Attributes:
        subprotocol: the subprotocol the server accepted, if any.
        headers: extra headers the server sent with its accept.
        close_code: the code of the server's close frame once received.
    """

    def __init__(
        self,
        to_app: MemoryObjectSendStream[Message],
        from_app: MemoryObjectReceiveStream[Message],
    ) -> None:
        self._to_app = to_app
        self._from_app = from_app
        self.subprotocol: str | None = None
        self.headers: dict[str, str] = {}
        self.close_code: int | None = None
        self.close_reason = ""
        self._client_closed = False

    async def send(self, message: Message) -> None:
        """Send a raw ASGI message to the app."""
        await self._to_app.send(message)

    async def send_text(self, data: str) -> None:
        await self.send({"type": "websocket.receive", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        await self.send({"type": "websocket.receive", "bytes": data})

    async def send_json(self, data: Any) -> None:
        await self.send({"type": "websocket.receive", "text": to_json(data).decode()})

    async def receive(self) -> Message:
        """The next message from the app; a close raises ``WebSocketDisconnect``."""
        if self.close_code is not None:
            raise WebSocketDisconnect(self.close_code, self.close_reason)
        try:
            message = await self._from_app.receive()
        except anyio.EndOfStream:
            # The app returned without a close frame: the server drops the connection.
            self.close_code = 1006
            raise WebSocketDisconnect(1006) from None
        if message["type"] == "websocket.close":
            self.close_code = int(message.get("code", 1000))
            self.close_reason = message.get("reason") or ""
            raise WebSocketDisconnect(self.close_code, self.close_reason)
        return message

    async def receive_text(self) -> str:
        message = await self.receive()
        text = message.get("text")
        if text is None:
            raise AssertionError(f"Expected a text message, got {message!r}")
        return str(text)

    async def receive_bytes(self) -> bytes:
        message = await self.receive()
        data = message.get("bytes")
        if data is None:
            raise AssertionError(f"Expected a binary message, got {message!r}")
        return bytes(data)

    async def receive_json(self) -> Any:
        message = await self.receive()
        raw = message.get("text")
        return from_json(raw if raw is not None else message.get("bytes", b""))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection from the client side."""
        if self._client_closed:
            return
        self._client_closed = True
        with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
            await self._to_app.send(
                {"type": "websocket.disconnect", "code": code, "reason": reason}
            )


def _scope(
    app_base_url: str,
    url: str,
    headers: Mapping[str, str] | None,
    default_headers: Sequence[tuple[str, str]],
    subprotocols: Sequence[str],
    client: tuple[str, int],
) -> dict[str, Any]:
    base = urlsplit(app_base_url)
    target = urlsplit(url)
    host = target.netloc or base.netloc
    raw_headers: list[tuple[bytes, bytes]] = []
    given = {k.lower(): v for k, v in (headers or {}).items()}
    merged: dict[str, str] = {k.lower(): v for k, v in default_headers}
    merged.setdefault("host", host)
    merged.update(
        {
            "connection": "upgrade",
            "upgrade": "websocket",
            "sec-websocket-version": "13",
            "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        }
    )
    merged.update(given)
    if subprotocols:
        merged["sec-websocket-protocol"] = ", ".join(subprotocols)
    for key, value in merged.items():
        raw_headers.append((key.encode("latin-1"), value.encode("latin-1")))
    path = target.path or "/"
    return {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": "wss" if base.scheme == "https" else "ws",
        "server": (base.hostname or "localhost", base.port or 80),
        "client": client,
        "root_path": "",
        "path": unquote(path),
        "raw_path": path.encode("latin-1"),
        "query_string": target.query.encode("latin-1"),
        "headers": raw_headers,
        "subprotocols": list(subprotocols),
        "extensions": {},
    }


@contextlib.asynccontextmanager
async def websocket_connect(
    app: ASGIApp,
    url: str,
    *,
    base_url: str,
    headers: Mapping[str, str] | None = None,
    default_headers: Sequence[tuple[str, str]] = (),
    subprotocols: Sequence[str] = (),
    client: tuple[str, int] = ("127.0.0.1", 50000),
) -> AsyncIterator[WebSocketSession]:
    """Open a WebSocket to ``app``; a refused handshake raises ``WebSocketDisconnect``."""
    scope = _scope(base_url, url, headers, default_headers, subprotocols, client)
    to_app, app_inbox = anyio.create_memory_object_stream[Any](math.inf)
    app_outbox, from_app = anyio.create_memory_object_stream[Any](math.inf)
    failure: list[BaseException] = []

    session = WebSocketSession(to_app, from_app)

    async def app_send(message: Message) -> None:
        if session._client_closed and message["type"] == "websocket.send":
            # What servers do on a send to a client that has gone (uvicorn: ClientDisconnected).
            raise OSError("The client closed the WebSocket")
        await app_outbox.send(message)

    async def run_app() -> None:
        async with app_outbox:
            try:
                await app(scope, app_inbox.receive, app_send)
            except Exception as exc:
                failure.append(exc)

    error: Exception | None = None
    async with anyio.create_task_group() as tg:
        tg.start_soon(run_app)
        try:
            await to_app.send({"type": "websocket.connect"})
            await _handshake(session, from_app, failure)
            yield session
            await session.close()
            with anyio.move_on_after(_EXIT_GRACE):
                # Drain what the app still sends until it returns.
                async for _ in from_app:
                    pass
        except Exception as exc:
            # Raised outside the task group, so the caller sees it unwrapped.
            error = exc
        finally:
            tg.cancel_scope.cancel()
            for stream in (to_app, app_inbox, app_outbox, from_app):
                stream.close()
    if error is not None:
        raise error
    if failure:
        raise failure[0]


async def _handshake(
    session: WebSocketSession,
    from_app: MemoryObjectReceiveStream[Message],
    failure: list[BaseException],
) -> None:
    try:
        first = await from_app.receive()
    except anyio.EndOfStream:
        if failure:
            raise failure[0] from None
        raise WebSocketDisconnect(1006, "The app ended the handshake without a reply") from None
    if first["type"] == "websocket.close":
        raise WebSocketDisconnect(int(first.get("code", 1000)), first.get("reason") or "")
    if first["type"] != "websocket.accept":
        raise AssertionError(f"Unexpected first message from the app: {first!r}")
    session.subprotocol = first.get("subprotocol")
    session.headers = {
        k.decode("latin-1"): v.decode("latin-1") for k, v in first.get("headers") or ()
    }
