"""WebSocket connections: the ``WebSocket`` object, ``@socket`` and the Origin check.

A ``@socket("/ws")`` handler is compiled like an HTTP handler (same dependency
injection and ``@guard`` checks, run before the handshake is accepted). Messages
the handler sends go through a bounded queue drained by a background task, so
a client that stops reading cannot make the server buffer without limit.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import anyio
from pydantic_core import from_json, to_json

from .controller import set_meta
from .exceptions import ImproperlyConfiguredError
from .request import Request

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable, Mapping

    from anyio.abc import TaskGroup
    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

    from .app import App
    from .types import Message, Receive, Scope, Send

__all__ = ("WebSocket", "WebSocketDisconnect", "socket")

F = TypeVar("F", bound=Callable[..., Any])

#: Close codes (RFC 6455 7.4.1).
NORMAL = 1000
UNSUPPORTED_DATA = 1003
ABNORMAL = 1006
INVALID_PAYLOAD = 1007
POLICY_VIOLATION = 1008
INTERNAL_ERROR = 1011
#: Ferrule's private code for "no socket route at this path" (4000-4999 are free).
NOT_FOUND = 4404


class WebSocketDisconnect(Exception):
    """The connection is closed: the client left, or the server closed it.

    Attributes:
        code: the WebSocket close code (1000 normal, 1008 policy, 1011 error...).
        reason: the close reason, if any.
    """

    def __init__(self, code: int = NORMAL, reason: str = "") -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason

    def __repr__(self) -> str:
        return f"WebSocketDisconnect(code={self.code}, reason={self.reason!r})"


class _State(enum.Enum):
    CONNECTING = 0
    CONNECTED = 1
    CLOSED = 2


def socket(rule: str = "/", *, name: str | None = None) -> Callable[[F], F]:
    """Handle WebSocket connections on ``rule`` (relative to the controller prefix).

    The handler is ``async``; a parameter annotated ``WebSocket`` receives the
    connection, the others are injected as for HTTP handlers (path, query,
    header and cookie parameters, ``Depends``, app services).

    Example:
        >>> @path("/chat")
        ... class ChatApi(Controller):
        ...     @socket("/ws")
        ...     async def chat(self, ws: WebSocket) -> None:
        ...         await ws.accept()
        ...         async for text in ws.iter_text():
        ...             await ws.send_text(text)
    """
    if not rule.startswith("/"):
        raise ValueError(f"@socket rule must start with '/', got {rule!r}")

    def decorator(fn: F) -> F:
        existing = tuple(fn.__dict__.get("__ferrule_meta__", {}).get("sockets", ()))
        set_meta(fn, "sockets", (*existing, (rule, name)))
        return fn

    return decorator


class WebSocket(Request):
    """A WebSocket connection, handed to ``@socket`` handlers.

    It is a :class:`~ferrule.core.Request` for everything read from the
    handshake (``headers``, ``cookies``, ``query_params``, ``route_parameters``,
    ``state``, ``client``); it has no body.

    Sends are queued (``WEBSOCKET_SEND_QUEUE`` messages) and written by a
    background task. When the queue is full a ``send_*`` waits up to
    ``WEBSOCKET_SEND_TIMEOUT`` seconds; a client that still does not read is
    disconnected with close code 1008 and the ``send_*`` raises
    :class:`WebSocketDisconnect`.
    """

    __slots__ = (
        "_close_code",
        "_queue_in",
        "_queue_out",
        "_send",
        "_send_timeout",
        "_sender_done",
        "_sender_scope",
        "_task_group",
        "_ws_state",
        "accepted_subprotocol",
    )

    #: Lets the binding tell a WebSocket annotation from a Request one.
    is_websocket = True

    def __init__(self, scope: Scope, receive: Receive, send: Send, app: App) -> None:
        super().__init__(scope, receive, app)
        self._send = send
        self._ws_state = _State.CONNECTING
        self._close_code = ABNORMAL
        self._send_timeout: float = app.config.WEBSOCKET_SEND_TIMEOUT
        self._queue_in: MemoryObjectSendStream[Message] | None = None
        self._queue_out: MemoryObjectReceiveStream[Message] | None = None
        self._sender_scope: anyio.CancelScope | None = None
        self._sender_done: anyio.Event | None = None
        # Set by the socket dispatcher: the sender task runs in it.
        self._task_group: TaskGroup | None = None
        self.accepted_subprotocol: str | None = None

    # -- handshake ---------------------------------------------------------------

    @property
    def subprotocols(self) -> list[str]:
        """Subprotocols the client offered (``Sec-WebSocket-Protocol``)."""
        return list(self.scope.get("subprotocols") or ())

    @property
    def connected(self) -> bool:
        return self._ws_state is _State.CONNECTED

    async def accept(
        self, subprotocol: str | None = None, headers: Mapping[str, str] | None = None
    ) -> None:
        """Accept the handshake, optionally choosing a subprotocol and adding headers."""
        if self._ws_state is not _State.CONNECTING:
            raise RuntimeError(f"Cannot accept a WebSocket in state {self._ws_state.name}.")
        if subprotocol is not None and subprotocol not in self.subprotocols:
            raise ValueError(
                f"Subprotocol {subprotocol!r} was not offered by the client "
                f"(offered: {self.subprotocols!r})."
            )
        raw = [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()
        ]
        rid_key = self.app._rid_key
        if rid_key is not None and self.request_id:
            raw.append((rid_key, self.request_id.encode()))
        message: dict[str, Any] = {"type": "websocket.accept", "headers": raw}
        if subprotocol is not None:
            message["subprotocol"] = subprotocol
        await self._send(message)
        self.accepted_subprotocol = subprotocol
        self._ws_state = _State.CONNECTED
        size = self.app.config.WEBSOCKET_SEND_QUEUE
        self._queue_in, self._queue_out = anyio.create_memory_object_stream[Any](size)
        self._sender_done = anyio.Event()
        if self._task_group is None:
            raise RuntimeError("This WebSocket is not served by a Ferrule app.")
        self._task_group.start_soon(self._sender)

    # -- receiving ---------------------------------------------------------------

    async def receive(self) -> Message:
        """The next raw ASGI message; raises :class:`WebSocketDisconnect` on disconnect."""
        if self._ws_state is _State.CONNECTING:
            raise RuntimeError("Call await ws.accept() before receiving.")
        if self._ws_state is _State.CLOSED:
            raise WebSocketDisconnect(self._close_code)
        message = await self._receive()
        if message["type"] == "websocket.disconnect":
            self._ws_state = _State.CLOSED
            self._close_code = int(message.get("code", NORMAL))
            raise WebSocketDisconnect(self._close_code, message.get("reason") or "")
        return message

    async def receive_text(self) -> str:
        """The next text message (a binary message closes the connection with 1003)."""
        message = await self.receive()
        text = message.get("text")
        if text is None:
            await self._fail(UNSUPPORTED_DATA, "Expected a text message")
        return str(text)

    async def receive_bytes(self) -> bytes:
        """The next binary message (a text message closes the connection with 1003)."""
        message = await self.receive()
        data = message.get("bytes")
        if data is None:
            await self._fail(UNSUPPORTED_DATA, "Expected a binary message")
        return bytes(data or b"")

    async def receive_json(self) -> Any:
        """The next message parsed as JSON (text or binary); malformed JSON closes with 1007."""
        message = await self.receive()
        raw = message.get("text")
        if raw is None:
            raw = message.get("bytes") or b""
        try:
            return from_json(raw)
        except ValueError:
            await self._fail(INVALID_PAYLOAD, "Malformed JSON message")

    async def iter_text(self) -> AsyncIterator[str]:
        """Yield text messages until the client disconnects."""
        try:
            while True:
                yield await self.receive_text()
        except WebSocketDisconnect:
            return

    async def iter_json(self) -> AsyncIterator[Any]:
        """Yield JSON messages until the client disconnects."""
        try:
            while True:
                yield await self.receive_json()
        except WebSocketDisconnect:
            return

    async def _fail(self, code: int, reason: str) -> Any:
        await self.close(code, reason)
        raise WebSocketDisconnect(code, reason)

    # -- sending -----------------------------------------------------------------

    async def send_text(self, data: str) -> None:
        """Queue a text message."""
        await self._enqueue({"type": "websocket.send", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        """Queue a binary message."""
        await self._enqueue({"type": "websocket.send", "bytes": bytes(data)})

    async def send_json(self, data: Any) -> None:
        """Queue ``data`` serialized as JSON (pydantic models included) in a text message."""
        await self._enqueue({"type": "websocket.send", "text": to_json(data).decode()})

    async def _enqueue(self, message: Message) -> None:
        if self._ws_state is _State.CONNECTING:
            raise RuntimeError("Call await ws.accept() before sending.")
        queue = self._queue_in
        if self._ws_state is _State.CLOSED or queue is None:
            raise WebSocketDisconnect(self._close_code)
        try:
            queue.send_nowait(message)
            return
        except anyio.WouldBlock:
            pass
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            raise WebSocketDisconnect(self._close_code) from None
        with anyio.move_on_after(self._send_timeout):
            try:
                await queue.send(message)
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                raise WebSocketDisconnect(self._close_code) from None
            return
        # The client has not read for WEBSOCKET_SEND_TIMEOUT with a full queue:
        # drop it rather than buffer without limit.
        reason = "Client too slow: send queue full"
        await self.close(POLICY_VIOLATION, reason)
        raise WebSocketDisconnect(POLICY_VIOLATION, reason)

    async def _sender(self) -> None:
        assert self._queue_out is not None
        assert self._sender_done is not None
        try:
            with anyio.CancelScope() as scope:
                self._sender_scope = scope
                async with self._queue_out:
                    async for message in self._queue_out:
                        await self._send(message)
        except Exception:
            # The server reports a vanished client by failing the send (OSError).
            self._ws_state = _State.CLOSED
            self._close_code = ABNORMAL
            if self._queue_in is not None:
                self._queue_in.close()
        finally:
            self._sender_done.set()

    @property
    def queued(self) -> int:
        """Messages waiting in the send queue."""
        if self._queue_in is None:
            return 0
        return self._queue_in.statistics().current_buffer_used

    # -- closing -----------------------------------------------------------------

    async def close(self, code: int = NORMAL, reason: str = "") -> None:
        """Close the connection after the queued messages (or refuse the handshake).

        Waits up to ``WEBSOCKET_SEND_TIMEOUT`` for the queue to drain, then closes anyway.
        """
        state = self._ws_state
        if state is _State.CLOSED:
            return
        self._ws_state = _State.CLOSED
        self._close_code = code
        reason = reason.encode()[:123].decode(errors="ignore")  # a close frame's limit
        if state is _State.CONNECTED:
            await self._stop_sender(self._send_timeout)
        with anyio.move_on_after(self._send_timeout), contextlib.suppress(OSError):
            await self._send({"type": "websocket.close", "code": code, "reason": reason})

    async def _stop_sender(self, grace: float) -> None:
        """Let the sender drain the queue for up to ``grace`` seconds, then stop it."""
        if self._queue_in is not None:
            self._queue_in.close()
        done = self._sender_done
        if done is None:
            return
        with anyio.move_on_after(grace):
            await done.wait()
        if not done.is_set():
            if self._sender_scope is not None:
                self._sender_scope.cancel()
            await done.wait()

    async def body(self) -> bytes:
        raise RuntimeError("A WebSocket has no request body; use ws.receive_*().")

    def __repr__(self) -> str:
        return f"<WebSocket {self.path} {self._ws_state.name}>"


# -- Origin check ---------------------------------------------------------------


class OriginPolicy:
    """Which ``Origin`` may open a WebSocket (cross-site WebSocket hijacking protection).

    No ``Origin`` (a non-browser client) is allowed; browsers always send one.
    Otherwise the origin's ``host[:port]`` must equal the ``Host`` header
    (same-origin), or the origin must be listed in ``WEBSOCKET_ALLOWED_ORIGINS``;
    ``"*"`` there allows every origin. On a secure connection (``wss``) the
    same-origin rule also needs an ``https`` origin: a plain-http page of the same
    host (which anyone on the network can inject into) must not reach it. On ``ws``
    both schemes pass, since a TLS-terminating proxy that does not forward the
    scheme makes an https page's connection arrive as ``ws``.
    """

    __slots__ = ("_any", "_origins")

    def __init__(self, allowed: Iterable[str]) -> None:
        origins: set[str] = set()
        self._any = False
        for entry in allowed:
            if entry == "*":
                self._any = True
                continue
            parts = urlsplit(entry)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/"):
                raise ImproperlyConfiguredError(
                    f"WEBSOCKET_ALLOWED_ORIGINS entry {entry!r} is not an origin; list "
                    "origins as scheme://host[:port] (e.g. 'https://app.example.com') "
                    "or '*' to allow any site."
                )
            origins.add(f"{parts.scheme}://{parts.netloc}".lower())
        self._origins = origins

    def allows(self, origin: bytes | None, host: bytes | None, *, secure: bool) -> bool:
        if origin is None or self._any:
            return True
        value = origin.decode("latin-1").strip().lower().rstrip("/")
        if value in self._origins:
            return True
        parts = urlsplit(value)
        return (
            (parts.scheme == "https" if secure else parts.scheme in ("http", "https"))
            and host is not None
            and parts.netloc == host.decode("latin-1").lower()
        )
